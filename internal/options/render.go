package options

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// Render are the flags that shape rendering, as given on the command line. The operator
// takes them to render children; kubectl city takes the operator's values to audit and
// preview alike. Validate turns them into render.Options.
type Render struct {
	// Gateway is --gateway: <namespace>/<name>, or empty for an Ingress.
	Gateway string
	// IngressClass is --ingress-class.
	IngressClass string
	// IngressControllerNamespace is --ingress-controller-namespace.
	IngressControllerNamespace string
	// DNSNamespace is --dns-namespace.
	DNSNamespace string
	// DNSPodLabels is --dns-pod-labels: key=value[,key=value].
	DNSPodLabels string
	// ZoneServiceType is --zone-service-type: LoadBalancer or NodePort.
	ZoneServiceType string
}

// AddRenderFlags binds the render flags to o, with render.Options' defaults.
func AddRenderFlags(fs *pflag.FlagSet, o *Render) {
	d := render.Options{}.WithDefaults()
	fs.StringVar(&o.Gateway, "gateway", "",
		"Gateway <namespace>/<name> for Public services: an HTTPRoute is attached to it. Empty: an Ingress is rendered instead.")
	fs.StringVar(&o.IngressClass, "ingress-class", "", "IngressClass of rendered Ingresses (empty: the cluster's default class).")
	fs.StringVar(&o.IngressControllerNamespace, "ingress-controller-namespace", "",
		"Namespace of the gateway or ingress controller pods allowed to call Public services "+
			"(default: the Gateway's namespace, else "+d.IngressControllerNamespace+").")
	fs.StringVar(&o.DNSNamespace, "dns-namespace", d.DNSNamespace, "Namespace of the cluster DNS pods every service may query.")
	fs.StringVar(&o.DNSPodLabels, "dns-pod-labels", labels.Set(d.DNSPodLabels).String(),
		"Labels of the cluster DNS pods, as key=value[,key=value].")
	fs.StringVar(&o.ZoneServiceType, "zone-service-type", string(d.ZoneServiceType),
		"Service type of CityNetwork services: LoadBalancer, or NodePort where no load balancer exists.")
}

// Validate checks the flags and returns the render options they give.
func (o Render) Validate() (render.Options, error) {
	r := render.Options{
		IngressClass:               o.IngressClass,
		IngressControllerNamespace: o.IngressControllerNamespace,
		DNSNamespace:               o.DNSNamespace,
		ZoneServiceType:            corev1.ServiceType(o.ZoneServiceType),
	}
	var errs []error
	if r.ZoneServiceType != corev1.ServiceTypeLoadBalancer && r.ZoneServiceType != corev1.ServiceTypeNodePort {
		errs = append(errs, fmt.Errorf("--zone-service-type must be LoadBalancer or NodePort, not %q", o.ZoneServiceType))
	}
	if o.Gateway != "" {
		ns, name, ok := strings.Cut(o.Gateway, "/")
		if ok && ns != "" && name != "" {
			r.Gateway = &types.NamespacedName{Namespace: ns, Name: name}
		} else {
			errs = append(errs, fmt.Errorf("--gateway must be <namespace>/<name>, not %q", o.Gateway))
		}
	}
	if sel, err := labels.ConvertSelectorToLabelsMap(o.DNSPodLabels); err != nil || len(sel) == 0 {
		errs = append(errs, fmt.Errorf("--dns-pod-labels must be key=value[,key=value], not %q", o.DNSPodLabels))
	} else {
		r.DNSPodLabels = sel
	}
	if err := errors.Join(errs...); err != nil {
		return render.Options{}, err
	}
	return r, nil
}
