// Command smartcity-operator runs the PublicService and NetworkZone controllers.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/controllers"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/version"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(platformv1alpha1.AddToScheme(scheme))
	utilruntime.Must(gatewayv1.Install(scheme))
}

// flags are the operator's command-line settings.
type flags struct {
	metricsAddr, probeAddr  string
	secureMetrics, http2    bool
	leaderElect             bool
	leaderElectionNamespace string
	gateway, ingressClass   string
	ingressNamespace        string
	dnsNamespace, dnsLabels string
	zoneServiceType         string
	clusterDomain           string
	verifyConnectivity      bool
}

func main() {
	var f flags
	flag.StringVar(&f.metricsAddr, "metrics-bind-address", "0",
		"Address of the metrics endpoint (:8443 for HTTPS, :8080 for HTTP); 0 disables it.")
	flag.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	flag.BoolVar(&f.secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS with authentication and authorization.")
	flag.BoolVar(&f.http2, "enable-http2", false,
		"Enable HTTP/2 for the metrics server (off: HTTP/2 Rapid Reset and Stream Cancellation CVEs).")
	flag.BoolVar(&f.leaderElect, "leader-elect", false, "Elect a leader, so that only one replica reconciles at a time.")
	flag.StringVar(&f.leaderElectionNamespace, "leader-election-namespace", "",
		"Namespace of the leader-election Lease (default: the pod's namespace).")
	flag.StringVar(&f.gateway, "gateway", "",
		"Gateway <namespace>/<name> for Public services: an HTTPRoute is attached to it. Empty: an Ingress is rendered instead.")
	flag.StringVar(&f.ingressClass, "ingress-class", "",
		"IngressClass of rendered Ingresses (empty: the cluster's default class).")
	flag.StringVar(&f.ingressNamespace, "ingress-controller-namespace", "",
		"Namespace of the gateway or ingress controller pods allowed to call Public services (default: the Gateway's namespace, else ingress-nginx).")
	flag.StringVar(&f.dnsNamespace, "dns-namespace", render.DefaultDNSNamespace,
		"Namespace of the cluster DNS pods every service may query.")
	flag.StringVar(&f.dnsLabels, "dns-pod-labels", "k8s-app=kube-dns",
		"Labels of the cluster DNS pods, as key=value[,key=value].")
	flag.StringVar(&f.zoneServiceType, "zone-service-type", string(corev1.ServiceTypeLoadBalancer),
		"Service type of CityNetwork services: LoadBalancer, or NodePort where no load balancer exists.")
	flag.StringVar(&f.clusterDomain, "cluster-domain", "cluster.local", "The cluster's DNS domain, for status.endpoint.")
	flag.BoolVar(&f.verifyConnectivity, "verify-connectivity", true,
		"Audit each service's effective connectivity against its intent (the ConnectivityVerified condition).")
	showVersion := flag.Bool("version", false, "Print the version, commit and Go version, and exit.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	if *showVersion {
		fmt.Println("smartcity-operator", version.Get())
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	if err := run(ctrl.SetupSignalHandler(), f); err != nil {
		ctrl.Log.Error(err, "Operator failed")
		os.Exit(1)
	}
}

func run(ctx context.Context, f flags) error {
	renderOpts, err := f.renderOptions()
	if err != nil {
		return err
	}
	var tlsOpts []func(*tls.Config)
	if !f.http2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: f.metricsAddr, SecureServing: f.secureMetrics, TLSOpts: tlsOpts}
	if f.secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	managedPods, err := labels.Parse(render.LabelManagedBy + "=" + render.FieldManager)
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        f.probeAddr,
		LeaderElection:                f.leaderElect,
		LeaderElectionID:              "smartcity-operator.platform.smartcity.io",
		LeaderElectionNamespace:       f.leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}: {Label: managedPods}, // only the operator's pods, for failure reasons
		}},
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
	if err := (&controllers.PublicServiceReconciler{
		Client:        mgr.GetClient(),
		Recorder:      mgr.GetEventRecorder("smartcity-operator"),
		Options:       renderOpts,
		ClusterDomain: f.clusterDomain,

		SkipConnectivityVerification: !f.verifyConnectivity,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up PublicService controller: %w", err)
	}
	if err := (&controllers.NetworkZoneReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
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
		"gateway", f.gateway, "ingressClass", f.ingressClass, "zoneServiceType", f.zoneServiceType)
	return mgr.Start(ctx)
}

// renderOptions checks the flags that shape rendering.
func (f flags) renderOptions() (render.Options, error) {
	o := render.Options{
		IngressClass:               f.ingressClass,
		IngressControllerNamespace: f.ingressNamespace,
		DNSNamespace:               f.dnsNamespace,
		ZoneServiceType:            corev1.ServiceType(f.zoneServiceType),
	}
	if o.ZoneServiceType != corev1.ServiceTypeLoadBalancer && o.ZoneServiceType != corev1.ServiceTypeNodePort {
		return o, fmt.Errorf("--zone-service-type must be LoadBalancer or NodePort, not %q", f.zoneServiceType)
	}
	if f.gateway != "" {
		ns, name, ok := strings.Cut(f.gateway, "/")
		if !ok || ns == "" || name == "" {
			return o, fmt.Errorf("--gateway must be <namespace>/<name>, not %q", f.gateway)
		}
		o.Gateway = &types.NamespacedName{Namespace: ns, Name: name}
	}
	sel, err := labels.ConvertSelectorToLabelsMap(f.dnsLabels)
	if err != nil || len(sel) == 0 {
		return o, errors.Join(fmt.Errorf("--dns-pod-labels must be key=value[,key=value], not %q", f.dnsLabels), err)
	}
	o.DNSPodLabels = sel
	return o, nil
}
