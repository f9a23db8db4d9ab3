package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/csaupgrade"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// conflictError says a child's name is taken by an object this PublicService does not control.
type conflictError struct {
	kind string
	key  client.ObjectKey
}

func (e *conflictError) Error() string {
	return fmt.Sprintf("%s %s already exists and is not owned by this PublicService; the operator never takes it over: rename or delete it", e.kind, e.key)
}

// applyResult says what an apply did.
type applyResult int

const (
	unchanged applyResult = iota
	created
	updated
)

// applier writes an owner's children: server-side apply under a field manager, skipped when
// its memo shows that the apply would change nothing.
type applier struct {
	client client.Client
	// uncached reads what the cache strips (managedFields), for the drift repair.
	uncached client.Reader
	memo     *applyMemo
}

// applier returns the reconciler's applier: its client, its API reader (the client when
// unset) and its memo of applies.
func (r *PublicServiceReconciler) applier() applier {
	var uncached client.Reader = r.Client
	if r.APIReader != nil {
		uncached = r.APIReader
	}
	return applier{client: r.Client, uncached: uncached, memo: &r.applied}
}

// applyChild applies a child's desired state under the operator's field manager, after
// checking that the existing object (if any) is controlled by owner. live receives the
// existing object; it is left as read. When the memo shows that the same configuration
// produced the live object's resourceVersion, no request is sent and ac is filled with the
// live object, as the API server would have answered.
func (a applier) applyChild(ctx context.Context, owner metav1.Object, kind string, live client.Object,
	ac runtime.ApplyConfiguration, key client.ObjectKey) (applyResult, error) {
	found := true
	if err := a.client.Get(ctx, key, live); err != nil {
		if !apierrors.IsNotFound(err) {
			return unchanged, fmt.Errorf("failed to get %s %s: %w", kind, key, err)
		}
		found = false
	}
	if found && !metav1.IsControlledBy(live, owner) {
		return unchanged, &conflictError{kind: kind, key: key}
	}
	mk := memoKey{kind: kind, key: key, manager: render.FieldManager}
	desired, err := newDesiredApply(ac)
	if err != nil {
		return unchanged, err
	}
	if found && a.memo.current(mk, desired, live) {
		return unchanged, fillFromLive(ac, live)
	}
	err = a.client.Apply(ctx, ac, client.FieldOwner(render.FieldManager), client.ForceOwnership)
	if found && apierrors.IsInvalid(err) {
		// An edit by hand (kubectl edit, an Update) can own list entries that the operator's
		// apply cannot remove, such as a Service port whose number changed: the merged object is
		// then invalid. Take over the editors' fields, so the apply prunes what they added, and
		// try once more.
		if reclaimed, rerr := a.reclaimFromEditors(ctx, live, key); rerr != nil {
			a.memo.forget(mk)
			return unchanged, rerr
		} else if reclaimed {
			err = a.client.Apply(ctx, ac, client.FieldOwner(render.FieldManager), client.ForceOwnership)
		}
	}
	if err != nil {
		a.memo.forget(mk)
		return unchanged, fmt.Errorf("failed to apply %s %s: %w", kind, key, err)
	}
	rv := a.rememberApply(mk, desired, ac, live)
	switch {
	case !found:
		return created, nil
	case rv != live.GetResourceVersion():
		return updated, nil
	default:
		return unchanged, nil
	}
}

// applyAs applies ac to live, the object of kind at key, under another field manager (the
// replicas handoff), unless the memo shows that the same configuration produced it.
func (a applier) applyAs(ctx context.Context, manager, kind string, key client.ObjectKey, live client.Object, ac runtime.ApplyConfiguration) error {
	mk := memoKey{kind: kind, key: key, manager: manager}
	desired, err := newDesiredApply(ac)
	if err != nil {
		return err
	}
	if a.memo.current(mk, desired, live) {
		return nil
	}
	if err := a.client.Apply(ctx, ac, client.FieldOwner(manager), client.ForceOwnership); err != nil {
		a.memo.forget(mk)
		return err
	}
	a.rememberApply(mk, desired, ac, live)
	return nil
}

// rememberApply records a successful apply in the memo: what it sent (desired) and the
// server's answer, which the client wrote into ac; like is an object of the child's type. It
// returns the answer's resourceVersion.
func (a applier) rememberApply(mk memoKey, desired desiredApply, ac runtime.ApplyConfiguration, like client.Object) string {
	answer, ok := reflect.TypeAssert[client.Object](reflect.New(reflect.TypeOf(like).Elem()))
	if !ok || fromApplied(ac, answer) != nil {
		a.memo.forget(mk)
		return resourceVersionOf(ac)
	}
	content, err := contentHash(answer, desired)
	if err != nil {
		a.memo.forget(mk)
		return answer.GetResourceVersion()
	}
	a.memo.remember(mk, memoEntry{hash: desired.hash, resourceVersion: answer.GetResourceVersion(), content: content})
	return answer.GetResourceVersion()
}

// fillFromLive replaces ac's content with the live object's, so that ac reads as the API
// server's answer to an apply that changed nothing.
func fillFromLive(ac runtime.ApplyConfiguration, live client.Object) error {
	raw, err := json.Marshal(live)
	if err != nil {
		return fmt.Errorf("failed to read live object: %w", err)
	}
	v := reflect.ValueOf(ac)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("apply configuration %T is not a pointer", ac)
	}
	v.Elem().SetZero()
	if err := json.Unmarshal(raw, ac); err != nil {
		return fmt.Errorf("failed to read live object: %w", err)
	}
	return nil
}

// systemManagers are the Update managers whose fields the operator never takes over: the
// control plane's controllers (Deployment revisions, HPA scale writes, endpoints).
var systemManagers = sets.New("kube-controller-manager", "kube-scheduler", "kubelet", "kube-apiserver")

// reclaimFromEditors moves the fields that non-system managers own through Update operations
// into the operator's apply entry, with client-go's csaupgrade (the documented way to move
// fields from Update to Apply ownership). It reads the object without the cache, which
// strips managedFields from most kinds (main.go), and reports whether there was anything to
// move.
func (a applier) reclaimFromEditors(ctx context.Context, live client.Object, key client.ObjectKey) (bool, error) {
	fresh, ok := live.DeepCopyObject().(client.Object)
	if !ok {
		return false, fmt.Errorf("%T is not an object", live)
	}
	if err := a.uncached.Get(ctx, key, fresh); err != nil {
		return false, fmt.Errorf("failed to read %s for its field owners: %w", klog.KObj(live), err)
	}
	editors := sets.New[string]()
	for _, mf := range fresh.GetManagedFields() {
		if mf.Operation == metav1.ManagedFieldsOperationUpdate && mf.Subresource == "" && !systemManagers.Has(mf.Manager) {
			editors.Insert(mf.Manager)
		}
	}
	if editors.Len() == 0 {
		return false, nil
	}
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(fresh, editors, render.FieldManager)
	if err != nil || patch == nil {
		return false, err
	}
	if err := a.client.Patch(ctx, fresh, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return false, fmt.Errorf("failed to take over fields edited by %v: %w", sets.List(editors), err)
	}
	ctrl.LoggerFrom(ctx).Info("Took over fields edited by hand to repair drift", "object", klog.KObj(fresh), "editors", sets.List(editors))
	return true, nil
}

// deleteChild deletes a child that the spec no longer asks for, if this owner controls it,
// and forgets its applies.
func (a applier) deleteChild(ctx context.Context, owner metav1.Object, kind string, live client.Object, key client.ObjectKey) (bool, error) {
	if err := a.client.Get(ctx, key, live); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("failed to get %s %s: %w", kind, key, err)
	}
	if !metav1.IsControlledBy(live, owner) {
		return false, nil // not ours: leave it alone
	}
	a.memo.forgetObject(kind, key)
	if err := a.client.Delete(ctx, live, client.Preconditions{UID: new(live.GetUID())}); client.IgnoreNotFound(err) != nil {
		return false, fmt.Errorf("failed to delete %s %s: %w", kind, key, err)
	}
	return true, nil
}

// resourceVersionOf reads metadata.resourceVersion from an apply configuration that the
// client filled with the API server's response.
func resourceVersionOf(ac runtime.ApplyConfiguration) string {
	raw, err := json.Marshal(ac)
	if err != nil {
		return ""
	}
	var m struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.Metadata.ResourceVersion
}

// ownsField reports whether manager owns the field at path (for example "spec", "replicas")
// through an Apply operation, according to the object's managedFields.
func ownsField(obj metav1.Object, manager string, path ...string) bool {
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager != manager || mf.Operation != metav1.ManagedFieldsOperationApply || mf.FieldsV1 == nil {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields); err != nil {
			continue
		}
		node := fields
		ok := true
		for _, p := range path {
			next, found := node["f:"+p].(map[string]any)
			if !found {
				ok = false
				break
			}
			node = next
		}
		if ok {
			return true
		}
	}
	return false
}
