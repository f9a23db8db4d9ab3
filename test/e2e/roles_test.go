//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// The aggregation of roles into the built-in edit and view is kube-controller-manager's
// (clusterrole-aggregation controller): envtest has none, so test/envtest/roles checks the roles
// bound directly, and this spec checks the aggregation on a real cluster.
var _ = Describe("Roles", func() {
	It("aggregates the PublicService editor into edit and the viewer into view", func(ctx SpecContext) {
		By("applying the editor and viewer roles of config/rbac")
		for _, f := range []string{"publicservice_editor_role.yaml", "publicservice_viewer_role.yaml"} {
			b, err := os.ReadFile(filepath.Join(root, "config", "rbac", f))
			Expect(err).NotTo(HaveOccurred())
			u := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal(b, &u.Object)).To(Succeed(), f)
			Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), fieldOwner, client.ForceOwnership)).To(Succeed(), f)
			DeferCleanup(func(ctx SpecContext) {
				Expect(client.IgnoreNotFound(k8s.Delete(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: u.GetName()}}))).To(Succeed())
			})
		}

		ns := newNamespace(ctx, nil)
		editor := impersonate(ctx, ns+"-editor", ns, "edit")
		viewer := impersonate(ctx, ns+"-viewer", ns, "view")
		svc := testutil.PublicService("kiosk", ns).Requests("cpu", "10m").Obj()

		By("a user bound to edit creates a PublicService (once the editor role is aggregated)")
		Eventually(func() error { return editor.Create(ctx, svc.DeepCopy()) }).Should(Succeed())

		By("a user bound to view gets it, and may not create one")
		Eventually(func() error {
			return viewer.Get(ctx, key(ns, "kiosk"), &platformv1alpha1.PublicService{})
		}).Should(Succeed())
		other := svc.DeepCopy()
		other.Name = "other"
		err := viewer.Create(ctx, other)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "want Forbidden, got %v", err)
	})
})

// impersonate binds user to the ClusterRole role in namespace ns (a RoleBinding) and returns a
// client that acts as user.
func impersonate(ctx context.Context, user, ns, role string) client.Client {
	GinkgoHelper()
	Expect(k8s.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: ns},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
	})).To(Succeed())
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	Expect(err).NotTo(HaveOccurred())
	cfg.Impersonate.UserName = user
	c, err := client.New(cfg, client.Options{Scheme: k8s.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	return c
}
