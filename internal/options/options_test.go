package options_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/types"

	"github.com/smartcity-io/smartcity-operator/internal/options"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// parse binds the render flags to a new FlagSet and parses args.
func parse(t *testing.T, args ...string) options.Render {
	t.Helper()
	var o options.Render
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	options.AddRenderFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("Parse(%v): %v", args, err)
	}
	return o
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		want    render.Options
		wantErr string
	}{
		{name: "defaults are render's defaults", want: render.Options{
			DNSNamespace: "kube-system", DNSPodLabels: render.DefaultDNSPodLabels(), ZoneServiceType: "LoadBalancer"}},
		{name: "every flag", args: []string{"--gateway=gw/city", "--ingress-class=city", "--ingress-controller-namespace=ctl",
			"--dns-namespace=dns", "--dns-pod-labels=a=b,c=d", "--zone-service-type=NodePort"},
			want: render.Options{Gateway: &types.NamespacedName{Namespace: "gw", Name: "city"}, IngressClass: "city",
				IngressControllerNamespace: "ctl", DNSNamespace: "dns", DNSPodLabels: map[string]string{"a": "b", "c": "d"},
				ZoneServiceType: "NodePort"}},
		{name: "gateway without a name", args: []string{"--gateway=gw/"}, wantErr: `--gateway must be <namespace>/<name>, not "gw/"`},
		{name: "unknown service type", args: []string{"--zone-service-type=ClusterIP"},
			wantErr: `--zone-service-type must be LoadBalancer or NodePort, not "ClusterIP"`},
		{name: "empty DNS labels", args: []string{"--dns-pod-labels="}, wantErr: `--dns-pod-labels must be key=value[,key=value], not ""`},
		{name: "every error at once", args: []string{"--gateway=x", "--zone-service-type=x"},
			wantErr: "--zone-service-type must be LoadBalancer or NodePort, not \"x\"\n--gateway must be <namespace>/<name>, not \"x\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(t, tc.args...).Validate()
			if !validated(t, err, tc.wantErr) {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
}

// The flags' defaults are render's defaults, so an operator started without flags renders
// as render.Options{} does.
func TestDefaultsMatchRender(t *testing.T) {
	got, err := parse(t).Validate()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(render.Options{}.WithDefaults(), got.WithDefaults()); diff != "" {
		t.Errorf("flag defaults differ from render's defaults (-render +flags):\n%s", diff)
	}
}

func TestManagerValidate(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		want    options.Manager
		wantErr string
	}{
		{name: "default concurrency", want: options.Manager{PublicServiceConcurrency: options.DefaultPublicServiceConcurrency,
			NetworkZoneConcurrency: options.DefaultNetworkZoneConcurrency, ConnectivityConcurrency: options.DefaultConnectivityConcurrency,
			FirstRenderHold: options.DefaultFirstRenderHold, PprofAddr: "0"}},
		{name: "every concurrency flag and pprof", args: []string{"--publicservice-concurrency=8", "--networkzone-concurrency=1",
			"--connectivity-concurrency=3", "--pprof-bind-address=127.0.0.1:6060", "--first-render-hold=0"},
			want: options.Manager{PublicServiceConcurrency: 8, NetworkZoneConcurrency: 1, ConnectivityConcurrency: 3, PprofAddr: "127.0.0.1:6060"}},
		{name: "a longer hold", args: []string{"--first-render-hold=5m"}, want: options.Manager{
			PublicServiceConcurrency: options.DefaultPublicServiceConcurrency, NetworkZoneConcurrency: options.DefaultNetworkZoneConcurrency,
			ConnectivityConcurrency: options.DefaultConnectivityConcurrency, FirstRenderHold: 5 * time.Minute, PprofAddr: "0"}},
		{name: "zero workers", args: []string{"--publicservice-concurrency=0"}, wantErr: "--publicservice-concurrency must be at least 1, not 0"},
		{name: "every error at once", args: []string{"--networkzone-concurrency=-1", "--connectivity-concurrency=0", "--first-render-hold=-1s"},
			wantErr: "--networkzone-concurrency must be at least 1, not -1\n--connectivity-concurrency must be at least 1, not 0\n" +
				"--first-render-hold must not be negative, not -1s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o options.Manager
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			options.AddManagerFlags(fs, &o)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("Parse(%v): %v", tc.args, err)
			}
			err := o.Validate()
			if !validated(t, err, tc.wantErr) {
				return
			}
			got := options.Manager{PublicServiceConcurrency: o.PublicServiceConcurrency, NetworkZoneConcurrency: o.NetworkZoneConcurrency,
				ConnectivityConcurrency: o.ConnectivityConcurrency, FirstRenderHold: o.FirstRenderHold, PprofAddr: o.PprofAddr}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("flags (-want +got):\n%s", diff)
			}
		})
	}
}

// validated checks Validate's error against wantErr ("" for none) and reports whether the
// test goes on to check the values.
func validated(t *testing.T, err error, wantErr string) bool {
	t.Helper()
	if wantErr != "" {
		if err == nil || err.Error() != wantErr {
			t.Fatalf("Validate() error = %v, want %q", err, wantErr)
		}
		return false
	}
	if err != nil {
		t.Fatalf("Validate(): %v", err)
	}
	return true
}
