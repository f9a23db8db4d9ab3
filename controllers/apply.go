package controllers

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
	if err := c.Apply(ctx, ac, client.FieldOwner(render.FieldManager), client.ForceOwnership); err != nil {
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
