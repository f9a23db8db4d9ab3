package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/smartcity-io/smartcity-operator/internal/version"
)

// Output format of version: text, besides json and yaml.
const outputText = "text"

func newVersionCommand(o *options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version [-o text|json|yaml]",
		Short: "Print the plugin's version, commit and Go version",
		Long: `Print the version of this kubectl city binary: the release version, the git commit it was
built from and that commit's date, the Go version and the platform. Releases set them at build time;
a binary built with plain go build reports what Go recorded (or "unknown").
Nothing is contacted.`,
		Example: `  kubectl city version
  kubectl city version -o json`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			return printVersion(o.streams.Out, version.Get(), output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", outputText, "Output format: text, json or yaml.")
	return cmd
}

func printVersion(w io.Writer, info version.Info, output string) error {
	switch output {
	case outputText:
		tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
		modified := ""
		if info.Modified {
			modified = " (modified work tree)"
		}
		_, _ = fmt.Fprintf(tw, "Version:\t%s\n", info.Version)
		_, _ = fmt.Fprintf(tw, "Commit:\t%s%s\n", info.Commit, modified)
		_, _ = fmt.Fprintf(tw, "Date:\t%s\n", info.Date)
		_, _ = fmt.Fprintf(tw, "Go version:\t%s\n", info.GoVersion)
		_, _ = fmt.Fprintf(tw, "Platform:\t%s\n", info.Platform)
		return tw.Flush()
	case outputJSON:
		b, err := json.MarshalIndent(info, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case outputYAML:
		b, err := yaml.Marshal(info)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("--output must be text, json or yaml, not %q", output)
}
