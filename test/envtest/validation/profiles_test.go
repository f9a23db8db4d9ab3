package validation

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// Every profile's defaults against every rule. The CEL rules repeat the profile defaults of
// defaults.go; here the expected answers come from platformv1alpha1.DefaultsFor, so a CEL
// expression that disagrees with defaults.go fails a spec.

var allProfiles = []platformv1alpha1.Profile{portal, idv, hospital, custom}

// minimal is the smallest PublicService of a profile that the docs tell a user to write: an
// image, plus a host and TLS when the default exposure is Public (Portal), plus a zone in
// allowFrom when it is CityNetwork (HospitalCheckIn).
func minimal(p platformv1alpha1.Profile) *testutil.PublicServiceWrapper {
	b := publicService(p)
	switch platformv1alpha1.DefaultsFor(p).Exposure {
	case public:
		b.Host(testHost).TLS(testTLSSecret)
	case cityNetwork:
		b.AllowFromZone("hospital-lan")
	}
	return b
}

// A variation changes a profile's minimal object. want gives the API server's answer from the
// profile's defaults, never from its name, except for the rule that is about the
// IdentityVerification profile itself. A minimal object has a zone exactly when its default
// exposure is CityNetwork, so "d.Exposure == cityNetwork" also means "has a zone".
type variation struct {
	name    string
	applies func(d platformv1alpha1.ProfileDefaults) bool // nil: every profile
	change  func(b *testutil.PublicServiceWrapper, d platformv1alpha1.ProfileDefaults)
	want    func(p platformv1alpha1.Profile, d platformv1alpha1.ProfileDefaults) []violation
}

// when returns vs if cond holds, else nothing.
func when(cond bool, vs ...violation) []violation {
	if cond {
		return vs
	}
	return nil
}

func accept(platformv1alpha1.Profile, platformv1alpha1.ProfileDefaults) []violation { return nil }

var variations = []variation{{
	name:   "as documented",
	change: func(*testutil.PublicServiceWrapper, platformv1alpha1.ProfileDefaults) {},
	want:   accept,
}, {
	name: "+ dataClassification Restricted",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) {
		b.Classification(restricted)
	},
	want: func(_ platformv1alpha1.Profile, d platformv1alpha1.ProfileDefaults) []violation {
		return when(d.Exposure == public, restrictedNotPublic)
	},
}, {
	name: "+ its default dataClassification written out",
	change: func(b *testutil.PublicServiceWrapper, d platformv1alpha1.ProfileDefaults) {
		b.Classification(d.Classification)
	},
	want: accept,
}, {
	name: "+ an allowFrom zone",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) {
		b.AllowFromZone("kiosk-net")
	},
	want: func(_ platformv1alpha1.Profile, d platformv1alpha1.ProfileDefaults) []violation {
		return when(d.Exposure != cityNetwork, zoneNeedsCityNetwork)
	},
}, {
	name: "with exposure.tls and no exposure.host",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) {
		b.Host("").TLS(testTLSSecret)
	},
	want: func(_ platformv1alpha1.Profile, d platformv1alpha1.ProfileDefaults) []violation {
		return when(d.Exposure == public, publicNeedsHostAndTLS)
	},
}, {
	name: "with exposure.host and no exposure.tls",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) {
		b.Host(testHost).WithoutTLS()
	},
	want: func(_ platformv1alpha1.Profile, d platformv1alpha1.ProfileDefaults) []violation {
		return when(d.Exposure == public, publicNeedsHostAndTLS)
	},
}, {
	name:   "with no allowFrom",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) { b.WithoutAllowFrom() },
	want: func(_ platformv1alpha1.Profile, d platformv1alpha1.ProfileDefaults) []violation {
		return when(d.Exposure == cityNetwork, cityNetworkNeedsZone)
	},
}, {
	name: "with only a service in allowFrom",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) {
		b.WithoutAllowFrom().AllowFromService("reception", "")
	},
	want: func(_ platformv1alpha1.Profile, d platformv1alpha1.ProfileDefaults) []violation {
		return when(d.Exposure == cityNetwork, cityNetworkNeedsZone)
	},
}, {
	name: "+ replicas.min = default max + 1, no max",
	change: func(b *testutil.PublicServiceWrapper, d platformv1alpha1.ProfileDefaults) {
		b.MinReplicas(d.MaxReplicas + 1)
	},
	want: func(platformv1alpha1.Profile, platformv1alpha1.ProfileDefaults) []violation {
		return []violation{replicasMinAboveMax}
	},
}, {
	name: "+ replicas.min = default max, no max",
	change: func(b *testutil.PublicServiceWrapper, d platformv1alpha1.ProfileDefaults) {
		b.MinReplicas(d.MaxReplicas)
	},
	want: accept,
}, {
	name:    "+ replicas.max = default min - 1, no min",
	applies: func(d platformv1alpha1.ProfileDefaults) bool { return d.MinReplicas-1 >= 1 },
	change: func(b *testutil.PublicServiceWrapper, d platformv1alpha1.ProfileDefaults) {
		b.MaxReplicas(d.MinReplicas - 1)
	},
	want: func(platformv1alpha1.Profile, platformv1alpha1.ProfileDefaults) []violation {
		return []violation{replicasMinAboveMax}
	},
}, {
	name: "+ replicas.max = default min, no min",
	change: func(b *testutil.PublicServiceWrapper, d platformv1alpha1.ProfileDefaults) {
		b.MaxReplicas(d.MinReplicas)
	},
	want: accept,
}, {
	name: "+ replicas.min and max both default max + 1",
	change: func(b *testutil.PublicServiceWrapper, d platformv1alpha1.ProfileDefaults) {
		b.MinReplicas(d.MaxReplicas + 1).MaxReplicas(d.MaxReplicas + 1)
	},
	want: accept,
}, {
	name:   "+ an empty replicas block",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) { b.EmptyReplicas() },
	want:   accept,
}, {
	name:   "+ its default exposure.mode written out",
	change: func(b *testutil.PublicServiceWrapper, d platformv1alpha1.ProfileDefaults) { b.Exposure(d.Exposure) },
	want:   accept,
}, {
	name: "+ exposure.mode Public with host and TLS",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) {
		b.Exposure(public).Host(testHost).TLS(testTLSSecret)
	},
	want: func(p platformv1alpha1.Profile, d platformv1alpha1.ProfileDefaults) []violation {
		var want []violation
		want = append(want, when(p == idv, idvNotPublic)...)
		want = append(want, when(d.Classification == restricted, restrictedNotPublic)...)
		return append(want, when(d.Exposure == cityNetwork, zoneNeedsCityNetwork)...)
	},
}, {
	name:   "+ exposure.mode Internal",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) { b.Exposure(internal) },
	want: func(_ platformv1alpha1.Profile, d platformv1alpha1.ProfileDefaults) []violation {
		return when(d.Exposure == cityNetwork, zoneNeedsCityNetwork)
	},
}, {
	name: "+ exposure.mode CityNetwork and a zone",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) {
		b.Exposure(cityNetwork).AllowFromZone("kiosk-net")
	},
	want: accept,
}, {
	name: "+ dataClassification Restricted, exposure.mode CityNetwork and a zone",
	change: func(b *testutil.PublicServiceWrapper, _ platformv1alpha1.ProfileDefaults) {
		b.Classification(restricted).Exposure(cityNetwork).AllowFromZone("kiosk-net")
	},
	want: accept,
}}

func profileEntries() []TableEntry {
	var out []TableEntry
	for _, p := range allProfiles {
		d := platformv1alpha1.DefaultsFor(p)
		for _, v := range variations {
			if v.applies != nil && !v.applies(d) {
				continue
			}
			b := minimal(p)
			v.change(b, d)
			want := v.want(p, d)
			verb := "accepts"
			if len(want) > 0 {
				verb = "rejects"
			}
			out = append(out, Entry(fmt.Sprintf("%s %s %s", verb, p, v.name), b.Obj(), want))
		}
	}
	return out
}

var _ = Describe("Every profile's defaults against every rule", func() {
	DescribeTable("a profile's minimal object, changed",
		func(ctx SpecContext, obj *platformv1alpha1.PublicService, want []violation) {
			expectAnswer(ctx, obj, want)
		}, profileEntries())

	DescribeTable("stores a profile's minimal object as written (no schema defaults)",
		func(ctx SpecContext, p platformv1alpha1.Profile) {
			sent := minimal(p).Name("minimal-" + strings.ToLower(string(p))).Obj()
			Expect(k8sClient.Create(ctx, sent.DeepCopy())).To(Succeed())
			DeferCleanup(func(ctx SpecContext) { Expect(k8sClient.Delete(ctx, sent)).To(Succeed()) })

			var stored platformv1alpha1.PublicService
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(sent), &stored)).To(Succeed())
			Expect(stored.Spec).To(Equal(sent.Spec))
		},
		Entry(string(portal), portal), Entry(string(idv), idv),
		Entry(string(hospital), hospital), Entry(string(custom), custom))
})
