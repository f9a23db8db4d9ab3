package leancache_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/leancache"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// Field managers of a Deployment's managedFields entries.
const (
	controllerManager = "kube-controller-manager"
	byHand            = "kubectl-edit"
)

// fields builds a FieldsV1 set.
func fields(raw string) *metav1.FieldsV1 { return metav1.NewFieldsV1(raw) }

// Entries as the API server records them: the operator's apply (with or without
// spec.replicas), the handoff's apply, the Deployment controller's revision and status, an
// edit by hand of the template.
var (
	operatorWithReplicas = metav1.ManagedFieldsEntry{Manager: render.FieldManager, Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: "apps/v1", FieldsType: "FieldsV1", Time: new(metav1.Now()),
		FieldsV1: fields(`{"f:metadata":{"f:labels":{"f:app.kubernetes.io/name":{}}},"f:spec":{"f:replicas":{},"f:selector":{},` +
			`"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`)}
	operatorWithoutReplicas = metav1.ManagedFieldsEntry{Manager: render.FieldManager, Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: "apps/v1", FieldsType: "FieldsV1", Time: new(metav1.Now()),
		FieldsV1: fields(`{"f:metadata":{"f:labels":{"f:app.kubernetes.io/name":{}}},"f:spec":{"f:selector":{},` +
			`"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`)}
	handoff = metav1.ManagedFieldsEntry{Manager: render.HandoffFieldManager, Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: "apps/v1", FieldsType: "FieldsV1", Time: new(metav1.Now()), FieldsV1: fields(`{"f:spec":{"f:replicas":{}}}`)}
	revision = metav1.ManagedFieldsEntry{Manager: controllerManager, Operation: metav1.ManagedFieldsOperationUpdate,
		APIVersion: "apps/v1", FieldsType: "FieldsV1", Time: new(metav1.Now()),
		FieldsV1: fields(`{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/revision":{}}}}`)}
	// The status has replicas too, under f:status: not spec.replicas.
	statusEntry = metav1.ManagedFieldsEntry{Manager: controllerManager, Operation: metav1.ManagedFieldsOperationUpdate,
		APIVersion: "apps/v1", FieldsType: "FieldsV1", Time: new(metav1.Now()), Subresource: "status",
		FieldsV1: fields(`{"f:status":{"f:replicas":{},"f:readyReplicas":{},"f:conditions":{}}}`)}
	editedImage = metav1.ManagedFieldsEntry{Manager: byHand, Operation: metav1.ManagedFieldsOperationUpdate,
		APIVersion: "apps/v1", FieldsType: "FieldsV1", Time: new(metav1.Now()),
		FieldsV1: fields(`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{"f:image":{}}}}}}}`)}
)

// reduced is an entry as the cache keeps it: owner of spec.replicas and nothing else.
func reduced(e metav1.ManagedFieldsEntry) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: e.Manager, Operation: e.Operation, APIVersion: e.APIVersion, Subresource: e.Subresource,
		FieldsType: e.FieldsType, FieldsV1: fields(`{"f:spec":{"f:replicas":{}}}`)}
}

// deployment is the portal's Deployment as the API server holds it: the operator's rendering,
// the server's defaults, the Deployment controller's revision and status, and managedFields.
func deployment(t testing.TB) *appsv1.Deployment {
	t.Helper()
	svc := testutil.PublicService("portal", "hanoi").UID("uid-svc").Profile(platformv1alpha1.ProfilePortal).
		Requests(corev1.ResourceCPU, "100m").Limits(corev1.ResourceMemory, "256Mi").Obj()
	svc.Spec.Env = []platformv1alpha1.EnvVar{{Name: "CITY", Value: "hanoi"}}
	d := &appsv1.Deployment{}
	raw, err := json.Marshal(render.Deployment(render.Input{Service: svc, Spec: svc.Effective()}, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, d); err != nil {
		t.Fatal(err)
	}
	d.UID, d.ResourceVersion, d.Generation = "uid-portal", "42", 3
	d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "3", corev1.LastAppliedConfigAnnotation: `{"big":"copy"}`}
	d.ManagedFields = []metav1.ManagedFieldsEntry{operatorWithReplicas, revision, statusEntry}
	d.Spec.ProgressDeadlineSeconds = new(int32(600))
	pod := &d.Spec.Template.Spec
	pod.RestartPolicy, pod.DNSPolicy, pod.SchedulerName = corev1.RestartPolicyAlways, corev1.DNSClusterFirst, corev1.DefaultSchedulerName
	pod.TerminationGracePeriodSeconds = new(int64(30))
	for i := range pod.Containers {
		c := &pod.Containers[i]
		c.ImagePullPolicy, c.TerminationMessagePath = corev1.PullIfNotPresent, corev1.TerminationMessagePathDefault
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1,
		UnavailableReplicas: 1, Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable",
				Message: "Deployment does not have minimum availability.", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated",
				Message: `ReplicaSet "portal-5d8f" is progressing.`, LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()},
		}}
	return d
}

func trimDeployment(t testing.TB, d *appsv1.Deployment) *appsv1.Deployment {
	t.Helper()
	out, err := leancache.TrimDeployment(d)
	if err != nil {
		t.Fatal(err)
	}
	return out.(*appsv1.Deployment)
}

func TestTrimDeployment(t *testing.T) {
	whole := deployment(t)
	got := trimDeployment(t, whole.DeepCopy())

	digest := got.Annotations[leancache.TemplateDigestAnnotation]
	if len(digest) != 64 {
		t.Fatalf("template digest %q is not a SHA-256 in hex", digest)
	}
	want := whole.DeepCopy()
	want.Annotations = map[string]string{"deployment.kubernetes.io/revision": "3", leancache.TemplateDigestAnnotation: digest}
	want.ManagedFields = []metav1.ManagedFieldsEntry{reduced(operatorWithReplicas)}
	want.Spec.Template = corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: whole.Spec.Template.Labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: render.ContainerName,
			Ports: []corev1.ContainerPort{{Name: render.PortName, ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
	}
	want.Status.Conditions = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TrimDeployment (-want +got):\n%s", diff)
	}
	// What the reconciler reads is there.
	if *got.Spec.Replicas != *whole.Spec.Replicas || got.Spec.Selector == nil || got.Spec.Strategy.RollingUpdate == nil ||
		got.Status.ReadyReplicas != 1 || got.Status.Replicas != 2 || got.Status.ObservedGeneration != 3 {
		t.Errorf("the trimmed Deployment lost what decisions read: %+v", got)
	}
}

// A trimmed Deployment, trimmed again or put in the cache's form, stays as it is: its digest
// is of the whole template, not of its trimmed form.
func TestTrimDeploymentIdempotent(t *testing.T) {
	once := trimDeployment(t, deployment(t))
	if diff := cmp.Diff(once, trimDeployment(t, once.DeepCopy())); diff != "" {
		t.Errorf("trimmed twice (-once +twice):\n%s", diff)
	}
	form, err := leancache.Form(once)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(once, form); diff != "" {
		t.Errorf("Form of a cached Deployment (-cached +form):\n%s", diff)
	}
	// Form returns a copy and leaves its argument alone.
	whole := deployment(t)
	if form, err = leancache.Form(whole); err != nil {
		t.Fatal(err)
	}
	if whole.Spec.Template.Spec.Containers[0].Image == "" || len(whole.ManagedFields) != 3 {
		t.Error("Form modified its argument")
	}
	if diff := cmp.Diff(once, form); diff != "" {
		t.Errorf("Form of a whole Deployment (-TrimDeployment +Form):\n%s", diff)
	}
	// An annotation set on the API server's object does not pass for a digest.
	forged := deployment(t)
	forged.Annotations[leancache.TemplateDigestAnnotation] = "forged"
	if got := trimDeployment(t, forged).Annotations[leancache.TemplateDigestAnnotation]; got != once.Annotations[leancache.TemplateDigestAnnotation] {
		t.Errorf("digest = %q, want the template's %q", got, once.Annotations[leancache.TemplateDigestAnnotation])
	}
}

func TestTrimDeploymentDigest(t *testing.T) {
	base := trimDeployment(t, deployment(t)).Annotations[leancache.TemplateDigestAnnotation]
	container := func(d *appsv1.Deployment) *corev1.Container { return &d.Spec.Template.Spec.Containers[0] }
	cases := []struct {
		name    string
		edit    func(*appsv1.Deployment)
		changes bool
	}{
		{name: "the image", edit: func(d *appsv1.Deployment) { container(d).Image = "evil.example/miner:1" }, changes: true},
		{name: "an env value", edit: func(d *appsv1.Deployment) { container(d).Env[0].Value = "hue" }, changes: true},
		{name: "an env var added", edit: func(d *appsv1.Deployment) {
			container(d).Env = append(container(d).Env, corev1.EnvVar{Name: "DEBUG", Value: "1"})
		}, changes: true},
		{name: "the readiness probe's path", edit: func(d *appsv1.Deployment) {
			container(d).ReadinessProbe.HTTPGet.Path = "/"
		}, changes: true},
		{name: "the liveness probe removed", edit: func(d *appsv1.Deployment) { container(d).LivenessProbe = nil }, changes: true},
		{name: "a memory limit", edit: func(d *appsv1.Deployment) {
			container(d).Resources.Limits[corev1.ResourceMemory] = resource.MustParse("1Gi")
		}, changes: true},
		{name: "privilege escalation allowed", edit: func(d *appsv1.Deployment) {
			container(d).SecurityContext.AllowPrivilegeEscalation = new(true)
		}, changes: true},
		{name: "the service account", edit: func(d *appsv1.Deployment) { d.Spec.Template.Spec.ServiceAccountName = "default" }, changes: true},
		{name: "a template annotation (a rollout restart)", edit: func(d *appsv1.Deployment) {
			d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-11-29T10:00:00Z"}
		}, changes: true},
		{name: "the status", edit: func(d *appsv1.Deployment) {
			d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.Conditions = 2, 2, nil
		}},
		{name: "the replicas (an HPA)", edit: func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(7)) }},
		{name: "the revision annotation", edit: func(d *appsv1.Deployment) { d.Annotations["deployment.kubernetes.io/revision"] = "4" }},
		{name: "a label on the Deployment", edit: func(d *appsv1.Deployment) { d.Labels["team"] = "citizens" }},
		{name: "the managedFields", edit: func(d *appsv1.Deployment) {
			d.ManagedFields = append(d.ManagedFields, editedImage)
		}},
		{name: "bookkeeping", edit: func(d *appsv1.Deployment) { d.ResourceVersion, d.Generation = "43", 4 }},
		{name: "an empty list decoded as nil", edit: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Tolerations = []corev1.Toleration{}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := deployment(t)
			tc.edit(d)
			got := trimDeployment(t, d).Annotations[leancache.TemplateDigestAnnotation]
			if changed := got != base; changed != tc.changes {
				t.Errorf("digest changed = %v, want %v", changed, tc.changes)
			}
		})
	}
}

func TestTrimDeploymentManagedFields(t *testing.T) {
	cases := []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    []metav1.ManagedFieldsEntry
	}{
		{name: "the operator owns spec.replicas",
			entries: []metav1.ManagedFieldsEntry{operatorWithReplicas, revision, statusEntry, editedImage},
			want:    []metav1.ManagedFieldsEntry{reduced(operatorWithReplicas)}},
		{name: "the handoff owns them",
			entries: []metav1.ManagedFieldsEntry{operatorWithoutReplicas, handoff, revision, statusEntry},
			want:    []metav1.ManagedFieldsEntry{reduced(handoff)}},
		{name: "both during the handoff",
			entries: []metav1.ManagedFieldsEntry{operatorWithReplicas, handoff},
			want:    []metav1.ManagedFieldsEntry{reduced(operatorWithReplicas), reduced(handoff)}},
		{name: "nobody does (only the status has replicas)",
			entries: []metav1.ManagedFieldsEntry{operatorWithoutReplicas, revision, statusEntry}},
		{name: "an HPA's scale writes", entries: []metav1.ManagedFieldsEntry{operatorWithoutReplicas, {Manager: controllerManager,
			Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "scale", FieldsType: "FieldsV1", FieldsV1: fields(`{"f:spec":{"f:replicas":{}}}`)}},
			want: []metav1.ManagedFieldsEntry{{Manager: controllerManager, Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "scale",
				FieldsType: "FieldsV1", FieldsV1: fields(`{"f:spec":{"f:replicas":{}}}`)}}},
		{name: "an entry without fields", entries: []metav1.ManagedFieldsEntry{{Manager: byHand, Operation: metav1.ManagedFieldsOperationUpdate}}},
		{name: "none"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := deployment(t)
			d.ManagedFields = tc.entries
			if diff := cmp.Diff(tc.want, trimDeployment(t, d).ManagedFields); diff != "" {
				t.Errorf("managedFields (-want +got):\n%s", diff)
			}
		})
	}
}

// Which FieldsV1 sets own spec.replicas: the cache reads them without decoding.
func TestTrimDeploymentReplicasOwner(t *testing.T) {
	cases := []struct {
		set  string
		owns bool
	}{
		{set: `{"f:spec":{"f:replicas":{}}}`, owns: true},
		{set: ` { "f:spec" : { "f:selector":{}, "f:replicas" : {} } } `, owns: true},
		{set: "{\n\t\"f:spec\":{\"f:replicas\":{}}\n}", owns: true},
		{set: `{"f:metadata":{"f:labels":{"k:{\"f:spec\":{}}":{}}},"f:spec":{"f:template":{},"f:replicas":{".":{}}}}`, owns: true},
		{set: `{"f:spec":{"k:\"":{},"f:replicas":{}}}`, owns: true}, // a name that ends in an escaped quote
		{set: `{"f:spec":{"f:template":{"f:spec":{"f:replicas":{}}}}}`},
		{set: `{"f:status":{"f:replicas":{}}}`},
		{set: `{"f:metadata":{"f:spec":{"f:replicas":{}}}}`},
		{set: `{"f:spec":{"k:{\"f:replicas\":{}}":{}}}`},
		{set: `{"f:spec":{"f:replicas\"":{}}}`},
		{set: `{"f:spec":"f:replicas"}`},
		{set: `{"f:spec":{"f:replicas":{}}`, owns: true}, // unbalanced after the path: the rest is never read
		{set: `{"f:spec":{"f:replicas":`},
		{set: `{"f:spec`},
		{set: ``},
	}
	for _, tc := range cases {
		t.Run(tc.set, func(t *testing.T) {
			d := deployment(t)
			d.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: byHand, Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: fields(tc.set)}}
			if owns := len(trimDeployment(t, d).ManagedFields) == 1; owns != tc.owns {
				t.Errorf("owns spec.replicas = %v, want %v", owns, tc.owns)
			}
		})
	}
}

func TestTrimmedFields(t *testing.T) {
	want := []leancache.TrimmedField{{Path: []string{"spec", "template"}, Annotation: leancache.TemplateDigestAnnotation}}
	if diff := cmp.Diff(want, leancache.TrimmedFields(&appsv1.Deployment{})); diff != "" {
		t.Errorf("TrimmedFields(Deployment) (-want +got):\n%s", diff)
	}
	if got := leancache.TrimmedFields(&appsv1.StatefulSet{}); got != nil {
		t.Errorf("TrimmedFields(StatefulSet) = %v, want none (nothing the operator applies)", got)
	}
}

// BenchmarkTrimDeployment is the transform's cost per Deployment as the informer receives it
// (the copies it trims are made with the timer stopped, 256 at a time).
func BenchmarkTrimDeployment(b *testing.B) {
	whole := deployment(b)
	whole.ManagedFields = serverManagedFields(b, whole)
	copies := make([]*appsv1.Deployment, 256)
	next := len(copies)
	b.ReportAllocs()
	for b.Loop() {
		if next == len(copies) {
			b.StopTimer()
			for i := range copies {
				copies[i] = whole.DeepCopy()
			}
			next = 0
			b.StartTimer()
		}
		if _, err := leancache.TrimDeployment(copies[next]); err != nil {
			b.Fatal(err)
		}
		next++
	}
}

// BenchmarkRetainedDeployments reports the heap that 1,000 cached Deployments hold, whole
// (as before: only the last-applied annotation stripped) and trimmed, each decoded from its
// own JSON as an informer does, with managedFields the size of the API server's.
func BenchmarkRetainedDeployments(b *testing.B) {
	const n = 1000
	raw := make([][]byte, n)
	for i := range raw {
		d := deployment(b)
		d.Name, d.UID = fmt.Sprintf("portal-%d", i), types.UID(fmt.Sprint("uid-", i))
		d.ManagedFields = append(d.ManagedFields[:0:0], serverManagedFields(b, d)...)
		var err error
		if raw[i], err = json.Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
	retained := func(transform func(any) (any, error)) float64 {
		kept := make([]any, n)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range kept {
			d := &appsv1.Deployment{}
			if err := json.Unmarshal(raw[i], d); err != nil {
				b.Fatal(err)
			}
			out, err := transform(d)
			if err != nil {
				b.Fatal(err)
			}
			kept[i] = out
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(kept)
		return float64(after.HeapAlloc-before.HeapAlloc) / n
	}
	untouched := func(in any) (any, error) { return in, nil }
	var whole, trimmed float64
	for b.Loop() {
		whole, trimmed = retained(untouched), retained(leancache.TrimDeployment)
	}
	b.ReportMetric(whole, "B/whole-deployment")
	b.ReportMetric(trimmed, "B/trimmed-deployment")
}

// serverManagedFields are managedFields as the API server writes them for d: the operator's
// apply owns every field of the metadata's labels and owners and of the spec; the Deployment
// controller owns the revision annotation and the status.
func serverManagedFields(b *testing.B, d *appsv1.Deployment) []metav1.ManagedFieldsEntry {
	b.Helper()
	set := func(v any) *metav1.FieldsV1 {
		raw, err := json.Marshal(fieldSet(v))
		if err != nil {
			b.Fatal(err)
		}
		return metav1.NewFieldsV1(string(raw))
	}
	decoded := func(v any) any {
		raw, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		var out any
		if err := json.Unmarshal(raw, &out); err != nil {
			b.Fatal(err)
		}
		return out
	}
	applied := map[string]any{
		"metadata": map[string]any{"labels": decoded(d.Labels), "ownerReferences": decoded(d.OwnerReferences)},
		"spec":     decoded(d.Spec),
	}
	entry := func(manager string, op metav1.ManagedFieldsOperationType, sub string, v any) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, APIVersion: "apps/v1", Time: new(metav1.Now()),
			FieldsType: "FieldsV1", Subresource: sub, FieldsV1: set(v)}
	}
	return []metav1.ManagedFieldsEntry{
		entry(render.FieldManager, metav1.ManagedFieldsOperationApply, "", applied),
		entry(controllerManager, metav1.ManagedFieldsOperationUpdate, "",
			map[string]any{"metadata": map[string]any{"annotations": map[string]any{"deployment.kubernetes.io/revision": "3"}}}),
		entry(controllerManager, metav1.ManagedFieldsOperationUpdate, "status", map[string]any{"status": decoded(d.Status)}),
	}
}

// fieldSet is the FieldsV1 set of a decoded JSON value: "f:" keys for fields, "k:" keys for
// list elements with a name, "v:" for other list elements.
func fieldSet(v any) map[string]any {
	out := map[string]any{}
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			out["f:"+k] = fieldSet(sub)
		}
	case []any:
		for i, el := range x {
			key := fmt.Sprintf("v:%d", i)
			if m, ok := el.(map[string]any); ok && m["name"] != nil {
				key = fmt.Sprintf(`k:{"name":%q}`, m["name"])
			}
			out[key] = fieldSet(el)
		}
	}
	return out
}
