package render

import (
	"maps"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
)

// FieldManager is the server-side-apply field manager of every object the operator writes.
const FieldManager = "smartcity-operator"

// Label keys and values set on every child.
const (
	// LabelName is the PublicService's name; part of the selector.
	LabelName = "app.kubernetes.io/name"
	// LabelManagedBy is always FieldManager; part of the selector.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelPartOf is always PartOf.
	LabelPartOf = "app.kubernetes.io/part-of"
	// LabelComponent is the profile in lower-kebab case, for example "identity-verification".
	LabelComponent = "app.kubernetes.io/component"
	// LabelProfile is the profile as written in the spec, for example "IdentityVerification".
	LabelProfile = "platform.smartcity.io/profile"

	// PartOf is the value of LabelPartOf.
	PartOf = "smartcity"
)

// Option defaults.
const (
	// DefaultIngressControllerNamespace is the namespace of the ingress controller when
	// Options.IngressControllerNamespace is empty and no Gateway is set.
	DefaultIngressControllerNamespace = "ingress-nginx"
	// DefaultDNSNamespace is the namespace of the cluster DNS pods.
	DefaultDNSNamespace = "kube-system"
)

// DefaultDNSPodLabels returns the labels of the cluster DNS pods when Options.DNSPodLabels is empty.
func DefaultDNSPodLabels() map[string]string { return map[string]string{"k8s-app": "kube-dns"} }

// Options are the operator-wide settings (command-line flags) that shape rendering.
type Options struct {
	// Gateway (--gateway=<namespace>/<name>): when set, Public exposure renders an HTTPRoute
	// attached to this Gateway; otherwise an Ingress.
	Gateway *types.NamespacedName
	// IngressClass (--ingress-class) is the class of rendered Ingresses; empty uses the
	// cluster's default class.
	IngressClass string
	// IngressControllerNamespace is the namespace whose pods (the gateway or ingress controller)
	// may call Public services. Defaults to the Gateway's namespace when Gateway is set,
	// otherwise to DefaultIngressControllerNamespace.
	IngressControllerNamespace string
	// DNSNamespace is the namespace of the cluster DNS pods. Defaults to DefaultDNSNamespace.
	DNSNamespace string
	// DNSPodLabels select the cluster DNS pods. Defaults to DefaultDNSPodLabels().
	DNSPodLabels map[string]string
	// ZoneServiceType is the Service type of CityNetwork services: LoadBalancer (the default,
	// also for any value other than NodePort) or NodePort where no load balancer exists.
	ZoneServiceType corev1.ServiceType
}

// WithDefaults returns a copy of o with every empty field defaulted. o is not modified.
func (o Options) WithDefaults() Options {
	out := o
	if out.IngressControllerNamespace == "" {
		out.IngressControllerNamespace = DefaultIngressControllerNamespace
		if o.Gateway != nil && o.Gateway.Namespace != "" {
			out.IngressControllerNamespace = o.Gateway.Namespace
		}
	}
	if out.DNSNamespace == "" {
		out.DNSNamespace = DefaultDNSNamespace
	}
	if len(out.DNSPodLabels) == 0 {
		out.DNSPodLabels = DefaultDNSPodLabels()
	} else {
		out.DNSPodLabels = maps.Clone(o.DNSPodLabels)
	}
	if out.ZoneServiceType != corev1.ServiceTypeNodePort {
		out.ZoneServiceType = corev1.ServiceTypeLoadBalancer
	}
	return out
}

// Input is everything a child is rendered from.
type Input struct {
	// Service gives the name, namespace, UID (owner reference) and profile.
	Service *platformv1alpha1.PublicService
	// Spec is the effective spec (Service.Effective()): every optional field resolved.
	// Render never re-derives defaults, so a spec that is not effective may panic.
	Spec platformv1alpha1.PublicServiceSpec
	// Flows are the service's resolved connectivity (intent.Resolve).
	Flows intent.Resolved
	// Options are the operator-wide settings.
	Options Options
}

func (in Input) name() string      { return in.Service.Name }
func (in Input) namespace() string { return in.Service.Namespace }
func (in Input) port() int32       { return *in.Spec.Port }

// SelectorLabels are the labels that select a service's pods. They are part of immutable
// selectors (Deployment) and of other services' NetworkPolicies, so they never change.
func SelectorLabels(name string) map[string]string {
	return map[string]string{
		LabelName:      name,
		LabelManagedBy: FieldManager,
	}
}

// Labels are the labels of every child of svc and of its pods: SelectorLabels plus
// part-of, component and profile.
func Labels(svc *platformv1alpha1.PublicService) map[string]string {
	l := SelectorLabels(svc.Name)
	l[LabelPartOf] = PartOf
	l[LabelComponent] = kebab(string(svc.Spec.Profile))
	l[LabelProfile] = string(svc.Spec.Profile)
	return l
}

// OwnerReference makes svc the controller of a child, so the child is garbage-collected with
// it and watched through it.
func OwnerReference(svc *platformv1alpha1.PublicService) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(platformv1alpha1.GroupVersion.String()).
		WithKind("PublicService").
		WithName(svc.Name).
		WithUID(svc.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// kebab turns an UpperCamelCase identifier into lower-kebab case: HospitalCheckIn → hospital-check-in.
func kebab(s string) string {
	var b strings.Builder
	prevLowerOrDigit := false
	for _, r := range s {
		if unicode.IsUpper(r) {
			if prevLowerOrDigit {
				b.WriteByte('-')
			}
			b.WriteRune(unicode.ToLower(r))
			prevLowerOrDigit = false
			continue
		}
		b.WriteRune(r)
		prevLowerOrDigit = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	return b.String()
}
