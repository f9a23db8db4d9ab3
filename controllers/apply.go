package controllers

import (
	"context"
	"encoding/json"
	"fmt"

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

// applyChild applies a child's desired state under the operator's field manager, after
// checking that the existing object (if any) is controlled by owner. live receives the
// existing object; it is left as read.
func applyChild(ctx context.Context, c client.Client, owner metav1.Object, kind string, live client.Object,
	ac runtime.ApplyConfiguration, key client.ObjectKey) (applyResult, error) {
	found := true
	if err := c.Get(ctx, key, live); err != nil {
		if !apierrors.IsNotFound(err) {
			return unchanged, fmt.Errorf("failed to get %s %s: %w", kind, key, err)
		}
		found = false
	}
	if found && !metav1.IsControlledBy(live, owner) {
		return unchanged, &conflictError{kind: kind, key: key}
	}
	err := c.Apply(ctx, ac, client.FieldOwner(render.FieldManager), client.ForceOwnership)
	if found && apierrors.IsInvalid(err) {
		// An edit by hand (kubectl edit, an Update) can own list entries that the operator's
		// apply cannot remove, such as a Service port whose number changed: the merged object is
		// then invalid. Take over the editors' fields, so the apply prunes what they added, and
		// try once more.
		if reclaimed, rerr := reclaimFromEditors(ctx, c, live); rerr != nil {
			return unchanged, rerr
		} else if reclaimed {
			err = c.Apply(ctx, ac, client.FieldOwner(render.FieldManager), client.ForceOwnership)
		}
	}
	if err != nil {
		return unchanged, fmt.Errorf("failed to apply %s %s: %w", kind, key, err)
	}
	switch rv := resourceVersionOf(ac); {
	case !found:
		return created, nil
	case rv != live.GetResourceVersion():
		return updated, nil
	default:
		return unchanged, nil
	}
}

// systemManagers are the Update managers whose fields the operator never takes over: the
// control plane's controllers (Deployment revisions, HPA scale writes, endpoints).
var systemManagers = sets.New("kube-controller-manager", "kube-scheduler", "kubelet", "kube-apiserver")

// reclaimFromEditors moves the fields that non-system managers own through Update operations
// into the operator's apply entry, with client-go's csaupgrade (the documented way to move
// fields from Update to Apply ownership). It reports whether there was anything to move.
func reclaimFromEditors(ctx context.Context, c client.Client, live client.Object) (bool, error) {
	editors := sets.New[string]()
	for _, mf := range live.GetManagedFields() {
		if mf.Operation == metav1.ManagedFieldsOperationUpdate && mf.Subresource == "" && !systemManagers.Has(mf.Manager) {
			editors.Insert(mf.Manager)
		}
	}
	if editors.Len() == 0 {
		return false, nil
	}
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(live, editors, render.FieldManager)
	if err != nil || patch == nil {
		return false, err
	}
	if err := c.Patch(ctx, live, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return false, fmt.Errorf("failed to take over fields edited by %v: %w", sets.List(editors), err)
	}
	ctrl.LoggerFrom(ctx).Info("Took over fields edited by hand to repair drift", "object", klog.KObj(live), "editors", sets.List(editors))
	return true, nil
}

// deleteChild deletes a child that the spec no longer asks for, if this owner controls it.
func deleteChild(ctx context.Context, c client.Client, owner metav1.Object, kind string, live client.Object, key client.ObjectKey) (bool, error) {
	if err := c.Get(ctx, key, live); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("failed to get %s %s: %w", kind, key, err)
	}
	if !metav1.IsControlledBy(live, owner) {
		return false, nil // not ours: leave it alone
	}
	if err := c.Delete(ctx, live, client.Preconditions{UID: new(live.GetUID())}); client.IgnoreNotFound(err) != nil {
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
