package validation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A violation is one error the API server reports: the field it names and a distinctive part
// of its message (for a CEL rule, a part of the rule's message in the CRD).
type violation struct {
	field   string
	message string
	// evaluation is set for a rule that failed to evaluate (a defect of the CRD). Such an error
	// also quotes the rule's message, but never counts as that rule rejecting the object.
	evaluation bool
}

// celRule is a CEL rule rejecting an object.
func celRule(field, message string) violation { return violation{field: field, message: message} }

// matches reports whether the API server's cause c is this violation.
func (v violation) matches(c metav1.StatusCause) bool {
	return c.Field == v.field && strings.Contains(c.Message, v.message) && isEvaluationFailure(c.Message) == v.evaluation
}

// isEvaluationFailure reports whether a cause's message is that of a CEL rule that could not be
// evaluated (apiextensions-apiserver pkg/apiserver/schema/cel/validation.go).
func isEvaluationFailure(message string) bool {
	for _, s := range []string{"evaluating rule: ", "for rule: ", "validation rule: ", "cost budget"} {
		if strings.Contains(message, s) {
			return true
		}
	}
	return false
}

func (v violation) String() string { return fmt.Sprintf("%s: %q", v.field, v.message) }

// A validationCase is one object sent to the API server and the answer it must get: accepted
// (want is empty) or rejected with exactly the violations in want.
type validationCase struct {
	name string
	obj  client.Object
	want []violation
	// rule is, for an accepted case, the rule whose boundary the case probes; cases are counted
	// against the CRD's rules so that every rule keeps an accept and a reject case.
	rule violation
}

// accepted is a case the API server must accept; rule is the rule the case is near.
func accepted(name string, obj client.Object, rule violation) validationCase {
	return validationCase{name: name, obj: obj, rule: rule}
}

// rejected is a case the API server must reject with exactly these violations.
func rejected(name string, obj client.Object, want ...violation) validationCase {
	return validationCase{name: name, obj: obj, want: want}
}

// expectCase sends the case's object and checks the API server's answer.
func expectCase(ctx context.Context, c validationCase) {
	GinkgoHelper()
	expectError(dryRunCreate(ctx, c.obj), c.want)
}

// expectAnswer creates obj with dry run (nothing is stored) and checks the API server's answer.
func expectAnswer(ctx context.Context, obj client.Object, want []violation) {
	GinkgoHelper()
	expectError(dryRunCreate(ctx, obj), want)
}

func dryRunCreate(ctx context.Context, obj client.Object) error {
	return k8sClient.Create(ctx, obj.DeepCopyObject().(client.Object), client.DryRunAll)
}

// expectError checks an answer: no error when want is empty, else 422 Invalid with exactly the
// violations in want.
func expectError(err error, want []violation) {
	GinkgoHelper()
	if len(want) == 0 {
		Expect(err).NotTo(HaveOccurred(), "the API server rejected a valid object")
		return
	}
	Expect(err).To(HaveOccurred(), "the API server accepted an invalid object; want %v", want)
	Expect(err).To(Satisfy(apierrors.IsInvalid), "want 422 Invalid")
	Expect(violationDiff(want, statusCauses(err))).To(BeEmpty(), "full error: %v", err)
}

// violationDiff pairs each wanted violation with one cause of the error and lists what is left:
// wanted violations the server did not report, and causes nobody wanted.
func violationDiff(want []violation, causes []metav1.StatusCause) []string {
	var diff []string
	left := slices.Clone(causes)
	for _, v := range want {
		i := slices.IndexFunc(left, v.matches)
		if i < 0 {
			diff = append(diff, "missing "+v.String())
			continue
		}
		left = slices.Delete(left, i, i+1)
	}
	for _, c := range left {
		diff = append(diff, fmt.Sprintf("unexpected %s: %q", c.Field, c.Message))
	}
	return diff
}

func statusCauses(err error) []metav1.StatusCause {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return nil
	}
	return status.Status().Details.Causes
}

// entries turns cases into table entries, in order (Ginkgo needs the same tree in every process).
func entries(cases []validationCase) []TableEntry {
	out := make([]TableEntry, 0, len(cases))
	for _, c := range cases {
		verb := "rejects"
		if len(c.want) == 0 {
			verb = "accepts"
		}
		out = append(out, Entry(verb+" "+c.name, c))
	}
	return out
}
