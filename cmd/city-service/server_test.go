package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/smartcity-io/smartcity-operator/cmd/probe/netcheck"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// identity starts a fake identity service answering /info as city-service does.
func identity(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newHandler(config{name: "vneid", hostname: "vneid-0", callTimeout: time.Second}))
	t.Cleanup(srv.Close)
	return srv
}

// downURL is a base URL on which nothing listens.
func downURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	_ = l.Close()
	return u
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthzNeverDependsOnDependencies(t *testing.T) {
	h := newHandler(config{name: "checkin", consumes: []string{downURL(t)}, callTimeout: time.Second})
	if code, body := get(t, h, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
}

func TestInfo(t *testing.T) {
	h := newHandler(config{name: "portal", hostname: "portal-abc", consumes: []string{"http://vneid:8080"}})
	for _, path := range []string{"/info", "/"} {
		code, body := get(t, h, path)
		if code != http.StatusOK {
			t.Fatalf("%s = %d, want 200", path, code)
		}
		var got info
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		want := info{Service: "portal", Hostname: "portal-abc", Version: version, Consumes: []string{"http://vneid:8080"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
	if code, _ := get(t, h, "/nothing-here"); code != http.StatusNotFound {
		t.Errorf("/nothing-here = %d, want 404", code)
	}
}

func TestCall(t *testing.T) {
	vneid := identity(t)
	down := downURL(t)
	tests := []struct {
		name        string
		consumes    []string
		path        string
		wantCode    int
		wantResults []netcheck.Result
		wantService string // of the first call
	}{
		{"checkin calls the identity service", []string{vneid.URL}, "/checkin", http.StatusOK, []netcheck.Result{netcheck.OK}, "vneid"},
		{"call all", []string{vneid.URL, down}, "/call", http.StatusBadGateway, []netcheck.Result{netcheck.OK, netcheck.Refused}, "vneid"},
		{"call one by URL", []string{vneid.URL, down}, "/call?target=" + vneid.URL, http.StatusOK, []netcheck.Result{netcheck.OK}, "vneid"},
		{"call one that is down", []string{vneid.URL, down}, "/call?target=" + down, http.StatusBadGateway, []netcheck.Result{netcheck.Refused}, ""},
		{"nothing consumed", nil, "/call", http.StatusOK, []netcheck.Result{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(config{name: "checkin", consumes: tt.consumes, callTimeout: 2 * time.Second})
			code, body := get(t, h, tt.path)
			if code != tt.wantCode {
				t.Errorf("code = %d, want %d; body %s", code, tt.wantCode, body)
			}
			var rep callReport
			if err := json.Unmarshal([]byte(body), &rep); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			got := make([]netcheck.Result, 0, len(rep.Calls))
			for _, c := range rep.Calls {
				got = append(got, c.Result)
			}
			if diff := cmp.Diff(tt.wantResults, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if rep.OK != (tt.wantCode == http.StatusOK) || rep.Service != "checkin" {
				t.Errorf("report ok=%v service=%q, want ok=%v service=checkin", rep.OK, rep.Service, tt.wantCode == http.StatusOK)
			}
			if tt.wantService != "" && rep.Calls[0].Service != tt.wantService {
				t.Errorf("first call answered by %q, want %q", rep.Calls[0].Service, tt.wantService)
			}
		})
	}
}

func TestCallOnlyConsumedServices(t *testing.T) {
	h := newHandler(config{name: "portal", consumes: []string{"http://vneid.city-identity.svc.cluster.local:8080"}})
	for _, target := range []string{"http://checkin.city-health:8080", "checkin", "http://169.254.169.254"} {
		if code, body := get(t, h, "/call?target="+target); code != http.StatusBadRequest || !strings.Contains(body, "not a service this one consumes") {
			t.Errorf("target %s: %d %q, want 400", target, code, body)
		}
	}
}

func TestLookup(t *testing.T) {
	consumes := []string{"http://vneid.city-identity.svc.cluster.local:8080", "http://10.0.0.7:8080"}
	tests := []struct {
		target, want string
		ok           bool
	}{
		{"vneid", consumes[0], true},
		{"http://vneid.city-identity.svc.cluster.local:8080/", consumes[0], true},
		{"http://10.0.0.7:8080", consumes[1], true},
		{"10", consumes[1], true}, // the first host label of an IP literal; harmless, it is consumed
		{"checkin", "", false},
	}
	for _, tt := range tests {
		got, ok := lookup(consumes, tt.target)
		if got != tt.want || ok != tt.ok {
			t.Errorf("lookup(%q) = %q, %v; want %q, %v", tt.target, got, ok, tt.want, tt.ok)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    config
		wantErr string
	}{
		{"defaults", map[string]string{}, config{port: "8080", callTimeout: 2 * time.Second}, ""},
		{
			"everything",
			map[string]string{"PORT": "9090", "SERVICE_NAME": "checkin", "CALL_TIMEOUT": "500ms",
				"CONSUMES": " http://vneid.city-identity.svc.cluster.local:8080/ ,, https://other:8443"},
			config{port: "9090", name: "checkin", callTimeout: 500 * time.Millisecond,
				consumes: []string{"http://vneid.city-identity.svc.cluster.local:8080", "https://other:8443"}},
			"",
		},
		{"bad port", map[string]string{"PORT": "http"}, config{}, "PORT must be a port number"},
		{"port out of range", map[string]string{"PORT": "70000"}, config{}, "PORT must be a port number"},
		{"bad timeout", map[string]string{"CALL_TIMEOUT": "-1s"}, config{}, "CALL_TIMEOUT must be"},
		{"bad consumes", map[string]string{"CONSUMES": "vneid:8080"}, config{}, "CONSUMES entries must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := configFromEnv(env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.name == got.hostname && tt.env["SERVICE_NAME"] == "" {
				got.name = "" // defaulted from the hostname, which differs per machine
			}
			got.hostname = ""
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	_ = l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, config{port: port, name: "vneid", callTimeout: time.Second}) }()

	var rep netcheck.Report
	_ = wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		rep = netcheck.HTTP(ctx, "http://127.0.0.1:"+port+"/info", time.Second)
		return rep.Result == netcheck.OK, nil
	})
	if rep.Result != netcheck.OK || rep.Service != "vneid" {
		t.Fatalf("the server did not answer: %v", rep)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
}
