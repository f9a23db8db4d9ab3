package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/smartcity-io/smartcity-operator/cmd/probe/netcheck"
)

// config is what the environment says.
type config struct {
	port        string
	name        string
	hostname    string
	consumes    []string // base URLs, without a trailing slash
	callTimeout time.Duration
}

func configFromEnv(getenv func(string) string) (config, error) {
	host, _ := os.Hostname()
	cfg := config{port: "8080", name: getenv("SERVICE_NAME"), hostname: host, callTimeout: 2 * time.Second}
	if p := getenv("PORT"); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return cfg, fmt.Errorf("PORT must be a port number, not %q", p)
		}
		cfg.port = p
	}
	if cfg.name == "" {
		cfg.name = host
	}
	if t := getenv("CALL_TIMEOUT"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return cfg, fmt.Errorf("CALL_TIMEOUT must be a positive duration such as 2s, not %q", t)
		}
		cfg.callTimeout = d
	}
	for raw := range strings.SplitSeq(getenv("CONSUMES"), ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, fmt.Errorf("CONSUMES entries must be http(s) base URLs, not %q", raw)
		}
		cfg.consumes = append(cfg.consumes, strings.TrimRight(raw, "/"))
	}
	return cfg, nil
}

// info is the body of /info.
type info struct {
	Service  string   `json:"service"`
	Hostname string   `json:"hostname"`
	Version  string   `json:"version"`
	Consumes []string `json:"consumes"`
}

// callReport is the body of /call and /checkin.
type callReport struct {
	Service string            `json:"service"`
	OK      bool              `json:"ok"`
	Calls   []netcheck.Report `json:"calls"`
}

func newHandler(cfg config) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	infoHandler := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/info" {
			http.NotFound(w, r)
			return
		}
		consumes := cfg.consumes
		if consumes == nil {
			consumes = []string{}
		}
		writeJSON(w, http.StatusOK, info{Service: cfg.name, Hostname: cfg.hostname, Version: version, Consumes: consumes})
	}
	mux.HandleFunc("GET /info", infoHandler)
	mux.HandleFunc("GET /{$}", infoHandler)
	call := func(w http.ResponseWriter, r *http.Request) {
		targets := cfg.consumes
		if t := r.URL.Query().Get("target"); t != "" {
			u, ok := lookup(cfg.consumes, t)
			if !ok {
				http.Error(w, fmt.Sprintf("%q is not a service this one consumes (CONSUMES: %s)\n",
					t, strings.Join(cfg.consumes, ",")), http.StatusBadRequest)
				return
			}
			targets = []string{u}
		}
		rep := callReport{Service: cfg.name, OK: true, Calls: []netcheck.Report{}}
		for _, u := range targets {
			c := netcheck.HTTP(r.Context(), u+"/info", cfg.callTimeout)
			rep.OK = rep.OK && c.Result == netcheck.OK
			rep.Calls = append(rep.Calls, c)
		}
		status := http.StatusOK
		if !rep.OK {
			status = http.StatusBadGateway
		}
		writeJSON(w, status, rep)
	}
	mux.HandleFunc("GET /call", call)
	mux.HandleFunc("GET /checkin", call)
	return mux
}

// lookup finds target among the consumed base URLs: the URL itself, or its name (the first
// label of its host, e.g. "vneid" for http://vneid.city-identity.svc.cluster.local:8080).
func lookup(consumes []string, target string) (string, bool) {
	target = strings.TrimRight(target, "/")
	for _, c := range consumes {
		if c == target {
			return c, true
		}
		if u, err := url.Parse(c); err == nil {
			if name, _, _ := strings.Cut(u.Hostname(), "."); name == target {
				return c, true
			}
		}
	}
	return "", false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
