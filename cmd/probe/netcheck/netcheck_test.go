package netcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: err}}
	}
	tests := []struct {
		name string
		err  error
		want Result
	}{
		{"nil", nil, OK},
		{"refused", opErr(syscall.ECONNREFUSED), Refused},
		{"wrapped refused", fmt.Errorf("get: %w", opErr(syscall.ECONNREFUSED)), Refused},
		{"context deadline", context.DeadlineExceeded, Timeout},
		{"i/o timeout", &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, Timeout},
		{"dns not found", &net.DNSError{Err: "no such host", Name: "vneid", IsNotFound: true}, DNS},
		{"dns timeout is dns", &net.DNSError{Err: "timeout", Name: "vneid", IsTimeout: true}, DNS},
		{"host unreachable", opErr(syscall.EHOSTUNREACH), Unreachable},
		{"network unreachable", opErr(syscall.ENETUNREACH), Unreachable},
		{"reset", opErr(syscall.ECONNRESET), Reset},
		{"eof", io.EOF, Reset},
		{"other", errors.New("tls: bad certificate"), Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestExitCodesAreDistinct(t *testing.T) {
	seen := map[int]Result{}
	for _, r := range []Result{OK, Refused, Timeout, DNS, Unreachable, Reset, HTTPStatus, Error} {
		code := r.ExitCode()
		if prev, dup := seen[code]; dup {
			t.Errorf("%q and %q share exit code %d", prev, r, code)
		}
		seen[code] = r
	}
	if OK.ExitCode() != 0 {
		t.Errorf("OK exit code = %d, want 0", OK.ExitCode())
	}
}

func TestHTTPTimeout(t *testing.T) {
	// A server that accepts the connection and never answers: the client's deadline expires.
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	rep := HTTP(context.Background(), srv.URL, 200*time.Millisecond)
	if rep.Result != Timeout {
		t.Errorf("result = %q (%s), want timeout", rep.Result, rep.Error)
	}
}

func TestTCPRefusedAndOK(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if rep := TCP(context.Background(), addr, time.Second); rep.Result != OK {
		t.Errorf("open port: %v, want ok", rep)
	}
	_ = l.Close()
	if rep := TCP(context.Background(), addr, time.Second); rep.Result != Refused || rep.Error == "" {
		t.Errorf("closed port: %v, want refused with an error", rep)
	}
}

func TestReportString(t *testing.T) {
	tests := []struct {
		rep  Report
		want string
	}{
		{Report{Kind: "tcp", Target: "10.0.0.1:80", Result: OK, Millis: 3}, "ok tcp 10.0.0.1:80 time=3ms"},
		{
			Report{Kind: "http", Target: "http://vneid:8080/info", Result: OK, Millis: 5, Status: 200, Service: "vneid"},
			"ok http http://vneid:8080/info time=5ms status=200 service=vneid",
		},
		{
			Report{Kind: "tcp", Target: "10.0.0.1:80", Result: Timeout, Millis: 3000, Error: "i/o timeout"},
			`timeout tcp 10.0.0.1:80 time=3000ms error="i/o timeout"`,
		},
	}
	for _, tt := range tests {
		if got := tt.rep.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	// localhost resolves offline (the hosts file); a name under .invalid (RFC 6761) never does.
	rep := Resolve(context.Background(), "localhost", 2*time.Second)
	if rep.Result != OK || rep.Kind != "dns" || len(rep.Addresses) == 0 {
		t.Errorf("localhost: %v, want ok with addresses", rep)
	}
	if !strings.Contains(rep.String(), "addresses=") {
		t.Errorf("String() = %q, want the addresses", rep.String())
	}
	rep = Resolve(context.Background(), "no-such-service.invalid", 2*time.Second)
	if rep.Result == OK || rep.Error == "" || rep.Result.ExitCode() == 0 {
		t.Errorf("unresolvable name: %v, want a failure with an error", rep)
	}
}
