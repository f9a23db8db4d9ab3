package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/smartcity-io/smartcity-operator/cmd/probe/netcheck"
)

const usageExit = 64

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 3*time.Second, "How long to wait for the connection (and, for http, the response).")
	output := fs.String("o", "text", "Output format: text (one line) or json.")
	fs.Usage = func() {
		_, _ = fmt.Fprintln(stderr, "usage: probe tcp HOST:PORT | probe http URL | probe dns NAME  [--timeout 3s] [-o text|json]")
		fs.PrintDefaults()
	}
	// Flags may come before or after the positional arguments.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return usageExit
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 2 || *timeout <= 0 || (*output != "text" && *output != "json") {
		fs.Usage()
		return usageExit
	}

	var rep netcheck.Report
	switch pos[0] {
	case "tcp":
		rep = netcheck.TCP(ctx, pos[1], *timeout)
	case "http":
		rep = netcheck.HTTP(ctx, pos[1], *timeout)
	case "dns":
		rep = netcheck.Resolve(ctx, pos[1], *timeout)
	default:
		_, _ = fmt.Fprintf(stderr, "probe: unknown check %q (tcp, http or dns)\n", pos[0])
		return usageExit
	}
	if *output == "json" {
		b, _ := json.Marshal(rep)
		_, _ = fmt.Fprintln(stdout, string(b))
	} else {
		_, _ = fmt.Fprintln(stdout, rep.String())
	}
	return rep.Result.ExitCode()
}
