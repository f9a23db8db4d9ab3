package manifests

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// documents returns the YAML documents of a file, split.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := utilyaml.NewYAMLReader(bufioReader(raw))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(bytes.TrimSpace(doc)) > 0 {
			docs = append(docs, doc)
		}
	}
}

func TestRBACIsLeastPrivilege(t *testing.T) {
	files, err := filepath.Glob("../../config/rbac/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no RBAC files found: %v", err)
	}
	roles := 0
	for _, f := range files {
		for _, doc := range documents(t, f) {
			var role rbacv1.ClusterRole // Role and ClusterRole share the rules field
			if err := yaml.Unmarshal(doc, &role); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if role.Kind != "ClusterRole" && role.Kind != "Role" {
				continue
			}
			roles++
			for _, rule := range role.Rules {
				for _, field := range [][]string{rule.APIGroups, rule.Resources, rule.Verbs, rule.ResourceNames} {
					if slices.Contains(field, "*") {
						t.Errorf("%s: %s %s has a wildcard: %+v", f, role.Kind, role.Name, rule)
					}
				}
				if slices.Contains(rule.Resources, "secrets") {
					t.Errorf("%s: %s %s grants access to Secrets: %+v", f, role.Kind, role.Name, rule)
				}
			}
		}
	}
	if roles == 0 {
		t.Fatal("found no Role or ClusterRole in config/rbac")
	}
}

func TestSampleCity(t *testing.T) {
	files, err := filepath.Glob("../../config/samples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var services []platformv1alpha1.PublicService
	var zones []platformv1alpha1.NetworkZone
	namespaces := map[string]corev1.Namespace{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		for _, doc := range documents(t, f) {
			var meta struct{ Kind string }
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			switch meta.Kind {
			case "PublicService":
				var s platformv1alpha1.PublicService
				mustStrict(t, f, doc, &s)
				services = append(services, s)
			case "NetworkZone":
				var z platformv1alpha1.NetworkZone
				mustStrict(t, f, doc, &z)
				zones = append(zones, z)
			case "Namespace":
				var ns corev1.Namespace
				mustStrict(t, f, doc, &ns)
				namespaces[ns.Name] = ns
			default:
				t.Errorf("%s: unexpected kind %q in the samples", f, meta.Kind)
			}
		}
	}

	profiles := map[platformv1alpha1.Profile]bool{}
	for _, s := range services {
		profiles[s.Spec.Profile] = true
		ns, ok := namespaces[s.Namespace]
		if !ok {
			t.Errorf("PublicService %s/%s: its namespace is not among the samples", s.Namespace, s.Name)
		} else if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("namespace %s does not enforce Pod Security restricted", ns.Name)
		}
		if !strings.HasPrefix(s.Spec.Image, "smartcity/city-service:") || strings.HasSuffix(s.Spec.Image, ":latest") {
			t.Errorf("PublicService %s/%s: image %q is not the project's city-service with a pinned tag", s.Namespace, s.Name, s.Spec.Image)
		}
	}
	for _, p := range []platformv1alpha1.Profile{
		platformv1alpha1.ProfilePortal, platformv1alpha1.ProfileIdentityVerification, platformv1alpha1.ProfileHospitalCheckIn,
	} {
		if !profiles[p] {
			t.Errorf("the sample city has no %s service", p)
		}
	}

	// Zone CIDRs must stay clear of kind's pod and service ranges and Docker's default pools,
	// so the kind tests can reproduce the zones with a client network.
	reserved := []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("172.16.0.0/12")}
	if len(zones) == 0 {
		t.Error("the sample city has no NetworkZone")
	}
	for _, z := range zones {
		if z.Spec.AllowedNamespaces == nil {
			t.Errorf("zone %s has no allowedNamespaces: no sample service could use it", z.Name)
		}
		for _, c := range z.Spec.CIDRs {
			p := netip.MustParsePrefix(c)
			for _, r := range reserved {
				if p.Overlaps(r) {
					t.Errorf("zone %s: CIDR %s overlaps %s", z.Name, c, r)
				}
			}
		}
	}
}

// mustStrict decodes a document, failing on fields the Go type does not know (a typo in a sample).
func mustStrict(t *testing.T, f string, doc []byte, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
}
