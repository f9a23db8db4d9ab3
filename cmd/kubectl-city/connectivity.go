package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/audit/format"
)

func newConnectivityCommand(o *options) *cobra.Command {
	var src source
	var output string
	cmd := &cobra.Command{
		Use:   "connectivity [-f FILENAME]... [-o FORMAT]",
		Short: "List the connections the NetworkPolicies allow between every pair of workloads and address blocks",
		Long: `List the effective connectivity between every pair of workloads (Deployments, StatefulSets,
DaemonSets, ReplicaSets and Pods, named namespace/name[Kind]) and between workloads and the
address blocks the policies tell apart, whether or not a PublicService is involved: a network
provider can audit a cluster before the first PublicService exists.

The output has the shapes of netpol-analyzer's connlist (k8snetpolicy list): txt lines
"src => dst : conn", a JSON list of {"src", "dst", "conn"}, CSV, a Markdown table, or a
Graphviz digraph; connections read "All Connections" or "TCP 80,UDP 53". Only
NetworkPolicies count (no Ingress or Route objects, no AdminNetworkPolicies).

With -f, PublicServices and NetworkZones are rendered first, as the operator would.`,
		Example: `  # The connectivity of the cluster of the current kubeconfig context
  kubectl city connectivity

  # Of manifests, offline, as JSON
  kubectl city connectivity -f deploy/ -R -o json

  # A picture
  kubectl city connectivity -f deploy/ -o dot | dot -Tsvg > connectivity.svg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := format.ConnlistFormat(output)
			if !slices.Contains(format.ConnlistFormats, f) {
				return fmt.Errorf("--output must be one of %s, not %q", connlistFormatNames(), output)
			}
			m, _, _, err := o.model(cmd.Context(), &src)
			if err != nil {
				return err
			}
			l, err := audit.Connectivity(m)
			if err != nil {
				return err
			}
			return format.WriteConnlist(o.streams.Out, l, f)
		},
	}
	src.addFlags(cmd, "list")
	cmd.Flags().StringVarP(&output, "output", "o", string(format.ConnlistText), "Output format: "+connlistFormatNames()+".")
	return cmd
}

func connlistFormatNames() string {
	names := make([]string, 0, len(format.ConnlistFormats))
	for _, f := range format.ConnlistFormats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}
