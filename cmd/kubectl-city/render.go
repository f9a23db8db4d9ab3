package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

func newRenderCommand(o *options) *cobra.Command {
	var src source
	var output string
	cmd := &cobra.Command{
		Use:   "render -f FILENAME... [-o yaml|json]",
		Short: "Print the objects the operator would create for PublicService manifests",
		Long: `Print, for every PublicService of the manifests, the objects the operator would apply
(NetworkPolicy, ServiceAccount, Deployment, Service, HorizontalPodAutoscaler,
PodDisruptionBudget, and HTTPRoute or Ingress), rendered by the operator's own code, with
NetworkZones and namespace labels resolved as the operator resolves them. Nothing is
contacted: this is a preview for GitOps reviews.

The Deployment is shown in its steady state: replicas are set only when no
HorizontalPodAutoscaler scales it. Owner references carry no UID (the API server assigns it).`,
		Example: `  # Preview what the operator creates for the reference city
  kubectl city render -f config/samples

  # Review the change a pull request makes to the rendered objects
  diff <(kubectl city render -f main/deploy -R) <(kubectl city render -f pr/deploy -R)

  # With the operator's settings
  kubectl city render -f deploy/ --gateway=gateway-system/city-gateway`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !src.offline() {
				return fmt.Errorf("render needs manifests: give them with -f")
			}
			if output != outputYAML && output != outputJSON {
				return fmt.Errorf("--output must be yaml or json, not %q", output)
			}
			opts, err := o.auditOptions()
			if err != nil {
				return err
			}
			m, err := audit.ReadFiles(src.filenames, src.recursive, o.streams.In)
			if err != nil {
				return err
			}
			children := audit.Children(m, opts.Render)
			objects := make([]map[string]any, 0, len(children))
			for _, c := range children {
				obj, err := manifest(c.Object)
				if err != nil {
					return fmt.Errorf("failed to write the %s of PublicService %s: %w", c.Kind, c.Service, err)
				}
				objects = append(objects, obj)
			}
			if output == outputJSON {
				items := make([]any, 0, len(objects))
				for _, obj := range objects {
					items = append(items, obj)
				}
				enc := json.NewEncoder(o.streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
			}
			for i, c := range children {
				data, err := yaml.Marshal(objects[i])
				if err != nil {
					return fmt.Errorf("failed to write the %s of PublicService %s: %w", c.Kind, c.Service, err)
				}
				sep := "---\n"
				if i == 0 {
					sep = ""
				}
				if _, err := fmt.Fprintf(o.streams.Out, "%s# %s of PublicService %s\n%s", sep, c.Kind, c.Service, data); err != nil {
					return err
				}
			}
			if len(children) == 0 {
				_, _ = fmt.Fprintln(o.streams.ErrOut, "No PublicService in the manifests: nothing to render.")
			}
			return nil
		},
	}
	src.addFlags(cmd, "render")
	cmd.Flags().StringVarP(&output, "output", "o", outputYAML, "Output format: yaml (multi-document) or json (a List).")
	return cmd
}

// manifest turns an apply configuration into a plain object, without the owner references'
// empty UID (the API server assigns the PublicService's UID; the operator fills it in).
func manifest(ac any) (map[string]any, error) {
	data, err := json.Marshal(ac)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		if refs, ok := md["ownerReferences"].([]any); ok {
			for _, r := range refs {
				if ref, ok := r.(map[string]any); ok && ref["uid"] == "" {
					delete(ref, "uid")
				}
			}
		}
	}
	return obj, nil
}
