package main

import (
	"flag"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/smartcity-io/smartcity-operator/internal/options"
)

// parseFlags parses args with the operator's flag set, on a fresh Go FlagSet holding
// controller-runtime's --kubeconfig as flag.CommandLine does.
func parseFlags(args ...string) (options.Manager, error) {
	var o options.Manager
	var showVersion bool
	goFlags := flag.NewFlagSet("go", flag.ContinueOnError)
	config.RegisterFlags(goFlags)
	err := newFlagSet(&o, &showVersion, &zap.Options{}, goFlags, pflag.ContinueOnError).Parse(args)
	return o, err
}

func TestFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{name: "no flags"},
		{name: "long flags take two dashes", args: []string{"--leader-elect", "--metrics-bind-address=:8443", "--gateway", "gw/city",
			"--zone-service-type=NodePort", "--verify-connectivity=false"}},
		{name: "version", args: []string{"--version"}},
		{name: "concurrency and profiling", args: []string{"--publicservice-concurrency=8", "--networkzone-concurrency=1",
			"--connectivity-concurrency=2", "--pprof-bind-address=127.0.0.1:6060"}},
		{name: "concurrency is a number", args: []string{"--publicservice-concurrency=many"}, wantErr: true},
		{name: "zap and kubeconfig flags", args: []string{"--zap-log-level=debug", "--zap-devel", "--kubeconfig=/dev/null"}},
		{name: "one dash is no longer a long flag", args: []string{"-leader-elect"}, wantErr: true},
		{name: "one dash on a Go flag neither", args: []string{"-kubeconfig=/dev/null"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseFlags(tc.args...); (err != nil) != tc.wantErr {
				t.Errorf("Parse(%v) error = %v, want error %v", tc.args, err, tc.wantErr)
			}
		})
	}
}

func TestFlagValues(t *testing.T) {
	o, err := parseFlags("--leader-elect", "--gateway=gw/city", "--cluster-domain=city.local", "--verify-connectivity=false",
		"--publicservice-concurrency=8", "--pprof-bind-address=127.0.0.1:6060", "--first-render-hold=90s")
	if err != nil {
		t.Fatal(err)
	}
	var render options.Render // the render flags' defaults, as kubectl city has them
	options.AddRenderFlags(pflag.NewFlagSet("render", pflag.ContinueOnError), &render)
	render.Gateway = "gw/city"
	want := options.Manager{MetricsAddr: "0", ProbeAddr: ":8081", SecureMetrics: true, LeaderElect: true, ClusterDomain: "city.local",
		PublicServiceConcurrency: 8, NetworkZoneConcurrency: options.DefaultNetworkZoneConcurrency,
		ConnectivityConcurrency: options.DefaultConnectivityConcurrency, FirstRenderHold: 90 * time.Second,
		PprofAddr: "127.0.0.1:6060", Render: render}
	if o != want {
		t.Errorf("flags = %+v, want %+v", o, want)
	}
}
