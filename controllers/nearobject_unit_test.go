package controllers

import (
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// TestServicesNearObject maps policies to the services whose verification they can change: an
// owned policy to its service and its peers (what it consumes, who consumes it), not to the
// unrelated services beside it nor to a provider that admits the namespace without being
// consumed, unless a foreign policy in the namespace could open flows between them.
func TestServicesNearObject(t *testing.T) {
	service := func(ns, name string, spec platformv1alpha1.PublicServiceSpec) *platformv1alpha1.PublicService {
		return &platformv1alpha1.PublicService{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
	}
	policy := func(ns, name, owner string) *networkingv1.NetworkPolicy {
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if owner != "" {
			np.OwnerReferences = []metav1.OwnerReference{{APIVersion: platformv1alpha1.GroupVersion.String(),
				Kind: "PublicService", Name: owner, UID: types.UID("uid-" + owner), Controller: new(true)}}
		}
		return np
	}
	services := []client.Object{
		service("city", "portal", platformv1alpha1.PublicServiceSpec{
			Consumes: []platformv1alpha1.ServiceReference{{Service: "idv", Namespace: "identity"}}}),
		service("city", "library", platformv1alpha1.PublicServiceSpec{}), // portal's unrelated sibling
		service("identity", "idv", platformv1alpha1.PublicServiceSpec{
			AllowFrom: []platformv1alpha1.AllowSource{{Service: "portal", Namespace: "city"}}}),
		service("hospital", "checkin", platformv1alpha1.PublicServiceSpec{ // admits the namespace city, consumed by nobody there
			AllowFrom: []platformv1alpha1.AllowSource{{Namespace: "city"}}}),
		service("tourism", "guide", platformv1alpha1.PublicServiceSpec{ // consumes portal
			Consumes: []platformv1alpha1.ServiceReference{{Service: "portal", Namespace: "city"}}}),
		service("elsewhere", "archive", platformv1alpha1.PublicServiceSpec{}),
	}
	all := []string{"city/library", "city/portal", "elsewhere/archive", "hospital/checkin", "identity/idv", "tourism/guide"}
	aroundPortal := []string{"city/portal", "identity/idv", "tourism/guide"}
	wholeCity := []string{"city/library", "city/portal", "hospital/checkin", "identity/idv", "tourism/guide"}

	for name, tc := range map[string]struct {
		existing []client.Object
		changed  client.Object
		want     []string
	}{
		"portal's own policy wakes portal and its peers, not its sibling": {
			changed: policy("city", "portal", "portal"), want: aroundPortal},
		"a foreign policy wakes every service whose flows involve its namespace": {
			changed: policy("city", "allow-all", ""), want: wholeCity},
		"portal's own policy, beside a foreign policy that may open flows, wakes the namespace": {
			existing: []client.Object{policy("city", "allow-all", "")}, changed: policy("city", "portal", "portal"), want: wholeCity},
		"a policy of a service that is gone wakes the namespace": {
			changed: policy("city", "ghost", "ghost"), want: wholeCity},
		"an owned policy in the DNS namespace wakes every service": {
			changed: policy("kube-system", "portal", "portal"), want: all},
	} {
		t.Run(name, func(t *testing.T) {
			b := fake.NewClientBuilder().WithScheme(unitScheme(t)).WithObjects(append(slices.Clone(services), tc.existing...)...)
			for index, fn := range publicServiceIndexes() {
				b = b.WithIndex(&platformv1alpha1.PublicService{}, index, fn)
			}
			r := &ConnectivityReconciler{Client: b.Build()}
			var got []string
			for _, req := range r.servicesNearObject(t.Context(), tc.changed) {
				got = append(got, req.String())
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("woke %v, want %v", got, tc.want)
			}
		})
	}
}

// unitScheme is a scheme of the kinds the operator reads, for tests without the suite's.
func unitScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := platformv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
