package metricsauth

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/smartcity-io/smartcity-operator/internal/metricsauth"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// operatorUser is the identity the metrics server runs as: bound to metrics-auth-role alone,
// so the suite also proves that role is all the filter needs.
const operatorUser = "smartcity-operator"

// monitoringNamespace holds the ServiceAccounts that scrape.
const monitoringNamespace = "monitoring"

// suiteMetric is a gauge the suite registers, so a scrape that gets through can be told from
// any other answer by its text.
const suiteMetric = "smartcity_metricsauth_suite_up"

var (
	testEnv *envtest.Environment
	// admin is a client with every permission (system:masters), for fixtures.
	admin client.Client
	// metricsURL is the secure metrics endpoint of the server under test.
	metricsURL string
	// scraper speaks HTTPS to the metrics server, whose certificate is self-signed.
	scraper *http.Client
)

func TestMetricsAuth(t *testing.T) {
	RegisterFailHandler(Fail)
	// Bounds the waits (a binding taking effect, the server starting) on a busy machine; never
	// a timing assertion.
	SetDefaultEventuallyTimeout(time.Minute)
	RunSpecs(t, "Metrics authentication and authorization suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	Expect(testutil.EnvtestAssets()).To(Succeed())

	// envtest's API server issues and reviews ServiceAccount tokens with no extra flag: it
	// starts with --service-account-issuer, --service-account-key-file and
	// --service-account-signing-key-file of its own, and authorizes with RBAC.
	testEnv = &envtest.Environment{}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "envtest could not start")
	admin, err = client.New(cfg, client.Options{})
	Expect(err).NotTo(HaveOccurred())

	Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: monitoringNamespace}})).To(Succeed())
	for _, f := range []string{"metrics_auth_role.yaml", "metrics_reader_role.yaml"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(), "config", "rbac", f))
		Expect(err).NotTo(HaveOccurred())
		role := &rbacv1.ClusterRole{}
		Expect(yaml.UnmarshalStrict(b, role)).To(Succeed(), f)
		Expect(admin.Create(ctx, role)).To(Succeed(), f)
	}

	By("starting a secure metrics server as " + operatorUser + ", bound to metrics-auth-role")
	operator, err := testEnv.AddUser(envtest.User{Name: operatorUser}, nil)
	Expect(err).NotTo(HaveOccurred())
	bind(ctx, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: operatorUser}, "metrics-auth-role")
	startMetricsServer(operator.Config())
})

var _ = AfterSuite(func() {
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// startMetricsServer runs controller-runtime's metrics server, as the manager does with
// --metrics-secure, with the filter under test and the identity of cfg, until the suite ends.
func startMetricsServer(cfg *rest.Config) {
	GinkgoHelper()
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: suiteMetric, Help: "Set by the metricsauth envtest suite."})
	up.Set(1)
	Expect(metrics.Registry.Register(up)).To(Succeed())

	httpClient, err := rest.HTTPClientFor(cfg)
	Expect(err).NotTo(HaveOccurred())
	srv, err := metricsserver.NewServer(metricsserver.Options{
		BindAddress:    "127.0.0.1:0",
		SecureServing:  true,
		FilterProvider: metricsauth.WithAuthenticationAndAuthorization,
	}, cfg, httpClient)
	Expect(err).NotTo(HaveOccurred())

	// The server lives as long as the suite: the context of BeforeSuite ends with it.
	serverCtx, stop := context.WithCancel(context.Background())
	DeferCleanup(stop)
	go func() {
		defer GinkgoRecover()
		Expect(srv.Start(serverCtx)).To(Succeed())
	}()
	// The server binds a free port; controller-runtime reports it through a method its tests use.
	bound, ok := srv.(interface{ GetBindAddr() string })
	Expect(ok).To(BeTrue(), "controller-runtime's metrics server no longer reports its address")
	Eventually(bound.GetBindAddr).ShouldNot(BeEmpty())
	metricsURL = "https://" + bound.GetBindAddr() + "/metrics"

	// The server's certificate is self-signed (no --metrics-cert-path): what is under test is
	// who may read behind it, not the certificate.
	scraper = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}

// repoRoot is the root of this module, found from this file rather than the working directory
// so the suite runs the same from any folder.
func repoRoot() string {
	_, file, _, ok := goruntime.Caller(0)
	Expect(ok).To(BeTrue(), "cannot find the path of suite_test.go")
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}
