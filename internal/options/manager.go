package options

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Default reconcile concurrency: how many objects of a kind reconcile at once. A
// PublicService reconcile mostly waits for the API server (one apply per changed child), so
// several overlap well even on two cores; zones are few; connectivity checks compute.
const (
	DefaultPublicServiceConcurrency = 4
	DefaultNetworkZoneConcurrency   = 2
	DefaultConnectivityConcurrency  = 2
)

// DefaultFirstRenderHold is --first-render-hold's default: longer than a city of 1,700
// services takes to arrive when applied at once on two cores (about 160 s).
const DefaultFirstRenderHold = 3 * time.Minute

// Manager are the operator's command-line options.
type Manager struct {
	// MetricsAddr is --metrics-bind-address.
	MetricsAddr string
	// ProbeAddr is --health-probe-bind-address.
	ProbeAddr string
	// SecureMetrics is --metrics-secure.
	SecureMetrics bool
	// HTTP2 is --enable-http2.
	HTTP2 bool
	// LeaderElect is --leader-elect.
	LeaderElect bool
	// LeaderElectionNamespace is --leader-election-namespace.
	LeaderElectionNamespace string
	// ClusterDomain is --cluster-domain.
	ClusterDomain string
	// VerifyConnectivity is --verify-connectivity.
	VerifyConnectivity bool
	// PublicServiceConcurrency is --publicservice-concurrency.
	PublicServiceConcurrency int
	// NetworkZoneConcurrency is --networkzone-concurrency.
	NetworkZoneConcurrency int
	// ConnectivityConcurrency is --connectivity-concurrency.
	ConnectivityConcurrency int
	// FirstRenderHold is --first-render-hold.
	FirstRenderHold time.Duration
	// PprofAddr is --pprof-bind-address.
	PprofAddr string
	// Render are the flags that shape rendering, shared with kubectl city.
	Render Render
}

// AddManagerFlags binds the operator's flags to o: the manager's own and the render flags.
func AddManagerFlags(fs *pflag.FlagSet, o *Manager) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", "0",
		"Address of the metrics endpoint (:8443 for HTTPS, :8080 for HTTP); 0 disables it.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	fs.BoolVar(&o.SecureMetrics, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorization.")
	fs.BoolVar(&o.HTTP2, "enable-http2", false,
		"Enable HTTP/2 for the metrics server (off: HTTP/2 Rapid Reset and Stream Cancellation CVEs).")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "Elect a leader, so that only one replica reconciles at a time.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "",
		"Namespace of the leader-election Lease (default: the pod's namespace).")
	fs.StringVar(&o.ClusterDomain, "cluster-domain", "cluster.local", "The cluster's DNS domain, for status.endpoint.")
	fs.BoolVar(&o.VerifyConnectivity, "verify-connectivity", true,
		"Audit each service's effective connectivity against its intent (the ConnectivityVerified condition).")
	fs.IntVar(&o.PublicServiceConcurrency, "publicservice-concurrency", DefaultPublicServiceConcurrency,
		"How many PublicServices reconcile at once.")
	fs.IntVar(&o.NetworkZoneConcurrency, "networkzone-concurrency", DefaultNetworkZoneConcurrency,
		"How many NetworkZones reconcile at once.")
	fs.IntVar(&o.ConnectivityConcurrency, "connectivity-concurrency", DefaultConnectivityConcurrency,
		"How many services have their connectivity verified at once.")
	fs.DurationVar(&o.FirstRenderHold, "first-render-hold", DefaultFirstRenderHold,
		"How long at most a new service's first render waits, while PublicServices keep arriving, for the "+
			"services and zones its spec names and, when it admits a namespace, for that namespace's consumers; "+
			"0 renders each service as it arrives.")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", "0",
		"Address of the Go profiling endpoints (/debug/pprof/); 0 disables them. Unauthenticated: bind it to loopback.")
	AddRenderFlags(fs, &o.Render)
}

// Validate checks the manager's own flags (Render.Validate checks the render flags); it
// returns every problem at once.
func (o Manager) Validate() error {
	var errs []error
	for _, c := range []struct {
		flag  string
		value int
	}{
		{"--publicservice-concurrency", o.PublicServiceConcurrency},
		{"--networkzone-concurrency", o.NetworkZoneConcurrency},
		{"--connectivity-concurrency", o.ConnectivityConcurrency},
	} {
		if c.value < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, not %d", c.flag, c.value))
		}
	}
	if o.FirstRenderHold < 0 {
		errs = append(errs, fmt.Errorf("--first-render-hold must not be negative, not %s", o.FirstRenderHold))
	}
	return errors.Join(errs...)
}
