package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// AuditEvent is the part of an audit.k8s.io/v1 Event the benchmark reads.
type AuditEvent struct {
	AuditID string `json:"auditID"`
	Stage   string `json:"stage"`
	Verb    string `json:"verb"`
	User    struct {
		Username string `json:"username"`
	} `json:"user"`
	UserAgent string `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		APIGroup    string `json:"apiGroup"`
	} `json:"objectRef"`
	RequestURI               string    `json:"requestURI"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
	// StageTimestamp is when the stage logged was reached: at ResponseComplete, when the
	// response was sent.
	StageTimestamp time.Time `json:"stageTimestamp"`
}

// Resource is "resource" or "resource/subresource", or the request path for a non-resource
// request.
func (e AuditEvent) Resource() string {
	if e.ObjectRef == nil {
		return e.RequestURI
	}
	if e.ObjectRef.Subresource != "" {
		return e.ObjectRef.Resource + "/" + e.ObjectRef.Subresource
	}
	return e.ObjectRef.Resource
}

// IsWrite reports whether the request changes state.
func (e AuditEvent) IsWrite() bool {
	switch e.Verb {
	case "create", "update", "patch", "delete", "deletecollection", "apply":
		return true
	}
	return false
}

// ReadAudit reads an audit log (one JSON event per line) and returns the requests of user,
// each once (the first stage logged: ResponseStarted for watches, ResponseComplete for the
// rest), in the order they were logged.
func ReadAudit(r io.Reader, user string) ([]AuditEvent, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	seen := map[string]bool{}
	var out []AuditEvent
	for line := 1; sc.Scan(); line++ {
		var e AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("audit log line %d: %w", line, err)
		}
		if e.User.Username != user || seen[e.AuditID] || e.Stage == "RequestReceived" {
			continue
		}
		seen[e.AuditID] = true
		out = append(out, e)
	}
	return out, sc.Err()
}

// Between returns the events received in [from, to).
func Between(events []AuditEvent, from, to time.Time) []AuditEvent {
	var out []AuditEvent
	for _, e := range events {
		if t := e.RequestReceivedTimestamp; !t.Before(from) && t.Before(to) {
			out = append(out, e)
		}
	}
	return out
}

// PerMinute counts requests by "verb resource" over a window, per minute.
func PerMinute(events []AuditEvent, window time.Duration) map[string]float64 {
	out := map[string]float64{}
	for _, e := range events {
		out[e.Verb+" "+e.Resource()] += 1 / window.Minutes()
	}
	return out
}

// childKinds names the resources a PublicService's writes go to.
var childKinds = map[string]string{
	"networkpolicies":          "NetworkPolicy",
	"serviceaccounts":          "ServiceAccount",
	"deployments":              "Deployment",
	"services":                 "Service",
	"horizontalpodautoscalers": "HorizontalPodAutoscaler",
	"poddisruptionbudgets":     "PodDisruptionBudget",
	"ingresses":                "Ingress",
	"httproutes":               "HTTPRoute",
	"publicservices/status":    "PublicService status",
	"networkzones/status":      "NetworkZone status",
	eventsResource:             "Event",
}

// WritesPerService counts the writes among events, by child kind (or status, or Event; the
// resource name for anything else), divided by the number of services.
func WritesPerService(events []AuditEvent, services int) map[string]float64 {
	out := map[string]float64{}
	for _, e := range events {
		if !e.IsWrite() {
			continue
		}
		kind, ok := childKinds[e.Resource()]
		if !ok {
			kind = e.Resource()
		}
		out[kind] += 1 / float64(services)
	}
	return out
}

// FieldManager is the field manager of a write: the request's fieldManager parameter, or
// else the one the API server derives from the user agent (its part before the first "/").
func (e AuditEvent) FieldManager() string {
	if u, err := url.ParseRequestURI(e.RequestURI); err == nil {
		if m := u.Query().Get("fieldManager"); m != "" {
			return m
		}
	}
	agent, _, _ := strings.Cut(e.UserAgent, "/")
	return agent
}

// StatusWritesPerService counts the writes to PublicService status among events, by field
// manager, divided by the number of services.
func StatusWritesPerService(events []AuditEvent, services int) map[string]float64 {
	out := map[string]float64{}
	for _, e := range events {
		if e.IsWrite() && e.Resource() == "publicservices/status" {
			out[e.FieldManager()] += 1 / float64(services)
		}
	}
	return out
}

// Writes splits WritesPerService's counts: writes to children, to status (of services and
// zones), and Events; anything else (none expected) counts with the children.
func Writes(byKind map[string]float64) (children, status, events float64) {
	for k, v := range byKind {
		switch {
		case k == "Event":
			events += v
		case strings.HasSuffix(k, " status"):
			status += v
		default:
			children += v
		}
	}
	return children, status, events
}
