package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/audit/format"
	"github.com/smartcity-io/smartcity-operator/internal/audit/svg"
)

func newAuditCommand(o *options) *cobra.Command {
	var src source
	var output string
	cmd := &cobra.Command{
		Use:   "audit [-f FILENAME]... [-o FORMAT]",
		Short: "Compare the effective connectivity of every PublicService with its intent",
		Long: `Compute which connections the NetworkPolicies actually present allow (the operator's and
anyone else's) between PublicServices, other workloads, the NetworkZones and the rest of the
world, and compare them with what the PublicServices declare after consent.

Violations:
  TooOpen      a connection is allowed that nobody declares (for example a foreign allow-all)
  TooClosed    a declared and consented connection is blocked
  Unisolated   a workload in a namespace holding a PublicService is selected by no policy
  OneSided     consumes without the provider's allowFrom, allowFrom without consumes, or a
               zone that does not exist or does not admit the namespace

Stand-ins: {gateway} is any pod of the gateway or ingress controller's namespace, {dns} the
cluster DNS pods, {any-pod} any other pod of the cluster, {external} every address outside
the NetworkZones. They are data only: the audit never sends anything.

Exit status: 0 without violations, 1 with violations, 2 when the audit could not run.`,
		Example: `  # Audit the cluster of the current kubeconfig context
  kubectl city audit

  # Audit manifests before they are applied, offline
  kubectl city audit -f config/samples

  # Audit the output of kustomize, as a CI gate
  kustomize build overlays/prod | kubectl city audit -f -

  # A Mermaid graph for a pull-request comment
  kubectl city audit -f deploy/ -R -o mermaid

  # A picture of the city's connectivity
  kubectl city audit --context prod -o svg > connectivity.svg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := format.Format(output)
			if !slices.Contains(format.Formats, f) {
				return fmt.Errorf("--output must be one of %s, not %q", formatNames(), output)
			}
			m, opts, where, err := o.model(cmd.Context(), &src)
			if err != nil {
				return err
			}
			r, err := audit.Analyze(m, opts)
			if err != nil {
				return err
			}
			r.Source = where
			if f == format.FormatSVG {
				data, err := svg.Report(cmd.Context(), r)
				if err != nil {
					return err
				}
				if _, err := o.streams.Out.Write(data); err != nil {
					return err
				}
			} else if err := format.Write(o.streams.Out, r, f); err != nil {
				return err
			}
			if !r.Clean() {
				return &violationsError{summary: r.Summary()}
			}
			return nil
		},
	}
	src.addFlags(cmd, "audit")
	cmd.Flags().StringVarP(&output, "output", "o", string(format.FormatTable), "Output format: "+formatNames()+".")
	return cmd
}

func formatNames() string {
	names := make([]string, 0, len(format.Formats))
	for _, f := range format.Formats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}
