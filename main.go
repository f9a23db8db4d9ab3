// Command smartcity-operator runs the PublicService, connectivity and NetworkZone controllers.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/controllers"
	"github.com/smartcity-io/smartcity-operator/internal/informers"
	"github.com/smartcity-io/smartcity-operator/internal/leancache"
	"github.com/smartcity-io/smartcity-operator/internal/metricsauth"
	"github.com/smartcity-io/smartcity-operator/internal/options"
	"github.com/smartcity-io/smartcity-operator/internal/version"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(platformv1alpha1.AddToScheme(scheme))
	utilruntime.Must(gatewayv1.Install(scheme))
}

func main() {
	var o options.Manager
	var showVersion bool
	zapOpts := zap.Options{Development: false}
	_ = newFlagSet(&o, &showVersion, &zapOpts, flag.CommandLine, pflag.ExitOnError).Parse(os.Args[1:]) // exits on an error
	if showVersion {
		fmt.Println("smartcity-operator", version.Get())
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	if _, err := setMemoryLimit(memlimit.FromCgroup); err != nil {
		ctrl.Log.Error(err, "Failed to read the container's memory limit; the Go runtime keeps its default soft limit")
	}

	if err := run(ctrl.SetupSignalHandler(), o); err != nil {
		ctrl.Log.Error(err, "Operator failed")
		os.Exit(1)
	}
}

// newFlagSet binds the operator's flags (POSIX-style: long flags take two dashes): its own,
// the zap flags, and the Go flags in goFlags (flag.CommandLine holds controller-runtime's
// --kubeconfig).
func newFlagSet(o *options.Manager, showVersion *bool, zapOpts *zap.Options, goFlags *flag.FlagSet, onError pflag.ErrorHandling) *pflag.FlagSet {
	fs := pflag.NewFlagSet(os.Args[0], onError)
	options.AddManagerFlags(fs, o)
	fs.BoolVar(showVersion, "version", false, "Print the version, commit and Go version, and exit.")
	zapOpts.BindFlags(goFlags)
	fs.AddGoFlagSet(goFlags)
	return fs
}

func run(ctx context.Context, f options.Manager) error {
	if err := f.Validate(); err != nil {
		return err
	}
	renderOpts, err := f.Render.Validate()
	if err != nil {
		return err
	}
	var tlsOpts []func(*tls.Config)
	if !f.HTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: f.MetricsAddr, SecureServing: f.SecureMetrics, TLSOpts: tlsOpts}
	if f.SecureMetrics {
		metricsOpts.FilterProvider = metricsauth.WithAuthenticationAndAuthorization
	}
	cfg := ctrl.GetConfigOrDie()
	// No client-side rate limiting: a city's convergence is bursts of applies, and the API
	// server's Priority and Fairness already shares its capacity among its clients.
	cfg.QPS, cfg.Burst, cfg.RateLimiter = -1, 0, nil
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        f.ProbeAddr,
		LeaderElection:                f.LeaderElect,
		LeaderElectionID:              "smartcity-operator.platform.smartcity.io",
		LeaderElectionNamespace:       f.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		PprofBindAddress:              f.PprofAddr,
		// The caches keep only what decisions read (internal/leancache: of Pods only the
		// operator's, of ReplicaSets only others'), and their watches last as long as the API
		// server's default (internal/informers).
		Cache: leancache.Apply(cache.Options{NewInformer: informers.New}),
	})
	if err != nil {
		return fmt.Errorf("failed to create manager: %w", err)
	}
	if renderOpts.Gateway != nil {
		if _, err := mgr.GetRESTMapper().RESTMapping(schema.GroupKind{Group: gatewayv1.GroupName, Kind: "HTTPRoute"}, "v1"); err != nil {
			return fmt.Errorf("--gateway is set but the Gateway API (HTTPRoute v1) is not installed in the cluster: %w", err)
		}
	}
	if err := controllers.SetupIndexes(ctx, mgr); err != nil {
		return err
	}
	services := &controllers.PublicServiceReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("smartcity-operator"),
		Options:                 renderOpts,
		ClusterDomain:           f.ClusterDomain,
		MaxConcurrentReconciles: f.PublicServiceConcurrency,
		FirstRenderHold:         f.FirstRenderHold,

		SkipConnectivityVerification: !f.VerifyConnectivity,
	}
	if err := services.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up PublicService controller: %w", err)
	}
	var connectivity *controllers.ConnectivityReconciler
	if f.VerifyConnectivity {
		connectivity = &controllers.ConnectivityReconciler{Client: mgr.GetClient(), Recorder: services.Recorder, Options: renderOpts,
			MaxConcurrentReconciles: f.ConnectivityConcurrency, Pending: services}
		if err := connectivity.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("failed to set up connectivity controller: %w", err)
		}
	}
	for _, c := range []prometheus.Collector{controllers.Collector(mgr.GetClient(), connectivity), services.FirstRenderCollector()} {
		if err := metrics.Registry.Register(c); err != nil {
			return fmt.Errorf("failed to register metrics: %w", err)
		}
	}
	if err := (&controllers.NetworkZoneReconciler{Client: mgr.GetClient(), MaxConcurrentReconciles: f.NetworkZoneConcurrency}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up NetworkZone controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	v := version.Get()
	ctrl.Log.Info("Starting operator", "version", v.Version, "commit", v.Commit,
		"gateway", f.Render.Gateway, "ingressClass", f.Render.IngressClass, "zoneServiceType", f.Render.ZoneServiceType)
	return mgr.Start(ctx)
}

// memoryLimitRatio is the share of the container's memory limit that the Go runtime's soft
// limit takes; the rest is for what the garbage collector does not count (thread stacks, the
// runtime's own structures, memory returned to the kernel lazily).
const memoryLimitRatio = 0.9

// setMemoryLimit sets the Go runtime's soft memory limit (GOMEMLIMIT) to memoryLimitRatio of
// the memory limit that provider reports (in production the container's, from its cgroup), unless
// GOMEMLIMIT or AUTOMEMLIMIT is set. Near the limit the garbage collector then collects more
// often instead of letting the heap double (GOGC=100) until the kernel kills the pod; with no
// limit nothing changes. It returns the soft limit in bytes.
func setMemoryLimit(provider memlimit.Provider) (int64, error) {
	log := slog.New(logr.ToSlogHandler(ctrl.Log.WithName("memlimit")))
	return memlimit.Set(memlimit.WithRatio(memoryLimitRatio), memlimit.WithProvider(provider), memlimit.WithLogger(log))
}
