package citygen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// Shape is how the services are spread over namespaces.
type Shape string

const (
	// ShapeSpread puts about ServicesPerNamespace services in each namespace.
	ShapeSpread Shape = "spread"
	// ShapeCrowded puts CrowdedServices services (or all, when fewer) in ONE namespace and
	// spreads the rest as ShapeSpread does.
	ShapeCrowded Shape = "crowded"
)

// Sizes and defaults.
const (
	// ServicesPerNamespace is the average namespace size of ShapeSpread.
	ServicesPerNamespace = 6
	// CrowdedServices is the size of the crowded namespace of ShapeCrowded.
	CrowdedServices = 300
	// DefaultImage is the image of every generated service (kwok nodes never pull it).
	DefaultImage = "smartcity/city-service:0.1.0"
)

// The API's limits on a service's spec (api/v1alpha1); a city that exceeds one is refused.
// Status lists no longer limit a city: they are capped, with a count beside them.
const (
	// MaxAllowFrom is the most entries of spec.allowFrom.
	MaxAllowFrom = 32
	// MaxConsumes is the most entries of spec.consumes.
	MaxConsumes = 32
)

// The hub: the first identity service, the city's central login. Every service of the hub's
// namespaces (the HubNamespaces largest) consumes it, and the hub admits them (less one
// namespace in hubOneSided, whose calls stay one-sided) by namespace entries (allowFrom {namespace: ...}): a provider consumed by a few hundred
// services, as no list of names could admit.
const (
	// HubNamespaces is how many namespaces call the hub; it leaves two allowFrom entries free.
	HubNamespaces = MaxAllowFrom - 2
	// hubOneSided: one hub namespace in this many is not admitted (its calls are one-sided).
	hubOneSided = 10
)

// Names of the generated zones, and the namespace label they select on.
const (
	// ZoneHospitalLAN admits namespaces labelled network-access=hospital.
	ZoneHospitalLAN = "hospital-lan"
	// ZoneKiosk, the city's self-service kiosks, admits the same namespaces.
	ZoneKiosk = "kiosk-net"
	// ZoneWardWiFi admits no namespace at all (allowedNamespaces is empty).
	ZoneWardWiFi = "ward-wifi"
	// ZonePopulationDB admits namespaces labelled network-access=population-db.
	ZonePopulationDB = "population-db"

	// LabelNetworkAccess is the namespace label the zones select.
	LabelNetworkAccess = "platform.smartcity.io/network-access"
	// LabelGenerated marks every generated namespace; its value is the seed.
	LabelGenerated = "platform.smartcity.io/citygen-seed"

	// PolicyAllowAll is the foreign allow-all NetworkPolicy's name.
	PolicyAllowAll = "foreign-allow-all"
	// PolicyDenyAll is the namespace-wide deny-all NetworkPolicy's name.
	PolicyDenyAll = "default-deny-all"
)

// Shares of the mix. The profile shares are of all services; the rest are per decision.
const (
	shareIdentity     = 0.04 // IdentityVerification services
	shareHospital     = 0.10 // HospitalCheckIn services
	sharePortal       = 0.25 // Portal services; the rest are Custom back ends
	shareOneSided     = 0.10 // consumes whose provider does not admit the consumer
	shareUnsolicited  = 0.05 // services admitting one that does not consume them
	shareCustomEID    = 0.30 // Custom services that call an identity service
	shareCustomEgress = 0.05 // Custom services that call the population database
	shareKiosk        = 0.30 // hospital services also reachable from the kiosks
	shareWardWiFi     = 0.10 // hospital services that reference the zone admitting nobody
	shareUnlabelled   = 0.20 // hospital namespaces that no zone admits
	shareSameNS       = 0.80 // back-end calls that stay in the caller's namespace
)

// departments name the namespaces: city-<department>[-<n>].
var departments = []string{"portal", "identity", "health", "transport", "tax", "education", "land",
	"justice", "social", "culture", "environment", "construction", "finance", "labour", "water", "housing"}

// Options say what city to generate.
type Options struct {
	// Services is the number of PublicServices (N); at least 1.
	Services int
	// Namespaces is the number of namespaces (K). 0: about N/6 (ShapeSpread), or one crowded
	// namespace plus about (N-300)/6 (ShapeCrowded).
	Namespaces int
	// Shape is ShapeSpread (default) or ShapeCrowded.
	Shape Shape
	// Seed makes the city: the same options always give the same city.
	Seed uint64
	// Image of every service; DefaultImage when empty.
	Image string
}

// City is a generated city, in the order its objects are applied.
type City struct {
	// Options are the options with every default resolved.
	Options    Options
	Namespaces []corev1.Namespace
	Zones      []platformv1alpha1.NetworkZone
	// Policies are the foreign allow-all and the deny-all NetworkPolicy.
	Policies []networkingv1.NetworkPolicy
	Services []platformv1alpha1.PublicService
	// Stats describe the city.
	Stats Stats
}

// Stats describe a generated city.
type Stats struct {
	Services   int                              `json:"services"`
	Namespaces int                              `json:"namespaces"`
	Largest    int                              `json:"largestNamespace"`
	Profiles   map[platformv1alpha1.Profile]int `json:"profiles"`
	// Consumes is the number of consumes entries; OneSided those the provider does not admit.
	Consumes int `json:"consumes"`
	OneSided int `json:"oneSided"`
	// Unsolicited is the number of allowFrom entries naming a service that does not consume it.
	Unsolicited int `json:"unsolicited"`
	// HubConsumers is the number of services that consume the hub (see HubNamespaces).
	HubConsumers int `json:"hubConsumers"`
	// ZoneRefused is the number of (service, zone) references the zone does not admit.
	ZoneRefused int `json:"zoneRefused"`
	// LaterPeer is the share of services with a peer, in a flow both sides admit (either way),
	// that comes later in the order the city is applied: an operator that renders a service's
	// NetworkPolicy as soon as the service arrives renders it again when that peer arrives, so
	// its NetworkPolicy writes per service are at least 1 + LaterPeer unless a backlog delays
	// the first render. LaterPeersPerService counts those peers per service: the writes when
	// each peer arrives on its own.
	LaterPeer            float64 `json:"laterPeer"`
	LaterPeersPerService float64 `json:"laterPeersPerService"`
	// Pods, CPUMilli and MemoryBytes add up replicas.min pods and their requests.
	Pods        int64 `json:"pods"`
	CPUMilli    int64 `json:"cpuMilli"`
	MemoryBytes int64 `json:"memoryBytes"`
}

// resolve checks the options and fills in the defaults.
func (o Options) resolve() (Options, error) {
	if o.Services < 1 {
		return o, fmt.Errorf("citygen: the number of services must be at least 1, not %d", o.Services)
	}
	if o.Shape == "" {
		o.Shape = ShapeSpread
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if o.Namespaces < 0 {
		return o, fmt.Errorf("citygen: the number of namespaces must not be negative, not %d", o.Namespaces)
	}
	switch o.Shape {
	case ShapeSpread:
		if o.Namespaces == 0 {
			o.Namespaces = max(1, int(math.Round(float64(o.Services)/ServicesPerNamespace)))
		}
	case ShapeCrowded:
		rest := o.Services - min(o.Services, CrowdedServices)
		if o.Namespaces == 0 {
			o.Namespaces = 1 + (rest+ServicesPerNamespace-1)/ServicesPerNamespace
		}
		if rest > 0 && o.Namespaces < 2 {
			return o, fmt.Errorf("citygen: shape %s with %d services needs at least 2 namespaces "+
				"(%d in the crowded one, the rest elsewhere), not %d", o.Shape, o.Services, CrowdedServices, o.Namespaces)
		}
	default:
		return o, fmt.Errorf("citygen: unknown shape %q (use %s or %s)", o.Shape, ShapeSpread, ShapeCrowded)
	}
	if o.Namespaces > o.Services {
		return o, fmt.Errorf("citygen: %d namespaces cannot each hold one of %d services", o.Namespaces, o.Services)
	}
	return o, nil
}

// svc is a service being generated.
type svc struct {
	name    string
	ns      int
	profile platformv1alpha1.Profile
	// consumes and admits are indexes of other services; admitsNS are indexes of namespaces
	// admitted as a whole; zonesIn are allowFrom zones.
	consumes  []int
	admits    []int
	admitsNS  []int
	zonesIn   []string
	egress    []string
	admitted  int // consumers this one admits (its status.admittedConsumers)
	unadmit   int // consumers it does not admit (its status.unadmittedConsumers)
	consumers int // identity services: how many call it (for balancing)
}

func (s *svc) allowFromLen() int { return len(s.admits) + len(s.admitsNS) + len(s.zonesIn) }

type gen struct {
	o        Options
	rng      *rand.Rand
	svcs     []*svc
	nsNames  []string
	byNS     [][]int // service indexes per namespace
	byProf   map[platformv1alpha1.Profile][]int
	nsLabels []string // value of LabelNetworkAccess per namespace ("" for none)
	hub      int      // index of the hub service
	stats    Stats
}

// Generate returns the city the options describe, or an error when the options are invalid
// or a service's spec would exceed the API's limits.
func Generate(opts Options) (*City, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	g := &gen{o: o, rng: rand.New(rand.NewPCG(o.Seed, 0x5c17e5)), byProf: map[platformv1alpha1.Profile][]int{}}
	g.namespaces()
	g.profiles()
	g.labels()
	g.flows()
	if err := g.checkLimits(); err != nil {
		return nil, err
	}
	return g.city(), nil
}

// namespaces names the namespaces and assigns every service to one.
func (g *gen) namespaces() {
	n, k := g.o.Services, g.o.Namespaces
	for j := range k {
		name := "city-" + departments[j%len(departments)]
		if j >= len(departments) {
			name += "-" + strconv.Itoa(j/len(departments)+1)
		}
		g.nsNames = append(g.nsNames, name)
	}
	g.byNS = make([][]int, k)
	order := g.rng.Perm(n)
	first := 0 // namespaces [first, k) share the services not placed yet
	if g.o.Shape == ShapeCrowded {
		c := min(n, CrowdedServices)
		g.byNS[0] = append(g.byNS[0], order[:c]...)
		order, first = order[c:], 1
	}
	// One service per namespace, then the rest at random with uneven weights.
	weights := make([]float64, k)
	total := 0.0
	for j := first; j < k; j++ {
		weights[j] = 0.5 + g.rng.Float64()
		total += weights[j]
	}
	for i, s := range order {
		j := first + i
		if j >= k {
			r := g.rng.Float64() * total
			for j = first; j < k-1 && r >= weights[j]; j++ {
				r -= weights[j]
			}
		}
		g.byNS[j] = append(g.byNS[j], s)
	}
	g.svcs = make([]*svc, n)
	for j, members := range g.byNS {
		slices.Sort(members)
		for _, s := range members {
			g.svcs[s] = &svc{ns: j}
		}
	}
}

// profiles gives each service a profile and a name.
func (g *gen) profiles() {
	n := g.o.Services
	identity := max(1, int(math.Round(shareIdentity*float64(n))))
	hospital := min(n-identity, int(math.Round(shareHospital*float64(n))))
	portal := min(n-identity-hospital, int(math.Round(sharePortal*float64(n))))
	prefix := map[platformv1alpha1.Profile]string{
		platformv1alpha1.ProfileIdentityVerification: "eid",
		platformv1alpha1.ProfileHospitalCheckIn:      "checkin",
		platformv1alpha1.ProfilePortal:               "portal",
		platformv1alpha1.ProfileCustom:               "svc",
	}
	for i, s := range g.rng.Perm(n) {
		p := platformv1alpha1.ProfileCustom
		switch {
		case i < identity:
			p = platformv1alpha1.ProfileIdentityVerification
		case i < identity+hospital:
			p = platformv1alpha1.ProfileHospitalCheckIn
		case i < identity+hospital+portal:
			p = platformv1alpha1.ProfilePortal
		}
		g.svcs[s].profile = p
	}
	for i, s := range g.svcs {
		s.name = fmt.Sprintf("%s-%04d", prefix[s.profile], i)
		g.byProf[s.profile] = append(g.byProf[s.profile], i)
	}
}

// labels decides which zones admit each namespace: namespaces with an identity service may
// call the population database; most other namespaces with a hospital service are admitted
// by the hospital LAN and the kiosks, some by nothing.
func (g *gen) labels() {
	g.nsLabels = make([]string, len(g.nsNames))
	for j, members := range g.byNS {
		var identity, hospital bool
		for _, s := range members {
			identity = identity || g.svcs[s].profile == platformv1alpha1.ProfileIdentityVerification
			hospital = hospital || g.svcs[s].profile == platformv1alpha1.ProfileHospitalCheckIn
		}
		switch {
		case identity:
			g.nsLabels[j] = "population-db"
		case hospital && g.rng.Float64() >= shareUnlabelled:
			g.nsLabels[j] = "hospital"
		}
	}
}

// zoneAdmits says whether a zone admits namespace j (as the zones in zones() select).
func (g *gen) zoneAdmits(zone string, j int) bool {
	switch zone {
	case ZoneHospitalLAN, ZoneKiosk:
		return g.nsLabels[j] == "hospital"
	case ZonePopulationDB:
		return g.nsLabels[j] == "population-db"
	}
	return false
}

// flows draws zones, egress and the consumes/allowFrom web, within the per-service limits.
func (g *gen) flows() {
	identities := g.byProf[platformv1alpha1.ProfileIdentityVerification]
	customs := g.byProf[platformv1alpha1.ProfileCustom]
	g.hubFlows(identities[0])
	if len(identities) > 1 {
		identities = identities[1:] // the others share the rest of the calls
	}
	for i, s := range g.svcs {
		switch s.profile {
		case platformv1alpha1.ProfileIdentityVerification:
			s.egress = append(s.egress, ZonePopulationDB)
		case platformv1alpha1.ProfileHospitalCheckIn:
			s.zonesIn = append(s.zonesIn, ZoneHospitalLAN)
			if g.rng.Float64() < shareKiosk {
				s.zonesIn = append(s.zonesIn, ZoneKiosk)
			}
			if g.rng.Float64() < shareWardWiFi {
				s.zonesIn = append(s.zonesIn, ZoneWardWiFi)
			}
			g.consume(i, g.pickIdentity(identities))
			if g.rng.Float64() < 0.5 {
				g.consume(i, g.pickBackend(i, customs))
			}
		case platformv1alpha1.ProfilePortal:
			g.consume(i, g.pickIdentity(identities))
			for range 1 + g.rng.IntN(2) {
				g.consume(i, g.pickBackend(i, customs))
			}
		default:
			if g.rng.Float64() < shareCustomEID {
				g.consume(i, g.pickIdentity(identities))
			}
			if g.rng.Float64() < shareCustomEgress {
				s.egress = append(s.egress, ZonePopulationDB)
			}
			for range g.rng.IntN(3) {
				g.consume(i, g.pickBackend(i, customs))
			}
		}
	}
	// Unsolicited consent: a provider admits a service that does not call it.
	for range int(math.Round(shareUnsolicited * float64(len(g.svcs)))) {
		p, c := g.rng.IntN(len(g.svcs)), g.rng.IntN(len(g.svcs))
		ps := g.svcs[p]
		if p == c || slices.Contains(ps.admits, c) || slices.Contains(g.svcs[c].consumes, p) || ps.allowFromLen() >= MaxAllowFrom {
			continue
		}
		ps.admits = append(ps.admits, c)
		g.stats.Unsolicited++
	}
}

// hubFlows makes hub the city's central login: every other service of the HubNamespaces
// largest namespaces consumes it; the hub admits those namespaces by namespace entries,
// except one in hubOneSided, whose calls stay one-sided.
func (g *gen) hubFlows(hub int) {
	g.hub = hub
	largest := make([]int, len(g.nsNames))
	for j := range largest {
		largest[j] = j
	}
	slices.SortStableFunc(largest, func(a, b int) int { return len(g.byNS[b]) - len(g.byNS[a]) })
	for k, j := range largest[:min(HubNamespaces, len(largest))] {
		admitted := k%hubOneSided != hubOneSided-1
		if admitted {
			g.svcs[hub].admitsNS = append(g.svcs[hub].admitsNS, j)
		}
		for _, c := range g.byNS[j] {
			if c == hub || g.svcs[c].profile == platformv1alpha1.ProfileIdentityVerification {
				continue
			}
			g.svcs[c].consumes = append(g.svcs[c].consumes, hub)
			g.stats.Consumes++
			g.stats.HubConsumers++
			if admitted {
				g.svcs[hub].admitted++
			} else {
				g.svcs[hub].unadmit++
				g.stats.OneSided++
			}
		}
	}
}

// pickIdentity picks the less called of two identity services (balanced load).
func (g *gen) pickIdentity(identities []int) int {
	a, b := identities[g.rng.IntN(len(identities))], identities[g.rng.IntN(len(identities))]
	if g.svcs[b].consumers < g.svcs[a].consumers {
		a = b
	}
	g.svcs[a].consumers++
	return a
}

// pickBackend picks a Custom service other than i, most often in i's namespace; -1 if none.
func (g *gen) pickBackend(i int, customs []int) int {
	if g.rng.Float64() < shareSameNS {
		var local []int
		for _, c := range g.byNS[g.svcs[i].ns] {
			if c != i && g.svcs[c].profile == platformv1alpha1.ProfileCustom {
				local = append(local, c)
			}
		}
		if len(local) > 0 {
			return local[g.rng.IntN(len(local))]
		}
	}
	if len(customs) == 0 || (len(customs) == 1 && customs[0] == i) {
		return -1
	}
	for {
		if c := customs[g.rng.IntN(len(customs))]; c != i {
			return c
		}
	}
}

// consume adds the call c → p, admitted by p (through c's namespace, or by name) unless drawn
// one-sided; a call that p's allowFrom has no room to admit stays one-sided.
func (g *gen) consume(c, p int) {
	cs := g.svcs[c]
	if p < 0 || p == c || slices.Contains(cs.consumes, p) || len(cs.consumes) >= MaxConsumes {
		return
	}
	ps := g.svcs[p]
	oneSided := g.rng.Float64() < shareOneSided
	switch {
	case slices.Contains(ps.admitsNS, cs.ns):
		ps.admitted++
	case !oneSided && ps.allowFromLen() < MaxAllowFrom:
		ps.admits = append(ps.admits, c)
		ps.admitted++
	default:
		ps.unadmit++
		g.stats.OneSided++
	}
	cs.consumes = append(cs.consumes, p)
	g.stats.Consumes++
}

// checkLimits refuses a city whose specs would exceed the API's limits (a safety net: the
// generator keeps within them as it draws).
func (g *gen) checkLimits() error {
	var problems []string
	for _, s := range g.svcs {
		id := g.nsNames[s.ns] + "/" + s.name
		for what, n := range map[string][2]int{
			"spec.allowFrom": {s.allowFromLen(), MaxAllowFrom},
			"spec.consumes":  {len(s.consumes), MaxConsumes},
		} {
			if n[0] > n[1] {
				problems = append(problems, fmt.Sprintf("PublicService %s would have %d entries in %s (at most %d)", id, n[0], what, n[1]))
			}
		}
		for _, z := range slices.Concat(s.zonesIn, s.egress) {
			if !g.zoneAdmits(z, s.ns) {
				g.stats.ZoneRefused++
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	var msg strings.Builder
	fmt.Fprintf(&msg, "citygen: a city of %d services (shape %s, %d namespaces) exceeds the API's limits "+
		"(api/v1alpha1: allowFrom %d entries, consumes %d):", g.o.Services, g.o.Shape, g.o.Namespaces, MaxAllowFrom, MaxConsumes)
	for i, p := range problems {
		if i == 5 {
			fmt.Fprintf(&msg, "\n  ... and %d more", len(problems)-i)
			break
		}
		msg.WriteString("\n  " + p)
	}
	return fmt.Errorf("%s", msg.String())
}
