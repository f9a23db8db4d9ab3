package controllers

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/csaupgrade"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// Two controllers write a PublicService's status, each with server-side apply under its own
// field manager: the PublicService controller (render.FieldManager) everything but
// ConnectivityVerified, the connectivity controller (ConnectivityFieldManager) that condition.
// Conditions are a map list keyed by type, so neither removes the other's.

// statusSubresource names the status subresource in managedFields entries.
const statusSubresource = "status"

// statusApplyConfiguration is the apply configuration of svc's status subresource holding st:
// the fields st sets, and no others.
func statusApplyConfiguration(svc *platformv1alpha1.PublicService, st *platformv1alpha1.PublicServiceStatus) (runtime.ApplyConfiguration, error) {
	status, err := runtime.DefaultUnstructuredConverter.ToUnstructured(st)
	if err != nil {
		return nil, fmt.Errorf("failed to convert the status: %w", err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{statusSubresource: status}}
	u.SetGroupVersionKind(platformv1alpha1.GroupVersion.WithKind("PublicService"))
	u.SetNamespace(svc.Namespace)
	u.SetName(svc.Name)
	return client.ApplyConfigurationFromUnstructured(u), nil
}

// hasStatusApplyEntry reports whether manager owns fields of obj's status through an Apply.
func hasStatusApplyEntry(obj metav1.Object, manager string) bool {
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager == manager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == statusSubresource {
			return true
		}
	}
	return false
}

// statusEditors lists the managers that own fields of obj's status through Update operations:
// earlier versions of the operator, which wrote the status with merge patches (their manager
// is named after the binary, "manager" in the image), and edits by hand.
func statusEditors(obj metav1.Object) sets.Set[string] {
	editors := sets.New[string]()
	for _, mf := range obj.GetManagedFields() {
		if mf.Operation == metav1.ManagedFieldsOperationUpdate && mf.Subresource == statusSubresource {
			editors.Insert(mf.Manager)
		}
	}
	return editors
}

// upgradeStatusOwnership moves the status fields that Update managers own to manager's
// Apply entry, with client-go's csaupgrade, so that manager's next apply can remove what it
// no longer sets (a merge-patch owner would keep every condition it ever wrote). It runs once
// per object: afterwards no Update entry is left. It reports whether it moved anything; obj
// then holds the patched object.
func upgradeStatusOwnership(ctx context.Context, c client.Client, obj client.Object, manager string) (bool, error) {
	editors := statusEditors(obj)
	if editors.Len() == 0 {
		return false, nil
	}
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(obj, editors, manager, csaupgrade.Subresource(statusSubresource))
	if err != nil || patch == nil {
		return false, err
	}
	if err := c.Patch(ctx, obj, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return false, fmt.Errorf("failed to move status ownership from %v to %s: %w", sets.List(editors), manager, err)
	}
	ctrl.LoggerFrom(ctx).Info("Moved status ownership to server-side apply", "object", klog.KObj(obj),
		"from", sets.List(editors), "to", manager)
	return true, nil
}
