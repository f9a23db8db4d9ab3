package roles

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// auditEvent is the part of an API server audit event (audit.k8s.io/v1 Event) the suite reads.
type auditEvent struct {
	Stage string `json:"stage"`
	Verb  string `json:"verb"`
	User  struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		APIGroup    string `json:"apiGroup"`
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// readsOf returns, from the API server's audit log, the verbs user used on each kind (requests
// for resources; discovery requests have no objectRef and are left out), and the requests that
// were refused (401 or 403: a Get of a namespace that does not exist is a 404, as the
// reader expects).
func readsOf(user string) (map[schema.GroupResource]sets.Set[string], []string) {
	GinkgoHelper()
	f, err := os.Open(auditLog)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	reads := map[schema.GroupResource]sets.Set[string]{}
	var refused []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for s.Scan() {
		var e auditEvent
		Expect(json.Unmarshal(s.Bytes(), &e)).To(Succeed(), "audit log line %s", s.Text())
		if e.User.Username != user || e.Stage != "ResponseComplete" || e.ObjectRef == nil {
			continue
		}
		gr := schema.GroupResource{Group: e.ObjectRef.APIGroup, Resource: e.ObjectRef.Resource}
		if e.ObjectRef.Subresource != "" {
			gr.Resource += "/" + e.ObjectRef.Subresource
		}
		if reads[gr] == nil {
			reads[gr] = sets.New[string]()
		}
		reads[gr].Insert(e.Verb)
		if e.ResponseStatus != nil && (e.ResponseStatus.Code == http.StatusForbidden || e.ResponseStatus.Code == http.StatusUnauthorized) {
			refused = append(refused, e.Verb+" "+gr.String())
		}
	}
	Expect(s.Err()).NotTo(HaveOccurred())
	return reads, refused
}

// grants returns the verbs role grants on each kind.
func grants(role *rbacv1.ClusterRole) map[schema.GroupResource]sets.Set[string] {
	g := map[schema.GroupResource]sets.Set[string]{}
	for _, r := range role.Rules {
		for _, group := range r.APIGroups {
			for _, res := range r.Resources {
				gr := schema.GroupResource{Group: group, Resource: res}
				if g[gr] == nil {
					g[gr] = sets.New[string]()
				}
				g[gr].Insert(r.Verbs...)
			}
		}
	}
	return g
}

func compareGR(a, b schema.GroupResource) int {
	return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Resource, b.Resource))
}

// kubectlCityAs runs the plugin with user's kubeconfig and returns its exit code and output.
func kubectlCityAs(ctx context.Context, u user, args ...string) (int, string, string) {
	GinkgoHelper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kubectlCity, append(args, "--kubeconfig", u.kubeconfig)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		Fail("could not run kubectl-city: " + err.Error())
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

var _ = Describe("The auditor role", func() {
	It("lets kubectl city audit, connectivity and explain run live, and grants exactly the kinds they read", func(ctx SpecContext) {
		By("giving the readers something to read")
		Expect(admin.Create(ctx, testutil.PublicService("reader", teamNamespace).Obj())).To(Succeed())
		Expect(admin.Create(ctx, networkZone())).To(Succeed())
		Expect(admin.Create(ctx, deployment(teamNamespace))).To(Succeed())
		Expect(admin.Create(ctx, networkPolicy(teamNamespace))).To(Succeed())

		reader := users[readerUser]
		By("running kubectl city audit, connectivity and explain as " + readerUser)
		for _, args := range [][]string{{"audit"}, {"audit", "-o", "json"}, {"connectivity"}, {"explain", "{any-pod}", teamNamespace + "/web", "--port", "80"}} {
			code, out, errOut := kubectlCityAs(ctx, reader, args...)
			// 0: no violation, 1: violations found; 2 would mean the command could not run.
			Expect(code).To(BeElementOf(0, 1), "kubectl city %v as the auditor: exit %d\n%s", args, code, errOut)
			Expect(out).NotTo(BeEmpty(), "kubectl city %v printed nothing", args)
			Expect(errOut).NotTo(ContainSubstring("forbidden"))
		}
		By("running the readers the operator's connectivity check uses, as " + readerUser)
		_, err := audit.ReadCluster(ctx, reader.client)
		Expect(err).NotTo(HaveOccurred())
		m, err := audit.ReadNamespaces(ctx, reader.client, teamNamespace, "no-such-namespace")
		Expect(err).NotTo(HaveOccurred())
		Expect(m.PublicServices).NotTo(BeEmpty(), "the reader saw no PublicService in %s", teamNamespace)

		By("comparing what they read (the API server's audit log) with what the role grants")
		granted := grants(roles["auditor"])
		for gr, verbs := range granted {
			Expect(sets.New("get", "list").IsSuperset(verbs)).To(BeTrue(), "the auditor role grants %v on %s: it only reads", sets.List(verbs), gr)
		}
		var reads map[schema.GroupResource]sets.Set[string]
		Eventually(func(g Gomega) {
			var refused []string
			reads, refused = readsOf(readerUser)
			g.Expect(refused).To(BeEmpty(), "requests of the readers the API server refused")
			g.Expect(reads).To(HaveKey(schema.GroupResource{Group: "platform.smartcity.io", Resource: "networkzones"}))
		}).Should(Succeed())
		Expect(slices.SortedFunc(maps.Keys(reads), compareGR)).To(Equal(slices.SortedFunc(maps.Keys(granted), compareGR)),
			"the kinds the readers read (left) and the kinds the auditor role grants (right) differ: "+
				"change config/rbac/auditor_role.yaml, and the error message of kubectl city's read")
		for gr, verbs := range reads {
			Expect(granted[gr].IsSuperset(verbs)).To(BeTrue(), "the readers %v %s; the auditor role grants %v",
				sets.List(verbs), gr, sets.List(granted[gr]))
		}
	})

	It("is needed whole: without any one of its kinds, the live reader is refused", func(ctx SpecContext) {
		for gr := range grants(roles["auditor"]) {
			name := "auditor-without-" + gr.Resource
			reduced := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}}
			for _, r := range roles["auditor"].Rules {
				r = *r.DeepCopy()
				if slices.Contains(r.APIGroups, gr.Group) {
					r.Resources = slices.DeleteFunc(r.Resources, func(res string) bool { return res == gr.Resource })
				}
				if len(r.Resources) > 0 {
					reduced.Rules = append(reduced.Rules, r)
				}
			}
			Expect(admin.Create(ctx, reduced)).To(Succeed())
			u := newUser(ctx, name, name, "")
			_, err := audit.ReadCluster(ctx, u.client)
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "reading the cluster without %s: want Forbidden, got %v", gr, err)
		}
	})
})
