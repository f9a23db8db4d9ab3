package controllers

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/leancache"
	"github.com/smartcity-io/smartcity-operator/internal/options"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// These tests run the reconcilers against a real kube-apiserver and etcd (envtest); there
// are no built-in controllers, so Deployment status is written by the tests themselves.

var (
	ctx          context.Context
	cancel       context.CancelFunc
	testEnv      *envtest.Environment
	k8sClient    client.WithWatch // direct client for assertions (and watches)
	apiRequests  *requestCounter
	cachedClient client.Client // the manager's client: reads from its cache, with the field indexes
	scheme       = runtime.NewScheme()

	collector       prometheus.Collector // the city's metrics, as main.go registers them
	metricsRegistry *prometheus.Registry
	// serviceReconciler is the suite's PublicService controller, for specs that look at what it
	// holds (firstrender_test.go).
	serviceReconciler *PublicServiceReconciler
)

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controllers Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	Expect(testutil.EnvtestAssets()).To(Succeed())
	ctx, cancel = context.WithCancel(context.TODO())

	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(platformv1alpha1.AddToScheme(scheme))
	utilruntime.Must(gatewayv1.Install(scheme))

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases"), httpRouteCRD()},
		ErrorIfCRDPathMissing: true,
	}
	// The city specs create hundreds of Services, and envtest has no namespace controller to
	// free their addresses: a /16 instead of the default /24.
	testEnv.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16")
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred())

	k8sClient, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	// The manager's requests go through a counting transport, so tests can prove that a
	// reconcile with nothing to do writes nothing.
	apiRequests = &requestCounter{}
	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.WrapTransport = apiRequests.wrap
	mgr, err := ctrl.NewManager(mgrCfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   leancache.Apply(cache.Options{}), // main.go's selectors and transforms
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(SetupIndexes(ctx, mgr)).To(Succeed())
	cachedClient = mgr.GetClient()
	services := &PublicServiceReconciler{
		Client:    mgr.GetClient(),
		Recorder:  mgr.GetEventRecorder("smartcity-operator"),
		Options:   render.Options{IngressClass: "city", ZoneServiceType: corev1.ServiceTypeNodePort},
		APIReader: mgr.GetAPIReader(),
		// main.go's default, so the specs run with concurrent reconciles.
		MaxConcurrentReconciles: options.DefaultPublicServiceConcurrency,
		FirstRenderHold:         options.DefaultFirstRenderHold,
	}
	Expect(services.SetupWithManager(mgr)).To(Succeed())
	serviceReconciler = services
	connectivity := &ConnectivityReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("smartcity-operator"), Options: services.Options,
		MaxConcurrentReconciles: options.DefaultConnectivityConcurrency, Pending: services}
	Expect(connectivity.SetupWithManager(mgr)).To(Succeed())
	// The suite's own registry, as main.go registers the collector with controller-runtime's.
	collector = Collector(mgr.GetClient(), connectivity)
	metricsRegistry = prometheus.NewPedanticRegistry()
	Expect(metricsRegistry.Register(collector)).To(Succeed())
	Expect((&NetworkZoneReconciler{Client: mgr.GetClient(), MaxConcurrentReconciles: options.DefaultNetworkZoneConcurrency}).
		SetupWithManager(mgr)).To(Succeed())

	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	// The specs read through the cache (the metrics collector lists from it): start with it synced.
	Expect(mgr.GetCache().WaitForCacheSync(ctx)).To(BeTrue())
})

var _ = AfterSuite(func() {
	cancel()
	Expect(testEnv.Stop()).To(Succeed())
})

// httpRouteCRD returns the folder of the Gateway API's standard CRDs, from the module cache.
func httpRouteCRD() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	Expect(err).NotTo(HaveOccurred(), "failed to locate the gateway-api module")
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard")
}

// requestCounter counts the manager's requests by method and path; watches, which
// informers keep open and renew, are counted as WATCH.
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		method := req.Method
		if req.URL.Query().Get("watch") == "true" {
			method = "WATCH"
		}
		c.mu.Lock()
		if c.counts == nil {
			c.counts = map[string]int{}
		}
		c.counts[method+" "+req.URL.Path]++
		c.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

// writes returns the number of write requests (neither GET nor WATCH) whose path contains substr.
func (c *requestCounter) writes(substr string) int {
	return c.count(substr, func(method string) bool { return method != http.MethodGet && method != "WATCH" })
}

// requests returns the number of requests, reads and writes but not watches, whose path
// contains substr.
func (c *requestCounter) requests(substr string) int {
	return c.count(substr, func(method string) bool { return method != "WATCH" })
}

func (c *requestCounter) count(substr string, method func(string) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.counts {
		m, path, _ := strings.Cut(k, " ")
		if method(m) && strings.Contains(path, substr) {
			n += v
		}
	}
	return n
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
