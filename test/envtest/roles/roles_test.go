package roles

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The people of the suite, each bound to one role (bindUsers).
const (
	editor        = "editor"         // publicservice-editor in teamNamespace
	viewer        = "viewer"         // publicservice-viewer in teamNamespace
	clusterViewer = "cluster-viewer" // publicservice-viewer cluster-wide
	provider      = "provider"       // network-provider cluster-wide
	auditor       = "auditor"        // auditor cluster-wide
)

// users are the people of the suite by name, bound once in BeforeSuite.
var users map[string]user

// bindUsers provisions the people of the suite, and readerUser (auditor cluster-wide).
func bindUsers(ctx context.Context) map[string]user {
	GinkgoHelper()
	return map[string]user{
		editor:        newUser(ctx, editor, "publicservice-editor", teamNamespace),
		viewer:        newUser(ctx, viewer, "publicservice-viewer", teamNamespace),
		clusterViewer: newUser(ctx, clusterViewer, "publicservice-viewer", ""),
		provider:      newUser(ctx, provider, "network-provider", ""),
		auditor:       newUser(ctx, auditor, "auditor", ""),
		readerUser:    newUser(ctx, readerUser, "auditor", ""),
	}
}

// expectation is what one user may or may not do to one kind of object.
type expectation struct {
	who     string
	allowed bool
	verbs   []string
	object  func() client.Object
}

var (
	allVerbs   = []string{verbCreate, verbGet, verbList, verbUpdate, verbPatch, verbDelete, verbDeleteCollection}
	readVerbs  = []string{verbGet, verbList}
	writeVerbs = []string{verbCreate, verbUpdate, verbPatch, verbDelete, verbDeleteCollection}
)

func inTeam(f func(string) client.Object) func() client.Object {
	return func() client.Object { return f(teamNamespace) }
}

func inOther(f func(string) client.Object) func() client.Object {
	return func() client.Object { return f(otherNamespace) }
}

var expectations = []expectation{
	// The editor writes the PublicServices of its namespace, and nothing else.
	{editor, true, allVerbs, inTeam(publicService)},
	{editor, false, []string{verbUpdateStatus}, inTeam(publicService)},
	{editor, false, []string{verbCreate, verbList}, inOther(publicService)},
	{editor, false, []string{verbCreate, verbList}, networkZone},
	{editor, false, readVerbs, inTeam(secret)},

	// The viewer reads the PublicServices of its namespace. Bound in a namespace, it reads no
	// NetworkZone (cluster-scoped); bound cluster-wide it does.
	{viewer, true, readVerbs, inTeam(publicService)},
	{viewer, false, append([]string{verbUpdateStatus}, writeVerbs...), inTeam(publicService)},
	{viewer, false, readVerbs, inOther(publicService)},
	{viewer, false, readVerbs, networkZone},
	{viewer, false, readVerbs, inTeam(secret)},
	{clusterViewer, true, readVerbs, inOther(publicService)},
	{clusterViewer, true, readVerbs, networkZone},
	{clusterViewer, false, writeVerbs, networkZone},
	{clusterViewer, false, writeVerbs, inOther(publicService)},

	// The network provider manages NetworkZones; their status is the operator's.
	{provider, true, allVerbs, networkZone},
	{provider, false, []string{verbUpdateStatus}, networkZone},
	{provider, false, []string{verbCreate, verbList}, inTeam(publicService)},
	{provider, false, readVerbs, inTeam(secret)},

	// The auditor reads what the audit reads, writes nothing, and never reads a Secret.
	{auditor, true, readVerbs, inTeam(publicService)},
	{auditor, true, readVerbs, networkZone},
	{auditor, true, readVerbs, namespace},
	{auditor, true, readVerbs, inTeam(pod)},
	{auditor, true, readVerbs, inTeam(deployment)},
	{auditor, true, readVerbs, inTeam(networkPolicy)},
	{auditor, true, []string{verbList}, inTeam(statefulSets)},
	{auditor, true, []string{verbList}, inTeam(daemonSets)},
	{auditor, true, []string{verbList}, inTeam(replicaSets)},
	{auditor, false, writeVerbs, inTeam(publicService)},
	{auditor, false, writeVerbs, networkZone},
	{auditor, false, writeVerbs, inTeam(networkPolicy)},
	{auditor, false, []string{verbCreate, verbDelete}, namespace},
	{auditor, false, []string{verbUpdateStatus}, inTeam(publicService)},
	{auditor, false, readVerbs, inTeam(secret)},
	{auditor, false, readVerbs, inOther(secret)},
	{auditor, false, []string{verbList}, func() client.Object { return secret("") }}, // in every namespace
	{auditor, false, readVerbs, inTeam(configMap)},
	{auditor, false, readVerbs, inTeam(service)},
}

// requestEntries turns the expectations into one table entry per user, verb and object.
func requestEntries() []TableEntry {
	var entries []TableEntry
	for _, e := range expectations {
		obj := e.object()
		where := "cluster-wide"
		if obj.GetNamespace() != "" {
			where = "in " + obj.GetNamespace()
		}
		may := "may"
		if !e.allowed {
			may = "may not"
		}
		for _, verb := range e.verbs {
			entries = append(entries, Entry(fmt.Sprintf("%s %s %s %s %s", e.who, may, verb, kindOf(obj), where),
				e.who, verb, e.object, e.allowed))
		}
	}
	return entries
}

var _ = Describe("Roles to hand out", func() {
	DescribeTable("each user's requests",
		func(ctx SpecContext, who, verb string, object func() client.Object, allowed bool) {
			u, ok := users[who]
			Expect(ok).To(BeTrue(), "no user %s", who)
			err := request(ctx, u.client, verb, object())
			if allowed {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(apierrors.IsForbidden(err)).To(BeTrue(), "want Forbidden, got %v", err)
			}
		},
		requestEntries(),
	)

	It("aggregates the editor into edit and admin, and the viewer into view", func() {
		Expect(roles["publicservice-editor"].Labels).To(And(
			HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-edit", "true"),
			HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-admin", "true"),
			Not(HaveKey("rbac.authorization.k8s.io/aggregate-to-view"))))
		Expect(roles["publicservice-viewer"].Labels).To(And(
			HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-view", "true"),
			Not(HaveKey("rbac.authorization.k8s.io/aggregate-to-edit"))))
		for _, name := range []string{"network-provider", "auditor"} {
			for k := range roles[name].Labels {
				Expect(strings.HasPrefix(k, "rbac.authorization.k8s.io/aggregate-to-")).To(BeFalse(),
					"%s is aggregated (%s): it is bound on its own", name, k)
			}
		}
	})
})
