package roles

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// The namespaces of the suite: users bound in a namespace get a RoleBinding in teamNamespace,
// and otherNamespace checks that it does not reach further.
const (
	teamNamespace  = "team-a"
	otherNamespace = "team-b"
)

// readerUser runs the live readers of kubectl city, and nothing else: the API server's audit
// log records its requests, which must be exactly the kinds the auditor role grants.
const readerUser = "city-auditor"

// auditPolicy makes the API server log the metadata of every request of readerUser, once
// complete, and nothing else.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: Metadata
  users: [` + readerUser + `]
- level: None
`

var (
	testEnv *envtest.Environment
	// admin is a client with every permission (system:masters), for fixtures.
	admin client.Client
	// scheme knows the built-in kinds and the operator's.
	scheme *runtime.Scheme = audit.Scheme
	// roles are the ClusterRoles to hand out, read from config/rbac, by name.
	roles = map[string]*rbacv1.ClusterRole{}
	// auditLog is the API server's audit log (requests of readerUser only).
	auditLog string
	// kubectlCity is the plugin, built from cmd/kubectl-city for the suite.
	kubectlCity string
)

// roleFiles are the ClusterRoles of config/rbac that people are bound to (not the operator's).
var roleFiles = []string{
	"publicservice_editor_role.yaml",
	"publicservice_viewer_role.yaml",
	"network_provider_role.yaml",
	"auditor_role.yaml",
}

func TestRoles(t *testing.T) {
	RegisterFailHandler(Fail)
	// Bounds the waits (a binding taking effect, the audit log) on a busy machine; never a
	// timing assertion.
	SetDefaultEventuallyTimeout(time.Minute)
	RunSpecs(t, "Roles suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))

	Expect(testutil.EnvtestAssets()).To(Succeed())

	By("building kubectl-city")
	dir := GinkgoT().TempDir()
	kubectlCity = filepath.Join(dir, "kubectl-city")
	build := exec.CommandContext(ctx, "go", "build", "-o", kubectlCity, "./cmd/kubectl-city")
	build.Dir = repoRoot()
	out, err := build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build of kubectl-city failed:\n%s", out)

	policy := filepath.Join(dir, "audit-policy.yaml")
	Expect(os.WriteFile(policy, []byte(auditPolicy), 0o600)).To(Succeed())
	auditLog = filepath.Join(dir, "audit.log")

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(repoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	testEnv.ControlPlane.GetAPIServer().Configure().
		Set("audit-policy-file", policy).
		Set("audit-log-path", auditLog)
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "envtest could not start or could not install the CRDs")
	admin, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	for _, ns := range []string{teamNamespace, otherNamespace} {
		Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	for _, f := range roleFiles {
		b, err := os.ReadFile(filepath.Join(repoRoot(), "config", "rbac", f))
		Expect(err).NotTo(HaveOccurred())
		role := &rbacv1.ClusterRole{}
		Expect(yaml.UnmarshalStrict(b, role)).To(Succeed(), f)
		Expect(role.Kind).To(Equal("ClusterRole"), f)
		roles[role.Name] = role
		Expect(admin.Create(ctx, role.DeepCopy())).To(Succeed(), f)
	}
	users = bindUsers(ctx)
})

var _ = AfterSuite(func() {
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// user is a person of the suite: a client and a kubeconfig file that authenticate as them.
type user struct {
	name       string
	client     client.Client
	kubeconfig string
}

// newUser provisions a user (a client certificate) bound to the ClusterRole role: with a
// RoleBinding in namespace, or a ClusterRoleBinding when namespace is empty. It returns once the
// API server authorizes the role's first rule for them (bindings take effect asynchronously).
func newUser(ctx context.Context, name, role, namespace string) user {
	GinkgoHelper()
	u, err := testEnv.AddUser(envtest.User{Name: name}, nil)
	Expect(err).NotTo(HaveOccurred())
	c, err := client.New(u.Config(), client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	kc, err := u.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	file := filepath.Join(GinkgoT().TempDir(), name+".kubeconfig")
	Expect(os.WriteFile(file, kc, 0o600)).To(Succeed())

	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}
	meta := metav1.ObjectMeta{Name: name + "-" + role, Namespace: namespace}
	if namespace == "" {
		Expect(admin.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: meta, Subjects: subjects, RoleRef: ref})).To(Succeed())
	} else {
		Expect(admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: meta, Subjects: subjects, RoleRef: ref})).To(Succeed())
	}

	cr := &rbacv1.ClusterRole{}
	Expect(admin.Get(ctx, client.ObjectKey{Name: role}, cr)).To(Succeed())
	Expect(cr.Rules).NotTo(BeEmpty(), "ClusterRole %s has no rule", role)
	first := cr.Rules[0]
	Eventually(func(g Gomega) {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: name,
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: namespace, Verb: first.Verbs[0], Group: first.APIGroups[0], Resource: first.Resources[0],
			},
		}}
		g.Expect(admin.Create(ctx, sar)).To(Succeed())
		g.Expect(sar.Status.Allowed).To(BeTrue(), "the binding of %s to %s is not in effect yet", name, role)
	}).Should(Succeed())
	return user{name: name, client: c, kubeconfig: file}
}

// repoRoot is the root of this module, found from this file rather than the working directory
// so the suite runs the same from any folder.
func repoRoot() string {
	_, file, _, ok := goruntime.Caller(0)
	Expect(ok).To(BeTrue(), "cannot find the path of suite_test.go")
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}
