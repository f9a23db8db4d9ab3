package validation

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

var _ = Describe("The validation tables", func() {
	It("have an accepted and a rejected case for every CEL rule of PublicService", func() {
		Expect(uncoveredRules("publicservices.platform.smartcity.io", publicServiceCases)).To(BeEmpty())
	})

	It("have an accepted and a rejected case for every CEL rule of NetworkZone", func() {
		Expect(uncoveredRules("networkzones.platform.smartcity.io", networkZoneCases)).To(BeEmpty())
	})

	It("match the CEL messages that quote profile defaults to defaults.go", func() {
		messages := celMessages("publicservices.platform.smartcity.io")
		replicas := slices.IndexFunc(messages, func(m string) bool {
			return strings.Contains(m, replicasMinAboveMax.message)
		})
		Expect(replicas).NotTo(Equal(-1), "no replicas rule in the CRD")
		for _, p := range allProfiles {
			d := platformv1alpha1.DefaultsFor(p)
			Expect(messages[replicas]).To(ContainSubstring("%s %d-%d", p, d.MinReplicas, d.MaxReplicas))
		}

		// For example "(the Portal profile is Public by default)".
		byDefault := regexp.MustCompile(`the (\w+) profile is (\w+) by default`)
		quoted := 0
		for _, m := range messages {
			for _, match := range byDefault.FindAllStringSubmatch(m, -1) {
				quoted++
				d := platformv1alpha1.DefaultsFor(platformv1alpha1.Profile(match[1]))
				Expect(match[2]).To(Equal(string(d.Exposure)), "message %q", m)
			}
		}
		Expect(quoted).To(BeNumerically(">", 0), "no message quotes a default exposure any more")
	})
})

// uncoveredRules lists the CEL rules of a CRD that lack an accepted or a rejected case, and the
// rules without a message (the server would show the bare expression).
func uncoveredRules(crdName string, cases []validationCase) []string {
	messages := celMessages(crdName)
	Expect(messages).NotTo(BeEmpty(), "no CEL rules found in CRD %s", crdName)
	var problems []string
	for _, m := range messages {
		if m == "" {
			problems = append(problems, "a rule has no message")
			continue
		}
		var accepts, rejects int
		for _, c := range cases {
			switch {
			case len(c.want) == 0 && strings.Contains(m, c.rule.message):
				accepts++
			case slices.ContainsFunc(c.want, func(v violation) bool { return strings.Contains(m, v.message) }):
				rejects++
			}
		}
		if accepts == 0 || rejects == 0 {
			problems = append(problems, fmt.Sprintf("rule %q: %d accepted and %d rejected cases", m, accepts, rejects))
		}
	}
	return problems
}

// celMessages returns the message of every x-kubernetes-validations rule of the installed CRD.
func celMessages(crdName string) []string {
	var messages []string
	for _, crd := range crds {
		if crd.Name != crdName {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Schema != nil {
				messages = appendCELMessages(messages, v.Schema.OpenAPIV3Schema)
			}
		}
	}
	return messages
}

func appendCELMessages(messages []string, s *apiextensionsv1.JSONSchemaProps) []string {
	if s == nil {
		return messages
	}
	for _, r := range s.XValidations {
		messages = append(messages, r.Message)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		p := s.Properties[name]
		messages = appendCELMessages(messages, &p)
	}
	if s.Items != nil {
		messages = appendCELMessages(messages, s.Items.Schema)
	}
	if s.AdditionalProperties != nil {
		messages = appendCELMessages(messages, s.AdditionalProperties.Schema)
	}
	return messages
}
