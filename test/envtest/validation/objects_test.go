package validation

import (
	"fmt"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// The objects of this suite start here and are built with internal/testutil's wrappers.

const (
	testImage     = "registry.hanoi.gov.vn/portal:1.4.2"
	testHost      = "dichvucong.hanoi.gov.vn"
	testTLSSecret = "dichvucong-tls"
)

// publicService starts a PublicService named "svc" with the given profile and an image, and
// nothing else: every optional field takes the profile's default.
func publicService(profile platformv1alpha1.Profile) *testutil.PublicServiceWrapper {
	return testutil.PublicService("svc", testNamespace).Profile(profile).Image(testImage)
}

// networkZone starts a NetworkZone named "zone" with the given CIDRs (none is sent as []).
func networkZone(cidrs ...string) *testutil.NetworkZoneWrapper {
	return testutil.NetworkZone("zone").CIDRs(cidrs...)
}

// egressZones adds n egressTo entries to distinct zones.
func egressZones(w *testutil.PublicServiceWrapper, n int) *testutil.PublicServiceWrapper {
	for i := range n {
		w.EgressToZone(fmt.Sprintf("zone-%d", i), 443)
	}
	return w
}
