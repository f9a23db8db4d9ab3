package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
	cityoptions "github.com/smartcity-io/smartcity-operator/internal/options"
)

// Exit codes, so that CI can gate on the audit.
const (
	exitOK         = 0 // no violation
	exitViolations = 1 // the audit found violations (or explain's connection is one)
	exitError      = 2 // the command could not run: usage, input or cluster errors
)

// Output formats of explain and render.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputYAML  = "yaml"
)

// violationsError reports violations: the output is printed, the exit code is 1.
type violationsError struct{ summary string }

func (e *violationsError) Error() string { return e.summary }

// run executes the plugin and returns its exit code.
func run(args []string, in io.Reader, out, errOut io.Writer) int {
	streams := genericiooptions.IOStreams{In: in, Out: out, ErrOut: errOut}
	cmd := newRootCommand(streams)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	var v *violationsError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &v):
		return exitViolations
	}
	_, _ = fmt.Fprintf(errOut, "error: %v\n", err)
	return exitError
}

// options are the flags every subcommand shares.
type options struct {
	streams genericiooptions.IOStreams
	config  *genericclioptions.ConfigFlags

	// The operator's render flags, with the operator's defaults: they shape rendering and say
	// where the gateway and the cluster DNS are.
	render cityoptions.Render
}

func newRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{streams: streams, config: genericclioptions.NewConfigFlags(true)}
	o.config.Namespace = nil // the audit always covers every namespace
	cmd := &cobra.Command{
		Use: "kubectl-city",
		// Shown as the plugin is run: kubectl city ...
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl city"},
		Short:       "Audit and explain the network connectivity of the city's PublicServices",
		Long: `kubectl city audits the effective network connectivity of PublicServices (smartcity-operator)
against what they declare, explains why a connection is allowed or denied, and previews
what the operator would create.

The NetworkPolicy semantics are computed by the plugin itself and checked, in its tests,
against netpol-analyzer (github.com/np-guard/netpol-analyzer).
Without -f, the commands read the cluster of the current kubeconfig context; with -f, they
work offline on manifest files, rendering PublicServices and NetworkZones exactly as the
operator does. Give the operator's own flags (--gateway, --dns-pod-labels, ...) when it runs
with non-default ones.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help' for usage", err, c.CommandPath())
	})
	o.config.AddFlags(cmd.PersistentFlags())
	cityoptions.AddRenderFlags(cmd.PersistentFlags(), &o.render)

	cmd.AddCommand(newAuditCommand(o), newConnectivityCommand(o), newExplainCommand(o), newRenderCommand(o))
	cmd.AddCommand(newVersionCommand(o))
	return cmd
}

// auditOptions turns the operator's flags into audit options, checked as the operator checks them.
func (o *options) auditOptions() (audit.Options, error) {
	r, err := o.render.Validate()
	if err != nil {
		return audit.Options{}, err
	}
	return audit.Options{Render: r}, nil
}

// source is where the objects come from: files (offline) or the cluster.
type source struct {
	filenames []string
	recursive bool
}

func (s *source) addFlags(cmd *cobra.Command, what string) {
	cmd.Flags().StringSliceVarP(&s.filenames, "filename", "f", nil,
		"Manifest files or folders to "+what+" offline (repeatable; - reads stdin). Without -f, the cluster is read.")
	cmd.Flags().BoolVarP(&s.recursive, "recursive", "R", false, "Process the folders given with -f recursively.")
}

func (s *source) offline() bool { return len(s.filenames) > 0 }

// model reads the objects: from files, with what the operator would render added; or from
// the cluster as they are. It also returns the audit options (the operator's flags) and a
// description of the source.
func (o *options) model(ctx context.Context, s *source) (*audit.Model, audit.Options, string, error) {
	opts, err := o.auditOptions()
	if err != nil {
		return nil, opts, "", err
	}
	m, where, err := o.read(ctx, s, opts)
	return m, opts, where, err
}

func (o *options) read(ctx context.Context, s *source, opts audit.Options) (*audit.Model, string, error) {
	if s.offline() {
		m, err := audit.ReadFiles(s.filenames, s.recursive, o.streams.In)
		if err != nil {
			return nil, "", err
		}
		rendered, err := audit.Rendered(m, opts.Render)
		if err != nil {
			return nil, "", err
		}
		return rendered, "files " + strings.Join(s.filenames, ", "), nil
	}
	c, where, err := o.client()
	if err != nil {
		return nil, "", err
	}
	m, err := audit.ReadCluster(ctx, c)
	switch {
	case meta.IsNoMatchError(err):
		return nil, "", fmt.Errorf("%w: are the smartcity-operator's CRDs installed in %s?", err, where)
	case apierrors.IsForbidden(err):
		return nil, "", fmt.Errorf("%w: the audit needs to list namespaces, networkpolicies, deployments, statefulsets, "+
			"daemonsets, replicasets, pods, publicservices and networkzones in every namespace", err)
	case err != nil:
		return nil, "", err
	}
	return m, where, nil
}

// client connects to the cluster the kubeconfig flags name.
func (o *options) client() (client.Client, string, error) {
	cfg, err := o.config.ToRESTConfig()
	if err != nil {
		return nil, "", fmt.Errorf("failed to load the kubeconfig: %w", err)
	}
	where := "cluster " + cfg.Host
	if raw, err := o.config.ToRawKubeConfigLoader().RawConfig(); err == nil {
		name := raw.CurrentContext
		if o.config.Context != nil && *o.config.Context != "" {
			name = *o.config.Context
		}
		if name != "" {
			where = "cluster of context " + name
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: audit.Scheme})
	if err != nil {
		return nil, "", fmt.Errorf("failed to connect to the cluster: %w", err)
	}
	return c, where, nil
}
