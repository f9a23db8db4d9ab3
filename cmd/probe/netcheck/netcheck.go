package netcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// Result is what one attempt observed.
type Result string

// The results, from the most to the least specific. A NetworkPolicy that drops packets shows as
// Timeout; a port with nothing listening (or a policy that rejects) shows as Refused.
const (
	// OK: the TCP handshake completed (tcp), or an HTTP response with a 2xx status came back (http).
	OK Result = "ok"
	// Refused: the target answered the SYN with a reset (nothing listens there, or a REJECT rule).
	Refused Result = "refused"
	// Timeout: no answer before the deadline (a DROP rule, or a host that does not exist).
	Timeout Result = "timeout"
	// DNS: the name did not resolve (including a DNS server that did not answer).
	DNS Result = "dns"
	// Unreachable: no route to the host or network (ICMP unreachable).
	Unreachable Result = "unreachable"
	// Reset: the connection was accepted, then reset before an HTTP response came back.
	Reset Result = "reset"
	// HTTPStatus: an HTTP response came back, with a status outside 2xx.
	HTTPStatus Result = "http-status"
	// Error: anything else (a malformed URL, a TLS failure, ...).
	Error Result = "error"
)

// ExitCode is the probe command's exit code for a result: 0 only for OK.
func (r Result) ExitCode() int {
	switch r {
	case OK:
		return 0
	case Refused:
		return 1
	case Timeout:
		return 2
	case DNS:
		return 3
	case Unreachable:
		return 4
	case Reset:
		return 5
	case HTTPStatus:
		return 6
	default:
		return 7
	}
}

// Report is one attempt: what was tried and what happened.
type Report struct {
	// Kind is "tcp", "http" or "dns".
	Kind string `json:"kind"`
	// Target is the host:port or URL tried.
	Target string `json:"target"`
	// Result classifies the outcome.
	Result Result `json:"result"`
	// Millis is how long the attempt took, in milliseconds.
	Millis int64 `json:"ms"`
	// Status is the HTTP status code (http only; 0 when no response came back).
	Status int `json:"status,omitempty"`
	// Service is the "service" field of a JSON response body, when there is one (city-service's /info).
	Service string `json:"service,omitempty"`
	// Addresses are the addresses a name resolved to (dns only).
	Addresses []string `json:"addresses,omitempty"`
	// Error is the underlying error, when the result is not OK.
	Error string `json:"error,omitempty"`
}

// String renders the report on one line: "<result> <kind> <target> time=<d> [status=..] [service=..] [error=".."]".
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s time=%dms", r.Result, r.Kind, r.Target, r.Millis)
	if r.Status != 0 {
		fmt.Fprintf(&b, " status=%d", r.Status)
	}
	if r.Service != "" {
		fmt.Fprintf(&b, " service=%s", r.Service)
	}
	if len(r.Addresses) > 0 {
		fmt.Fprintf(&b, " addresses=%s", strings.Join(r.Addresses, ","))
	}
	if r.Error != "" {
		fmt.Fprintf(&b, " error=%q", r.Error)
	}
	return b.String()
}

// TCP dials addr (host:port) once and closes the connection.
func TCP(ctx context.Context, addr string, timeout time.Duration) Report {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	rep := Report{Kind: "tcp", Target: addr, Millis: time.Since(start).Milliseconds()}
	if err != nil {
		rep.Result, rep.Error = Classify(err), err.Error()
		return rep
	}
	_ = conn.Close()
	rep.Result = OK
	return rep
}

// Resolve resolves name once with the system's resolver (in a pod: the cluster DNS named in its
// /etc/resolv.conf, with its search domains). OK when it resolves to at least one address.
func Resolve(ctx context.Context, name string, timeout time.Duration) Report {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	rep := Report{Kind: "dns", Target: name, Millis: time.Since(start).Milliseconds()}
	if err != nil {
		rep.Result, rep.Error = Classify(err), err.Error()
		return rep
	}
	rep.Result, rep.Addresses = OK, addrs
	return rep
}

// HTTP sends one GET to url with its own client (no proxy from the environment, no keep-alive)
// and reads at most 64 KiB of the body.
func HTTP(ctx context.Context, url string, timeout time.Duration) Report {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	rep := Report{Kind: "http", Target: url}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		rep.Result, rep.Error = Error, err.Error()
		return rep
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		rep.Millis = time.Since(start).Milliseconds()
		rep.Result, rep.Error = Classify(err), err.Error()
		return rep
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	rep.Millis = time.Since(start).Milliseconds()
	rep.Status = resp.StatusCode
	var info struct {
		Service string `json:"service"`
	}
	if json.Unmarshal(body, &info) == nil {
		rep.Service = info.Service
	}
	switch {
	case err != nil:
		rep.Result, rep.Error = Classify(err), err.Error()
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		rep.Result, rep.Error = HTTPStatus, resp.Status
	default:
		rep.Result = OK
	}
	return rep
}

// Classify maps a dial or request error to a Result.
func Classify(err error) Result {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case err == nil:
		return OK
	case errors.As(err, &dnsErr): // even a DNS timeout: the target itself was never tried
		return DNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return Timeout
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return Unreachable
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Reset
	default:
		return Error
	}
}
