package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

func newExplainCommand(o *options) *cobra.Command {
	var src source
	var output, protocol string
	var port int32
	cmd := &cobra.Command{
		Use:   "explain FROM TO [--port PORT] [-f FILENAME]...",
		Short: "Explain why one connection is allowed or denied, and which NetworkPolicy decides",
		Long: `Explain whether FROM can open a connection to TO, and which NetworkPolicies decide, on the
source's side (egress) and on the destination's side (ingress).

FROM and TO are:
  namespace/service     a PublicService (its pods)
  namespace/workload    any other Deployment, StatefulSet, DaemonSet or Pod
  zone/<name>           a NetworkZone (every address of its cidrs, without except)
  an IPv4 address or CIDR
  {gateway} {dns} {any-pod} {external}   the audit's stand-ins (see kubectl city audit --help)

The port defaults to the declared port of the pair, else to the destination's port.
For a zone or an address range, the answer is given per group of addresses that the
policies treat alike.

Exit status: 0 when the connection matches the intent, 1 when it is a violation (allowed
and undeclared, or declared and blocked), 2 when the command could not run.`,
		Example: `  # Why may the portal call the identity service?
  kubectl city explain city-portal/portal city-identity/vneid

  # Can an address of the hospital LAN reach the check-in service on its port?
  kubectl city explain 192.168.100.17 city-health/checkin

  # Is the identity service reachable from an arbitrary pod on port 22, before applying a change?
  kubectl city explain '{any-pod}' city-identity/vneid --port 22 -f config/samples -f change/`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return fmt.Errorf("explain needs FROM and TO, got %d argument(s)\nSee '%s --help' for usage", len(args), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != outputTable && output != outputJSON {
				return fmt.Errorf("--output must be table or json, not %q", output)
			}
			if port < 0 || port > 65535 {
				return fmt.Errorf("--port must be between 1 and 65535, not %d", port)
			}
			proto := corev1.Protocol(strings.ToUpper(protocol))
			if proto != corev1.ProtocolTCP && proto != corev1.ProtocolUDP && proto != corev1.ProtocolSCTP {
				return fmt.Errorf("--protocol must be TCP, UDP or SCTP, not %q", protocol)
			}
			m, opts, _, err := o.model(cmd.Context(), &src)
			if err != nil {
				return err
			}
			pr := audit.PortRange{Protocol: proto, From: port, To: port}
			if !cmd.Flags().Changed("protocol") && port == 0 {
				pr.Protocol = "" // the declared protocol
			}
			x, err := audit.Explain(m, opts, args[0], args[1], pr)
			if err != nil {
				return err
			}
			if output == outputJSON {
				enc := json.NewEncoder(o.streams.Out)
				enc.SetIndent("", "  ")
				err = enc.Encode(x)
			} else {
				err = audit.WriteExplanation(o.streams.Out, x)
			}
			if err != nil {
				return err
			}
			if len(x.Violations) > 0 {
				return &violationsError{summary: x.Violations[0].Message}
			}
			return nil
		},
	}
	src.addFlags(cmd, "explain")
	cmd.Flags().Int32Var(&port, "port", 0, "The destination port (default: the declared one, else the destination's port).")
	cmd.Flags().StringVar(&protocol, "protocol", "TCP", "The protocol: TCP, UDP or SCTP.")
	cmd.Flags().StringVarP(&output, "output", "o", outputTable, "Output format: table or json.")
	return cmd
}
