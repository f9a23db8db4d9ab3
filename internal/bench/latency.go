package bench

import (
	"math"
	"slices"
	"strings"
	"time"
)

// eventsResource is the resource of Events (core and events.k8s.io).
const eventsResource = "events"

// Who made a request, as the audit log tells it (AuditEvent.Caller).
const (
	CallerPublicService = "publicservice"
	CallerConnectivity  = "connectivity"
	CallerNetworkZone   = "networkzone"
	CallerEvents        = "events"
	CallerInformers     = "informers"
	CallerOther         = "other"
)

// connectivityFieldManager is the connectivity controller's field manager
// (controllers.ConnectivityFieldManager; the bench does not import the controllers).
const connectivityFieldManager = "smartcity-operator-connectivity"

// Latency is the time the API server took for a request: from receiving it to sending the
// whole response (stageTimestamp - requestReceivedTimestamp at ResponseComplete). Only
// requests that complete are timed: not watches, whose response lasts as long as the watch, nor
// events logged at another stage.
func (e AuditEvent) Latency() (time.Duration, bool) {
	if e.Stage != "ResponseComplete" || e.Verb == "watch" || e.StageTimestamp.IsZero() || e.RequestReceivedTimestamp.IsZero() {
		return 0, false
	}
	return e.StageTimestamp.Sub(e.RequestReceivedTimestamp), true
}

// Caller attributes a request to the part of the operator that made it. All requests share one
// client and user agent, so this goes by field manager and resource:
//   - Events: CallerEvents;
//   - list and watch: CallerInformers (the cache's);
//   - the connectivity controller's field manager: CallerConnectivity;
//   - NetworkZone status: CallerNetworkZone (its merge patch);
//   - anything else on a PublicService child or PublicService status: CallerPublicService: its
//     applies (render.FieldManager, render.HandoffFieldManager), its uncached reads and its
//     ownership migrations (JSON patches without a field manager);
//   - the rest (leases, discovery): CallerOther.
func (e AuditEvent) Caller() string {
	res := e.Resource()
	switch {
	case res == eventsResource:
		return CallerEvents
	case e.Verb == "list" || e.Verb == "watch":
		return CallerInformers
	case e.FieldManager() == connectivityFieldManager:
		return CallerConnectivity
	case strings.HasPrefix(res, "networkzones"):
		return CallerNetworkZone
	case res == "publicservices" || childKinds[res] != "":
		return CallerPublicService
	}
	return CallerOther
}

// LatencyFigures sum up the latencies of a set of requests.
type LatencyFigures struct {
	Count        float64 `json:"count"`
	P50Seconds   float64 `json:"p50Seconds"`
	P99Seconds   float64 `json:"p99Seconds"`
	TotalSeconds float64 `json:"totalSeconds"`
}

// APILatency is the API server's latency of the operator's requests, overall, by "verb
// resource" and by caller (AuditEvent.Caller).
type APILatency struct {
	Overall        LatencyFigures            `json:"overall"`
	ByVerbResource map[string]LatencyFigures `json:"byVerbResource"`
	ByCaller       map[string]LatencyFigures `json:"byCaller"`
}

// Latencies computes the latency figures of the events that have a latency (AuditEvent.Latency);
// nil when none has.
func Latencies(events []AuditEvent) *APILatency {
	var all []float64
	byVerb, byCaller := map[string][]float64{}, map[string][]float64{}
	for _, e := range events {
		d, ok := e.Latency()
		if !ok {
			continue
		}
		s := d.Seconds()
		all = append(all, s)
		byVerb[e.Verb+" "+e.Resource()] = append(byVerb[e.Verb+" "+e.Resource()], s)
		byCaller[e.Caller()] = append(byCaller[e.Caller()], s)
	}
	if len(all) == 0 {
		return nil
	}
	out := &APILatency{Overall: latencyFigures(all), ByVerbResource: map[string]LatencyFigures{}, ByCaller: map[string]LatencyFigures{}}
	for k, v := range byVerb {
		out.ByVerbResource[k] = latencyFigures(v)
	}
	for k, v := range byCaller {
		out.ByCaller[k] = latencyFigures(v)
	}
	return out
}

// latencyFigures: count, total and nearest-rank quantiles of seconds (not empty).
func latencyFigures(seconds []float64) LatencyFigures {
	slices.Sort(seconds)
	total := 0.0
	for _, s := range seconds {
		total += s
	}
	return LatencyFigures{Count: float64(len(seconds)), P50Seconds: nearestRank(0.5, seconds),
		P99Seconds: nearestRank(0.99, seconds), TotalSeconds: total}
}

// nearestRank is the q-quantile of sorted values: the smallest value with at least q of the
// values at or below it.
func nearestRank(q float64, sorted []float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// APIShare is the share of a controller's reconcile time (the sum of its
// controller_runtime_reconcile_time_seconds) spent waiting for the API server on the requests
// attributed to it; nil when either is unknown or the reconcile time is zero.
func APIShare(lat *APILatency, caller string, reconcileSeconds float64) *float64 {
	if lat == nil || reconcileSeconds <= 0 {
		return nil
	}
	return new(lat.ByCaller[caller].TotalSeconds / reconcileSeconds)
}

// SetControllersAPIShares sets each controller's APIShare from o's API latency: a
// controller's name is the caller its requests are attributed to (AuditEvent.Caller).
func SetControllersAPIShares(o *Operator) {
	for name, c := range o.Controllers {
		c.APIShare = APIShare(o.APILatency, name, c.ReconcileSeconds)
		o.Controllers[name] = c
	}
}

// RequestsByManager counts requests by who asks, per minute over window: writes by field
// manager (AuditEvent.FieldManager), Events as "events", and every other request as "reads".
func RequestsByManager(events []AuditEvent, window time.Duration) map[string]float64 {
	out := map[string]float64{}
	for _, e := range events {
		key := "reads"
		switch {
		case e.Resource() == eventsResource:
			key = CallerEvents
		case e.IsWrite():
			key = e.FieldManager()
		}
		out[key] += 1 / window.Minutes()
	}
	return out
}
