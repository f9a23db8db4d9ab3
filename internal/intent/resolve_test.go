package intent

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

func world(svcs []*platformv1alpha1.PublicService, zones []*platformv1alpha1.NetworkZone, nsLabels map[string]string) World {
	w := World{Services: map[types.NamespacedName]*platformv1alpha1.PublicService{}, Zones: map[string]*platformv1alpha1.NetworkZone{}, NamespaceLabels: nsLabels}
	for _, s := range svcs {
		w.Services[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	for _, z := range zones {
		w.Zones[z.Name] = z
	}
	return w
}

func TestResolveConsent(t *testing.T) {
	provider := func(admits bool) *platformv1alpha1.PublicService {
		b := testutil.PublicService("vneid", "identity").Profile(platformv1alpha1.ProfileIdentityVerification).Port(9443)
		if admits {
			b = b.AllowFromService("portal", "portal")
		}
		return b.Obj()
	}
	consumer := func(consumes bool) *platformv1alpha1.PublicService {
		b := testutil.PublicService("portal", "portal")
		if consumes {
			b = b.Consumes("vneid", "identity")
		}
		return b.Obj()
	}
	portalKey := types.NamespacedName{Namespace: "portal", Name: "portal"}
	cases := []struct {
		name             string
		consumes, admits bool
		wantConsumer     Resolved
		wantProvider     Resolved
	}{
		{
			name: "both sides agree", consumes: true, admits: true,
			wantConsumer: Resolved{EgressServices: []ServicePeer{{"identity", "vneid", 9443}}},
			wantProvider: Resolved{IngressServices: []ServicePeer{{"portal", "portal", 9443}}},
		},
		{
			name: "consumer declares, provider does not admit", consumes: true, admits: false,
			wantConsumer: Resolved{Problems: []Problem{{platformv1alpha1.ReasonConsentMissing,
				"identity/vneid does not admit portal/portal: its spec.allowFrom needs {service: portal, namespace: portal} or {namespace: portal}"}}},
			wantProvider: Resolved{Unadmitted: []types.NamespacedName{portalKey}},
		},
		{
			name: "provider admits, consumer does not consume", consumes: false, admits: true,
		},
		{
			name: "neither", consumes: false, admits: false,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, c := provider(tc.admits), consumer(tc.consumes)
			w := world([]*platformv1alpha1.PublicService{p, c}, nil, nil)
			if diff := cmp.Diff(tc.wantConsumer, Resolve(c, w)); diff != "" {
				t.Errorf("consumer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantProvider, Resolve(p, w)); diff != "" {
				t.Errorf("provider (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolveNamespaceEntry: an allowFrom entry with a namespace alone admits the services of
// that namespace that consume the provider, and only those.
func TestResolveNamespaceEntry(t *testing.T) {
	const provider = "vneid"
	key := func(ns, name string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: name} }
	consumer := func(name, ns string) *platformv1alpha1.PublicService {
		return testutil.PublicService(name, ns).Consumes(provider, "identity").Obj()
	}
	bystander := testutil.PublicService("tax", "portal").Obj() // in an admitted namespace, consumes nothing
	cases := []struct {
		name      string
		allowFrom []platformv1alpha1.AllowSource
		want      Resolved
	}{
		{
			name:      "a namespace admits its consumers, not its other services nor other namespaces",
			allowFrom: []platformv1alpha1.AllowSource{{Namespace: "portal"}},
			want: Resolved{
				IngressServices: []ServicePeer{{"portal", "a", 8443}, {"portal", "b", 8443}},
				Unadmitted:      []types.NamespacedName{key("health", "checkin")},
			},
		},
		{
			name:      "a namespace and a service of another namespace",
			allowFrom: []platformv1alpha1.AllowSource{{Namespace: "portal"}, {Service: "checkin", Namespace: "health"}},
			want:      Resolved{IngressServices: []ServicePeer{{"health", "checkin", 8443}, {"portal", "a", 8443}, {"portal", "b", 8443}}},
		},
		{
			name:      "a namespace and a service inside it admit the service once",
			allowFrom: []platformv1alpha1.AllowSource{{Namespace: "health"}, {Service: "checkin", Namespace: "health"}},
			want: Resolved{
				IngressServices: []ServicePeer{{"health", "checkin", 8443}},
				Unadmitted:      []types.NamespacedName{key("portal", "a"), key("portal", "b")},
			},
		},
		{
			name:      "a namespace without consumers admits nobody",
			allowFrom: []platformv1alpha1.AllowSource{{Namespace: "empty"}},
			want:      Resolved{Unadmitted: []types.NamespacedName{key("health", "checkin"), key("portal", "a"), key("portal", "b")}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testutil.PublicService(provider, "identity").Port(8443).AllowFrom(tc.allowFrom...).Obj()
			w := world([]*platformv1alpha1.PublicService{p, consumer("a", "portal"), consumer("b", "portal"), consumer("checkin", "health"), bystander}, nil, nil)
			if diff := cmp.Diff(tc.want, Resolve(p, w)); diff != "" {
				t.Errorf("provider (-want +got):\n%s", diff)
			}
			// Consent is bilateral: each admitted consumer gets its egress, and nobody else does.
			for _, c := range []types.NamespacedName{key("portal", "a"), key("portal", "b"), key("health", "checkin")} {
				got := Resolve(w.Services[c], w)
				admitted := slices.ContainsFunc(tc.want.IngressServices, func(sp ServicePeer) bool { return sp.Key() == c.String() })
				if admitted != (len(got.EgressServices) == 1) {
					t.Errorf("%s: admitted=%v but egress %v, problems %v", c, admitted, got.EgressServices, got.Problems)
				}
			}
			if got := Resolve(bystander, w); len(got.EgressServices) != 0 {
				t.Errorf("a service that does not consume the provider got egress %v", got.EgressServices)
			}
		})
	}
}

func TestAdmits(t *testing.T) {
	p := testutil.PublicService("vneid", "identity").AllowFromNamespace("portal").AllowFromService("checkin", "health").
		AllowFromService("kiosk", "").Obj()
	cases := []struct {
		consumer types.NamespacedName
		want     bool
	}{
		{types.NamespacedName{Namespace: "portal", Name: "anything"}, true},
		{types.NamespacedName{Namespace: "health", Name: "checkin"}, true},
		{types.NamespacedName{Namespace: "health", Name: "other"}, false},
		{types.NamespacedName{Namespace: "identity", Name: "kiosk"}, true},
		{types.NamespacedName{Namespace: "identity", Name: "other"}, false},
	}
	for _, tc := range cases {
		if got := Admits(p, tc.consumer); got != tc.want {
			t.Errorf("Admits(%s) = %v, want %v", tc.consumer, got, tc.want)
		}
	}
	zoneOnly := testutil.PublicService("checkin", "health").AllowFromZone("lan").Obj()
	if Admits(zoneOnly, types.NamespacedName{Namespace: "health", Name: "x"}) {
		t.Errorf("a zone entry admits no service")
	}
}

func TestResolveDependencyNotFound(t *testing.T) {
	c := testutil.PublicService("portal", "portal").Consumes("vneid", "identity").Consumes("tax", "").Obj()
	got := Resolve(c, world([]*platformv1alpha1.PublicService{c}, nil, nil))
	want := Resolved{Problems: []Problem{
		{platformv1alpha1.ReasonDependencyNotFound, "consumed service identity/vneid does not exist"},
		{platformv1alpha1.ReasonDependencyNotFound, "consumed service portal/tax does not exist"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestResolveZones(t *testing.T) {
	hospital := map[string]string{"city.io/network": "hospital"}
	lan := testutil.NetworkZone("hospital-lan").CIDRs("192.168.50.0/24").Except("192.168.50.128/25").AllowNamespaces(hospital).Obj()
	closed := testutil.NetworkZone("population-db").CIDRs("192.168.60.0/24").Obj()
	checkin := func() *platformv1alpha1.PublicService {
		return testutil.PublicService("checkin", "health").Profile(platformv1alpha1.ProfileHospitalCheckIn).
			AllowFromZone("hospital-lan").EgressToZone("population-db", 5432, 443, 443).EgressToZone("missing", 80).Obj()
	}
	cases := []struct {
		name     string
		nsLabels map[string]string
		want     Resolved
	}{
		{
			name: "namespace admitted by one zone", nsLabels: hospital,
			want: Resolved{
				IngressZones: []ZonePeer{{Name: "hospital-lan", CIDRs: []string{"192.168.50.0/24"}, Except: []string{"192.168.50.128/25"}, Ports: []int32{8080}}},
				Problems: []Problem{
					{platformv1alpha1.ReasonZoneNotAllowed, "NetworkZone population-db: spec.allowedNamespaces is empty, so no namespace may use the zone"},
					{platformv1alpha1.ReasonZoneNotFound, "NetworkZone missing does not exist"},
				},
				RefusedZones:    []string{"population-db"},
				ReferencedZones: []string{"hospital-lan", "population-db"},
			},
		},
		{
			name: "namespace not admitted", nsLabels: map[string]string{"city.io/network": "kiosk"},
			want: Resolved{
				Problems: []Problem{
					{platformv1alpha1.ReasonZoneNotAllowed, "NetworkZone hospital-lan: spec.allowedNamespaces (city.io/network=hospital) does not select this namespace"},
					{platformv1alpha1.ReasonZoneNotAllowed, "NetworkZone population-db: spec.allowedNamespaces is empty, so no namespace may use the zone"},
					{platformv1alpha1.ReasonZoneNotFound, "NetworkZone missing does not exist"},
				},
				RefusedZones:    []string{"hospital-lan", "population-db"},
				ReferencedZones: []string{"hospital-lan", "population-db"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Resolve(checkin(), world(nil, []*platformv1alpha1.NetworkZone{lan, closed}, tc.nsLabels))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("egress ports sorted and unique once admitted", func(t *testing.T) {
		open := testutil.NetworkZone("population-db").CIDRs("192.168.60.0/24").AllowNamespaces(hospital).Obj()
		got := Resolve(checkin(), world(nil, []*platformv1alpha1.NetworkZone{lan, open}, hospital))
		want := []ZonePeer{{Name: "population-db", CIDRs: []string{"192.168.60.0/24"}, Ports: []int32{443, 5432}}}
		if diff := cmp.Diff(want, got.EgressZones); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestResolvePublicAndZoneOnlyWithCityNetwork(t *testing.T) {
	portal := testutil.PublicService("portal", "portal").Profile(platformv1alpha1.ProfilePortal).Host("dichvucong.hanoi.gov.vn").TLS("portal-tls").Obj()
	if got := Resolve(portal, world(nil, nil, nil)); !got.IngressGateway {
		t.Errorf("Portal (Public by default) must admit the gateway")
	}
	// A zone on an Internal service is refused by CEL; Resolve never opens it either.
	internal := testutil.PublicService("tax", "tax").AllowFromZone("hospital-lan").Obj()
	lan := testutil.NetworkZone("hospital-lan").CIDRs("192.168.50.0/24").AllowNamespaces(map[string]string{"a": "b"}).Obj()
	if got := Resolve(internal, world(nil, []*platformv1alpha1.NetworkZone{lan}, map[string]string{"a": "b"})); len(got.IngressZones) != 0 || got.IngressGateway {
		t.Errorf("Internal service must admit no zone and no gateway, got %+v", got)
	}
}

func TestResolveDoesNotMutate(t *testing.T) {
	svc := testutil.PublicService("portal", "portal").Consumes("vneid", "").EgressToZone("z", 443, 80).Obj()
	before := svc.DeepCopy()
	Resolve(svc, world(nil, nil, nil))
	if diff := cmp.Diff(before, svc); diff != "" {
		t.Errorf("Resolve mutated its input (-before +after):\n%s", diff)
	}
}

func TestKeys(t *testing.T) {
	svc := testutil.PublicService("checkin", "health").Profile(platformv1alpha1.ProfileHospitalCheckIn).
		Consumes("vneid", "identity").Consumes("records", "").AllowFromService("kiosk", "").AllowFromNamespace("wards").AllowFromZone("lan").EgressToZone("db", 5432).EgressToZone("lan", 80).Obj()
	if diff := cmp.Diff([]string{"identity/vneid", "health/records"}, ConsumedKeys(svc)); diff != "" {
		t.Errorf("ConsumedKeys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"health/kiosk", "wards/*"}, AdmittedKeys(svc)); diff != "" {
		t.Errorf("AdmittedKeys (-want +got):\n%s", diff)
	}
	if !IsNamespaceKey("wards/*") || IsNamespaceKey("health/kiosk") || NamespaceKey("wards") != "wards/*" {
		t.Errorf("namespace keys: IsNamespaceKey or NamespaceKey disagree with AdmittedKeys")
	}
	if diff := cmp.Diff([]string{"db", "lan"}, ZoneNames(svc)); diff != "" {
		t.Errorf("ZoneNames (-want +got):\n%s", diff)
	}
}
