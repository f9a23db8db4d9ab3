package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/smartcity-io/smartcity-operator/internal/bench"
	"github.com/smartcity-io/smartcity-operator/internal/citygen"
)

const usage = `usage: bench run|gen|check [flags]

  run    the benchmark: for each N, the floor and the operator, each on a fresh local cluster
  gen    write a generated city's manifests into a folder
  check  fail unless a JSON report is valid and its table complete (the bench smoke)

'bench <command> -h' lists a command's flags.`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	// controller-runtime's cache and client log through klog (errors and warnings only show).
	ctrllog.SetLogger(klog.NewKlogr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "run":
		err = runCommand(ctx, os.Args[2:])
	case "gen":
		err = genCommand(os.Args[2:])
	case "check":
		err = checkCommand(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

// cityFlags are the generator's flags, shared by run and gen.
type cityFlags struct {
	seed       uint64
	shape      string
	namespaces int
}

func (c *cityFlags) add(fs *flag.FlagSet) {
	fs.Uint64Var(&c.seed, "seed", 1, "Seed of the generated city: the same seed gives the same city.")
	fs.StringVar(&c.shape, "shape", string(citygen.ShapeSpread),
		"How services are spread over namespaces: spread (about 6 per namespace) or crowded (300 in one namespace).")
	fs.IntVar(&c.namespaces, "namespaces", 0, "Number of namespaces (0: from the shape).")
}

func (c *cityFlags) options(n int) citygen.Options {
	return citygen.Options{Services: n, Namespaces: c.namespaces, Shape: citygen.Shape(c.shape), Seed: c.seed}
}

func genCommand(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	var cf cityFlags
	cf.add(fs)
	n := fs.Int("n", 440, "Number of PublicServices.")
	out := fs.String("o", "", "Folder to write the manifests into (required).")
	_ = fs.Parse(args)
	if *out == "" {
		return errors.New("gen needs -o <folder>")
	}
	city, err := citygen.Generate(cf.options(*n))
	if err != nil {
		return err
	}
	if err := city.WriteDir(*out); err != nil {
		return err
	}
	stats, _ := json.Marshal(city.Stats)
	fmt.Printf("wrote %d services in %d namespaces to %s: %s\n", len(city.Services), len(city.Namespaces), *out, stats)
	return nil
}

func checkCommand(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return errors.New("check needs one JSON report")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var r bench.Report
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return fmt.Errorf("%s is not a valid report: %w", fs.Arg(0), err)
	}
	fmt.Print(bench.Table(bench.Rows(&r)))
	if err := bench.Check(&r); err != nil {
		return fmt.Errorf("%s is incomplete:\n%w", fs.Arg(0), err)
	}
	fmt.Printf("%s: valid, and the table is complete (%d N, commit %s)\n", fs.Arg(0), len(r.Results), r.Commit)
	return nil
}

// parseNs parses "440,1700".
func parseNs(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-n must list positive numbers of services, like 440,1700; not %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// Progress output, in the style of hack/lib/log.sh.
func step(format string, a ...any) { fmt.Printf("==> "+format+"\n", a...) }
func info(format string, a ...any) { fmt.Printf("    "+format+"\n", a...) }

func fmtDur(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%dm%02ds", s/60, s%60)
}
