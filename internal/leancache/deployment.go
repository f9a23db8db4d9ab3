package leancache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TemplateDigestAnnotation holds, on a cached Deployment only, the SHA-256 of its whole pod
// template, which the cache trims: the apply memo compares it to tell a template edited by
// hand (an image, an env var, a probe) from one nobody touched. It exists in the cache alone
// and is never written: every write of a Deployment is an apply built from the desired state
// (internal/render), never from a cached object.
const TemplateDigestAnnotation = "leancache.platform.smartcity.io/template-sha256"

// replicasFields is the one path that the managedFields of a cached Deployment keep.
const replicasFields = `{"f:spec":{"f:replicas":{}}}`

// TrimDeployment keeps of a Deployment what the operator's decisions read: its metadata with,
// of its managedFields, only the entries that own spec.replicas, reduced to that path (the
// replicas handoff asks whether the operator's apply owns it); its spec with the pod template
// trimmed to labels, container names and ports and hostNetwork (the connectivity check),
// and a digest of the whole template in TemplateDigestAnnotation (the apply memo); its status
// without conditions (the reconciler reads the replica counts). It is idempotent: a trimmed
// Deployment comes back as it is, digest included.
func TrimDeployment(in any) (any, error) {
	d, ok := in.(*appsv1.Deployment)
	if !ok {
		return StripManagedFields(in)
	}
	stripLastApplied(d)
	d.ManagedFields = replicasOwners(d.ManagedFields)
	d.Status.Conditions = nil
	if trimmed(d) {
		return d, nil
	}
	digest, err := templateDigest(&d.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("failed to digest the pod template of Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[TemplateDigestAnnotation] = digest
	d.Spec.Template = trimTemplate(d.Spec.Template)
	return d, nil
}

// trimmed reports whether d is in the cache's form already: it has a digest, and its
// template is its own trimmed form. A template the API server holds never is: the server
// defaults its restartPolicy, dnsPolicy and more, which the trimmed form drops.
func trimmed(d *appsv1.Deployment) bool {
	if _, ok := d.Annotations[TemplateDigestAnnotation]; !ok {
		return false
	}
	return equality.Semantic.DeepEqual(trimTemplate(d.Spec.Template), d.Spec.Template)
}

// templateDigest hashes the template's protobuf encoding, which is deterministic (map keys are
// sorted) and does not tell a nil list from an empty one, as JSON and protobuf decoding may.
// The digest is compared only within one process.
func templateDigest(t *corev1.PodTemplateSpec) (string, error) {
	raw, err := t.Marshal()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// replicasOwners keeps the entries that own spec.replicas, reduced to that path and their
// manager, operation and subresource: all that the replicas handoff reads. The drift repair
// reads the whole managedFields without the cache.
func replicasOwners(entries []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
	var out []metav1.ManagedFieldsEntry
	for _, e := range entries {
		if e.FieldsV1 == nil || !ownsReplicas(e.FieldsV1.GetRawBytes()) {
			continue
		}
		out = append(out, metav1.ManagedFieldsEntry{
			Manager:     e.Manager,
			Operation:   e.Operation,
			APIVersion:  e.APIVersion,
			Subresource: e.Subresource,
			FieldsType:  e.FieldsType,
			FieldsV1:    metav1.NewFieldsV1(replicasFields),
		})
	}
	return out
}

// ownsReplicas reports whether a FieldsV1 set holds f:spec.f:replicas. It looks the two keys
// up without decoding the set: the operator's entry describes a whole pod template, and the
// informer trims every Deployment on every update.
func ownsReplicas(raw []byte) bool {
	spec, ok := member(raw, "f:spec")
	if !ok {
		return false
	}
	_, ok = member(spec, "f:replicas")
	return ok
}

// member returns the value of key in the JSON object raw, if that value is an object. A
// FieldsV1 set is objects all the way down, with string keys that may hold escaped quotes
// (k:{\"name\":\"app\"}); key is compared with the raw bytes of each member's name, so it
// must need no escaping. Malformed input reports nothing.
func member(raw []byte, key string) ([]byte, bool) {
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			end := stringEnd(raw, i)
			if end < 0 {
				return nil, false
			}
			if depth == 1 && string(raw[i+1:end]) == key {
				if v, ok := objectAfterColon(raw, end+1); ok {
					return v, true
				}
			}
			i = end
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	return nil, false
}

// stringEnd returns the index of the quote that closes the string opening at start, or -1.
func stringEnd(raw []byte, start int) int {
	for i := start + 1; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++ // skip the escaped character
		case '"':
			return i
		}
	}
	return -1
}

// objectAfterColon returns the object that follows a member name ending before i: a colon,
// then an object, with any white space between.
func objectAfterColon(raw []byte, i int) ([]byte, bool) {
	i = skipSpace(raw, i)
	if i >= len(raw) || raw[i] != ':' {
		return nil, false
	}
	start := skipSpace(raw, i+1)
	if start >= len(raw) || raw[start] != '{' {
		return nil, false
	}
	depth := 0
	for j := start; j < len(raw); j++ {
		switch raw[j] {
		case '"':
			if j = stringEnd(raw, j); j < 0 {
				return nil, false
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return raw[start : j+1], true
			}
		}
	}
	return nil, false
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// TrimmedField is a field that the cache trims, and the cache-only annotation that holds a
// digest of it whole: where an apply sets the field, the digest stands for what the trimmed
// form no longer shows.
type TrimmedField struct {
	// Path is the field's path, such as spec, template.
	Path []string
	// Annotation is the cache-only annotation with the digest.
	Annotation string
}

// TrimmedFields lists the fields of obj's kind that the cache trims with a digest.
func TrimmedFields(obj client.Object) []TrimmedField {
	if _, ok := obj.(*appsv1.Deployment); ok {
		return []TrimmedField{{Path: []string{"spec", "template"}, Annotation: TemplateDigestAnnotation}}
	}
	return nil
}
