package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smartcity-io/smartcity-operator/cmd/probe/netcheck"
)

// closedPort returns a loopback address on which nothing listens (so a dial is refused).
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"service":"vneid"}`))
	}))
	defer srv.Close()
	open := strings.TrimPrefix(srv.URL, "http://")
	closed := closedPort(t)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // prefix of stdout
	}{
		{"tcp ok", []string{"tcp", open}, 0, "ok tcp " + open},
		{"tcp refused", []string{"tcp", closed, "--timeout", "2s"}, 1, "refused tcp " + closed},
		{"flags first", []string{"--timeout=2s", "tcp", open}, 0, "ok tcp"},
		{"http ok names the service", []string{"http", srv.URL + "/info"}, 0, "ok http " + srv.URL + "/info"},
		{"http refused", []string{"http", "http://" + closed + "/"}, 1, "refused http"},
		{"http status", []string{"http", srv.URL + "/missing"}, 6, "http-status http"},
		{"json output", []string{"tcp", open, "-o", "json"}, 0, `{"kind":"tcp"`},
		{"no target", []string{"tcp"}, usageExit, ""},
		{"unknown check", []string{"udp", open}, usageExit, ""},
		{"bad output", []string{"tcp", open, "-o", "yaml"}, usageExit, ""},
		{"bad timeout", []string{"tcp", open, "--timeout", "0s"}, usageExit, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stdout %q, stderr %q)", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want prefix %q", stdout.String(), tt.wantOut)
			}
			if tt.wantOut != "" && strings.Count(stdout.String(), "\n") != 1 {
				t.Errorf("stdout = %q, want exactly one line", stdout.String())
			}
		})
	}
}

func TestRunHTTPReportsService(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"service":"vneid","hostname":"vneid-1"}`))
	}))
	defer srv.Close()
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"http", srv.URL, "-o", "json"}, &stdout, &bytes.Buffer{}); code != 0 {
		t.Fatalf("exit code = %d, want 0", code)
	}
	var rep netcheck.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Result != netcheck.OK || rep.Status != http.StatusOK || rep.Service != "vneid" {
		t.Errorf("report = %+v, want ok, 200, service vneid", rep)
	}
}
