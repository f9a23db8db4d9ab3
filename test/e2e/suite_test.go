//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

// The suite's settings, from the environment (hack/cluster/e2e.sh sets them; see its header).
var (
	// k8s is a direct client (no cache) for setup and assertions.
	k8s client.Client
	// image is the image of every PublicService the suite creates: E2E_IMAGE, or the samples'.
	image string
	// operator runs the operator under test (E2E_OPERATOR).
	operator Driver
	// operatorNamespace holds the operator's leader-election Lease.
	operatorNamespace = envOr("E2E_OPERATOR_NAMESPACE", "smartcity-system")
	// root is the repository root (the tests run in test/e2e).
	root = filepath.Join("..", "..")
	// artifacts receives the operator's logs.
	artifacts string
)

const (
	// leaseName is the operator's leader-election ID (main.go).
	leaseName = "smartcity-operator.platform.smartcity.io"
	// fieldOwner is the field manager of what the suite applies.
	fieldOwner = client.FieldOwner("smartcity-e2e")
	// long bounds the waits for a cluster on a busy machine: generous, never a timing assertion.
	long = 4 * time.Minute
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(long)
	SetDefaultEventuallyPollingInterval(500 * time.Millisecond)
	RunSpecs(t, "e2e suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	kubeconfig := os.Getenv("KUBECONFIG")
	Expect(kubeconfig).NotTo(BeEmpty(),
		"KUBECONFIG is not set: run `make test-e2e` (a local cluster of its own) or `make test-e2e E2E_KUBECONFIG=<file>`")
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	cfg.QPS, cfg.Burst = 50, 100

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(platformv1alpha1.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	image = os.Getenv("E2E_IMAGE")
	if image == "" {
		image = samplesImage()
	}
	artifacts = os.Getenv("E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts, err = os.MkdirTemp("", "smartcity-e2e-")
		Expect(err).NotTo(HaveOccurred())
	}
	binary := os.Getenv("E2E_OPERATOR_BINARY")
	if binary == "" && os.Getenv("E2E_OPERATOR") == "incluster" {
		binary = "(none: the operator's image runs in the cluster)"
	} else if binary == "" {
		By("building the operator")
		binary = filepath.Join(artifacts, "manager")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", binary, ".").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "go build of the operator failed:\n%s", out)
	}

	By("installing the CRDs from config/crd/bases")
	installCRDs(ctx)
	Expect(client.IgnoreAlreadyExists(k8s.Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace},
	}))).To(Succeed())

	operator, err = NewDriver(os.Getenv("E2E_OPERATOR"), DriverConfig{
		Kubeconfig: kubeconfig,
		Namespace:  operatorNamespace,
		Binary:     binary,
		LogDir:     artifacts,
	})
	Expect(err).NotTo(HaveOccurred())
	_, _ = fmt.Fprintf(GinkgoWriter, "cluster: %s\nimage: %s\noperator: %s (%s), logs in %s\n",
		cfg.Host, image, operator.Name(), binary, artifacts)
	By("starting the operator")
	startOperator(ctx, 1)
}, NodeTimeout(10*time.Minute))

var _ = AfterSuite(func(ctx SpecContext) {
	if operator != nil {
		Expect(operator.Stop(ctx)).To(Succeed())
	}
}, NodeTimeout(time.Minute))

// On failure, the operator's logs go into the report.
var _ = JustAfterEach(func() {
	if CurrentSpecReport().Failed() && operator != nil {
		AddReportEntry("operator logs", operator.Logs(40))
	}
})

// startOperator starts replicas of the operator and waits until one of them leads. A Lease left
// by a replica that was SIGKILLed expires first (15 s); a Lease held by an operator that this
// suite did not start (for example the demo's, on the same cluster) never does: the failure
// message names its holder.
func startOperator(ctx context.Context, replicas int) {
	GinkgoHelper()
	Expect(operator.Start(ctx, replicas)).To(Succeed())
	Eventually(func() error {
		_, err := operator.Leader(ctx)
		return err
	}).WithTimeout(90*time.Second).Should(Succeed(), func() string {
		return "no replica of the operator under test leads; the Lease is held by " + leaseHolder(ctx) +
			" (another operator on this cluster? `make demo-down` stops the demo's)\n" + operator.Logs(20)
	})
}

// restartOperator stops whatever replicas run and starts one, for the next specs.
func restartOperator(ctx context.Context) {
	GinkgoHelper()
	Expect(operator.Stop(ctx)).To(Succeed())
	startOperator(ctx, 1)
}

// leaseHolder returns the holder identity of the operator's Lease, or a note why there is none.
func leaseHolder(ctx context.Context) string {
	lease := &coordinationv1.Lease{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: leaseName}, lease); err != nil {
		return "(" + err.Error() + ")"
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		return "(nobody)"
	}
	return *lease.Spec.HolderIdentity
}

// installCRDs applies config/crd/bases (server-side apply; the CRDs are never deleted: that would
// delete every PublicService on the cluster) and waits until they are established.
func installCRDs(ctx context.Context) {
	GinkgoHelper()
	files, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(files).NotTo(BeEmpty())
	for _, f := range files {
		b, err := os.ReadFile(f)
		Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal(b, &u.Object)).To(Succeed(), f)
		Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), fieldOwner, client.ForceOwnership)).To(Succeed(), f)
		Eventually(func(g Gomega) {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Name: u.GetName()}, crd)).To(Succeed())
			g.Expect(crd.Status.Conditions).To(ContainElement(And(
				HaveField("Type", apiextensionsv1.Established),
				HaveField("Status", apiextensionsv1.ConditionTrue))))
		}).WithTimeout(time.Minute).Should(Succeed())
	}
}

// samplesImage is the image of the sample city's services (config/samples).
func samplesImage() string {
	GinkgoHelper()
	m, err := audit.ReadFiles([]string{filepath.Join(root, "config", "samples")}, false, nil)
	Expect(err).NotTo(HaveOccurred())
	i := slices.IndexFunc(m.PublicServices, func(svc platformv1alpha1.PublicService) bool { return svc.Name == "vneid" })
	Expect(i).To(BeNumerically(">=", 0), "config/samples has no PublicService vneid")
	Expect(m.PublicServices[i].Spec.Image).NotTo(BeEmpty())
	return m.PublicServices[i].Spec.Image
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
