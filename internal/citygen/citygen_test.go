package citygen

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
)

func yamlOf(t *testing.T, c *City) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteYAML(&b, c.Objects()...); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustGenerate(t *testing.T, o Options) *City {
	t.Helper()
	c, err := Generate(o)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", o, err)
	}
	return c
}

func TestSameSeedSameCity(t *testing.T) {
	o := Options{Services: 440, Seed: 7}
	a, b := mustGenerate(t, o), mustGenerate(t, o)
	if diff := cmp.Diff(yamlOf(t, a), yamlOf(t, b)); diff != "" {
		t.Errorf("two cities from the same seed differ (-first +second):\n%s", diff)
	}
	other := mustGenerate(t, Options{Services: 440, Seed: 8})
	if yamlOf(t, a) == yamlOf(t, other) {
		t.Error("seeds 7 and 8 gave the same city")
	}
}

func TestShapes(t *testing.T) {
	for _, tc := range []struct {
		opts                      Options
		wantNamespaces, wantLarge int
	}{
		{Options{Services: 20}, 3, 0},
		{Options{Services: 440}, 73, 0},
		{Options{Services: 1700}, 283, 0},
		{Options{Services: 440, Namespaces: 10}, 10, 0},
		{Options{Services: 440, Shape: ShapeCrowded}, 25, CrowdedServices},
		{Options{Services: 200, Shape: ShapeCrowded}, 1, 200},
		{Options{Services: 1700, Shape: ShapeCrowded}, 235, CrowdedServices},
	} {
		t.Run(fmt.Sprintf("%d-%s-%d", tc.opts.Services, tc.opts.Shape, tc.opts.Namespaces), func(t *testing.T) {
			c := mustGenerate(t, tc.opts)
			got := map[string]int{}
			for _, s := range c.Services {
				got[s.Namespace]++
			}
			if len(c.Namespaces) != tc.wantNamespaces || len(got) != tc.wantNamespaces {
				t.Errorf("%d namespaces, %d of them with services; want %d", len(c.Namespaces), len(got), tc.wantNamespaces)
			}
			if c.Stats.Services != tc.opts.Services || len(c.Services) != tc.opts.Services {
				t.Errorf("%d services (stats %d), want %d", len(c.Services), c.Stats.Services, tc.opts.Services)
			}
			if tc.wantLarge > 0 && c.Stats.Largest != tc.wantLarge {
				t.Errorf("largest namespace holds %d services, want %d", c.Stats.Largest, tc.wantLarge)
			}
			if avg := tc.opts.Services / tc.wantNamespaces; tc.wantLarge == 0 && c.Stats.Largest > 4*avg {
				t.Errorf("largest namespace holds %d services; spread namespaces hold about %d", c.Stats.Largest, avg)
			}
		})
	}
}

func TestRefusedOptions(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "at least 1"},
		{Options{Services: 10, Namespaces: -1}, "negative"},
		{Options{Services: 10, Namespaces: 11}, "cannot each hold"},
		{Options{Services: 10, Shape: "ring"}, `unknown shape "ring"`},
		{Options{Services: 440, Shape: ShapeCrowded, Namespaces: 1}, "at least 2 namespaces"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := Generate(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Generate(%+v) = %v, want an error containing %q", tc.opts, err, tc.want)
			}
		})
	}
}

// TestBeyondTheOldLimits: cities whose status lists exceed the caps (64 in a PublicService,
// 256 in a NetworkZone) are generated; the statuses hold them truncated, with counts.
func TestBeyondTheOldLimits(t *testing.T) {
	for _, o := range []Options{{Services: 440, Seed: 1}, {Services: 1700, Seed: 3}, {Services: 440, Shape: ShapeCrowded, Seed: 2}} {
		t.Run(fmt.Sprintf("%d-%s", o.Services, o.Shape), func(t *testing.T) {
			c := mustGenerate(t, o)
			if c.Stats.HubConsumers <= 64 {
				t.Errorf("the hub has %d consumers; want more than a PublicService status list holds (64)", c.Stats.HubConsumers)
			}
			hub := c.Services[slices.IndexFunc(c.Services, func(s platformv1alpha1.PublicService) bool {
				return slices.ContainsFunc(s.Spec.AllowFrom, func(a platformv1alpha1.AllowSource) bool { return a.Service == "" && a.Namespace != "" })
			})]
			var admitted int
			for i := range c.Services {
				if consumes(&c.Services[i], hub.Namespace, hub.Name) && admits(&hub, c.Services[i].Namespace, c.Services[i].Name) {
					admitted++
				}
			}
			if admitted <= 64 || len(hub.Spec.AllowFrom) > MaxAllowFrom {
				t.Errorf("hub %s/%s admits %d consumers with %d allowFrom entries; want more than 64 with at most %d",
					hub.Namespace, hub.Name, admitted, len(hub.Spec.AllowFrom), MaxAllowFrom)
			}
		})
	}
	c := mustGenerate(t, Options{Services: 5000, Seed: 1})
	lan := 0
	for _, s := range c.Services {
		if slices.ContainsFunc(s.Spec.AllowFrom, func(a platformv1alpha1.AllowSource) bool { return a.Zone == ZoneHospitalLAN }) {
			lan++
		}
	}
	if lan <= 256 {
		t.Errorf("%d services use %s in a city of 5000; want more than a NetworkZone status list holds (256)", lan, ZoneHospitalLAN)
	}
}

// TestRefusesBeyondTheSpecLimits: allowFrom and consumes keep their limits; a city beyond them
// is refused with a message naming the service and the limit.
func TestRefusesBeyondTheSpecLimits(t *testing.T) {
	g := &gen{o: Options{Services: 2, Shape: ShapeSpread, Namespaces: 1}, nsNames: []string{"city-portal"}}
	wide := &svc{name: "eid-0000"}
	for i := range MaxAllowFrom + 1 {
		wide.admits = append(wide.admits, i)
	}
	g.svcs = []*svc{wide, {name: "svc-0001", consumes: make([]int, MaxConsumes+1)}}
	err := g.checkLimits()
	if err == nil {
		t.Fatal("a service with 33 allowFrom entries was not refused")
	}
	for _, want := range []string{"exceeds the API's limits", "PublicService city-portal/eid-0000 would have 33 entries in spec.allowFrom (at most 32)",
		"PublicService city-portal/svc-0001 would have 33 entries in spec.consumes (at most 32)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
}

// TestCityIsValid checks, for several sizes and shapes, what the API server's validation and
// the operator expect: valid names, resolvable references, no duplicates, entries within the
// limits, profiles that satisfy the CEL rules; and that the mix holds what the benchmark
// needs (one-sided consent, refused zones, both foreign policies).
func TestCityIsValid(t *testing.T) {
	for _, o := range []Options{
		{Services: 20, Seed: 1}, {Services: 440, Seed: 1}, {Services: 1700, Seed: 3},
		{Services: 440, Shape: ShapeCrowded, Seed: 2},
	} {
		t.Run(fmt.Sprintf("%d-%s", o.Services, o.Shape), func(t *testing.T) {
			c := mustGenerate(t, o)
			checkCity(t, c)
		})
	}
}

func checkCity(t *testing.T, c *City) {
	t.Helper()
	namespaces := map[string]bool{}
	for _, ns := range c.Namespaces {
		namespaces[ns.Name] = true
		if errs := validation.IsDNS1123Label(ns.Name); len(errs) > 0 {
			t.Errorf("namespace %q: %v", ns.Name, errs)
		}
	}
	zones := map[string]bool{}
	for _, z := range c.Zones {
		zones[z.Name] = true
		for _, cidr := range z.Spec.CIDRs {
			if ip, network, err := net.ParseCIDR(cidr); err != nil || !ip.Equal(network.IP) {
				t.Errorf("zone %s: %q is not a network address (%v)", z.Name, cidr, err)
			}
		}
	}
	services := map[string]*platformv1alpha1.PublicService{}
	for i := range c.Services {
		s := &c.Services[i]
		id := s.Namespace + "/" + s.Name
		if services[id] != nil {
			t.Errorf("service %s is generated twice", id)
		}
		services[id] = s
		if errs := validation.IsDNS1035Label(s.Name); len(errs) > 0 {
			t.Errorf("service name %q: %v", s.Name, errs)
		}
		if !namespaces[s.Namespace] {
			t.Errorf("service %s is in a namespace that is not generated", id)
		}
	}
	profiles := map[platformv1alpha1.Profile]int{}
	var oneSided, unsolicited int
	for _, s := range c.Services {
		id := s.Namespace + "/" + s.Name
		profiles[s.Spec.Profile]++
		eff := s.Effective()
		if len(s.Spec.AllowFrom) > MaxAllowFrom || len(s.Spec.Consumes) > MaxConsumes {
			t.Errorf("%s: %d allowFrom, %d consumes entries", id, len(s.Spec.AllowFrom), len(s.Spec.Consumes))
		}
		hasZone := false
		seen := map[string]bool{}
		for _, a := range eff.AllowFrom {
			key := a.Zone + "|" + a.Namespace + "/" + a.Service
			if seen[key] {
				t.Errorf("%s: allowFrom lists %q twice", id, key)
			}
			seen[key] = true
			switch {
			case a.Zone != "":
				hasZone = true
				if !zones[a.Zone] {
					t.Errorf("%s: allowFrom zone %q does not exist", id, a.Zone)
				}
			case a.Service == "":
				if !namespaces[a.Namespace] {
					t.Errorf("%s: allowFrom namespace %q does not exist", id, a.Namespace)
				}
			case services[a.Namespace+"/"+a.Service] == nil:
				t.Errorf("%s: allowFrom service %s/%s does not exist", id, a.Namespace, a.Service)
			default:
				if !consumes(services[a.Namespace+"/"+a.Service], s.Namespace, s.Name) {
					unsolicited++
				}
			}
		}
		for _, ref := range eff.Consumes {
			p := services[ref.Namespace+"/"+ref.Service]
			if p == nil {
				t.Errorf("%s: consumes %s/%s, which does not exist", id, ref.Namespace, ref.Service)
				continue
			}
			if !admits(p, s.Namespace, s.Name) {
				oneSided++
			}
		}
		// The CEL rules, for the modes the profiles give.
		mode := eff.Exposure.Mode
		if mode == platformv1alpha1.ExposureCityNetwork && !hasZone {
			t.Errorf("%s: CityNetwork without an allowFrom zone", id)
		}
		if mode != platformv1alpha1.ExposureCityNetwork && hasZone {
			t.Errorf("%s: an allowFrom zone without CityNetwork", id)
		}
		if mode == platformv1alpha1.ExposurePublic && (eff.Exposure.Host == "" || eff.Exposure.TLS == nil) {
			t.Errorf("%s: Public without host and TLS", id)
		}
		if mode == platformv1alpha1.ExposurePublic && eff.DataClassification == platformv1alpha1.ClassificationRestricted {
			t.Errorf("%s: Public with Restricted data", id)
		}
		for _, e := range eff.EgressTo {
			if !zones[e.Zone] {
				t.Errorf("%s: egressTo zone %q does not exist", id, e.Zone)
			}
		}
	}
	if diff := cmp.Diff(c.Stats.Profiles, profiles); diff != "" {
		t.Errorf("Stats.Profiles (-stats +counted):\n%s", diff)
	}
	if profiles[platformv1alpha1.ProfileIdentityVerification] == 0 || profiles[platformv1alpha1.ProfileCustom] == 0 {
		t.Errorf("profile mix %v lacks identity or custom services", profiles)
	}
	if oneSided != c.Stats.OneSided || unsolicited != c.Stats.Unsolicited {
		t.Errorf("one-sided %d (stats %d), unsolicited %d (stats %d)", oneSided, c.Stats.OneSided, unsolicited, c.Stats.Unsolicited)
	}
	if len(c.Services) >= 100 && (oneSided == 0 || unsolicited == 0 || c.Stats.ZoneRefused == 0) {
		t.Errorf("one-sided %d, unsolicited %d, refused zone references %d: want some of each",
			oneSided, unsolicited, c.Stats.ZoneRefused)
	}
	if len(c.Policies) != 2 || c.Policies[0].Name != PolicyAllowAll || c.Policies[1].Name != PolicyDenyAll {
		t.Errorf("policies %v, want %s and %s", c.Policies, PolicyAllowAll, PolicyDenyAll)
	}
	if c.Stats.Pods < int64(len(c.Services)) || c.Stats.CPUMilli <= 0 || c.Stats.MemoryBytes <= 0 {
		t.Errorf("stats %+v: pods and requests not added up", c.Stats)
	}
}

func consumes(s *platformv1alpha1.PublicService, ns, name string) bool {
	for _, ref := range s.Effective().Consumes {
		if ref.Namespace == ns && ref.Service == name {
			return true
		}
	}
	return false
}

func admits(s *platformv1alpha1.PublicService, ns, name string) bool {
	for _, a := range s.Effective().AllowFrom {
		if (a.Service == name || (a.Service == "" && a.Zone == "")) && a.Namespace == ns {
			return true
		}
	}
	return false
}

func TestWriteDir(t *testing.T) {
	c := mustGenerate(t, Options{Services: 20, Seed: 1})
	dir := t.TempDir()
	if err := c.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteYAML(&b, c.Objects()...); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"status:", "creationTimestamp"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("the manifests contain %q", bad)
		}
	}
	if got, want := strings.Count(b.String(), "\nkind: PublicService\n"), 20; got != want {
		t.Errorf("%d PublicServices in the stream, want %d", got, want)
	}
}

// TestLaterPeers checks Stats.LaterPeer and LaterPeersPerService against the generated
// objects, read the way the operator reads them (intent.Consumes and intent.Admits): a peer
// counts when the flow has both sides, and it is later when it comes after in Services.
func TestLaterPeers(t *testing.T) {
	for _, n := range []int{40, 440} {
		c := mustGenerate(t, Options{Services: n, Seed: 7})
		key := func(i int) types.NamespacedName {
			return types.NamespacedName{Namespace: c.Services[i].Namespace, Name: c.Services[i].Name}
		}
		withLater, peers := 0, 0
		for i := range c.Services {
			later := 0
			for j := i + 1; j < len(c.Services); j++ {
				a, b := &c.Services[i], &c.Services[j]
				if (intent.Consumes(a, key(j)) && intent.Admits(b, key(i))) || (intent.Consumes(b, key(i)) && intent.Admits(a, key(j))) {
					later++
				}
			}
			if later > 0 {
				withLater++
			}
			peers += later
		}
		if peers == 0 {
			t.Fatalf("N=%d: no flow between two services: nothing was compared", n)
		}
		want := [2]float64{float64(withLater) / float64(n), float64(peers) / float64(n)}
		if got := [2]float64{c.Stats.LaterPeer, c.Stats.LaterPeersPerService}; got != want {
			t.Errorf("N=%d: LaterPeer, LaterPeersPerService = %v, want %v", n, got, want)
		}
	}
}
