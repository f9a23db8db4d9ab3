package controllers

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/smartcity-io/smartcity-operator/internal/leancache"
)

// defaultMemoSize bounds an applyMemo: room for every child of 4,000 services (seven
// children each and a replicas handoff), under 100 bytes an entry with the map's own room
// (BenchmarkMemoRetained).
const defaultMemoSize = 1 << 15

// memoKey names one apply: a child's kind and key, and the field manager that applies it
// (the operator's, or the replicas handoff's). The memo keeps only its hash (applyMemo.id),
// not its strings.
type memoKey struct {
	kind    string
	key     client.ObjectKey
	manager string
}

// digest is a SHA-256 sum truncated to 128 bits, half the memory of a whole one. The memo
// compares digests of what the operator renders and of what the API server answers; nobody
// chooses them to collide on purpose, and by chance two of the at most defaultMemoSize
// remembered applies share a digest with a probability below 2^-98. Even a chosen collision
// costs about 2^64 hashes (the birthday bound), and would only skip the apply of a child that
// whoever found it can already edit.
type digest [16]byte

// sum is the digest of raw.
func sum(raw []byte) digest {
	s := sha256.Sum256(raw)
	return digest(s[:len(digest{})])
}

// memoEntry is what an apply sent (a digest of its configuration), the resourceVersion the
// API server answered with, and a digest of the fields it set as the API server answered them
// (content). The memo keeps it as a memoRecord.
type memoEntry struct {
	hash            digest
	resourceVersion string
	content         digest
}

// memoRecord is a memoEntry as the memo keeps it: 40 bytes, and no string to keep beside.
type memoRecord struct {
	hash     digest
	content  digest
	revision revision
}

// revision is a resourceVersion as the memo keeps it. The memo only compares resourceVersions
// for equality; an etcd-backed API server spells them as decimal numbers, and a number spelled
// without leading zeros has only one spelling, so the number stands for the string. Any other
// resourceVersion (they are opaque to clients) is kept as unknownRevision, which matches no
// object: current then compares the fields the apply sets, as it does for an object whose
// resourceVersion moved, and decides the same, since an object at the resourceVersion of the
// apply's answer is the answer.
type revision uint64

const unknownRevision revision = 0

// revisionOf reads a resourceVersion as a revision.
func revisionOf(rv string) revision {
	if rv == "" || rv[0] == '0' {
		return unknownRevision
	}
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return unknownRevision
	}
	return revision(n)
}

// applyMemo remembers the last successful apply of each child, so that a reconcile whose
// desired state is what was last applied, to an object nobody has changed since, sends no
// request: server-side apply of the same configuration to the same object is a no-op, and
// proving it costs a round trip. It follows cluster-api's SSA request cache (a hash of the
// request and the object's resourceVersion). An object whose resourceVersion moved only
// because fields the apply does not set did (a Deployment's status as its pods become ready,
// its revision annotation, the replicas an HPA sets) counts as unchanged: the fields the apply
// sets are compared with what the apply produced.
// A miss costs one apply; the memo is bounded and, when full, forgets an arbitrary entry. Its
// zero value is ready to use; it is safe for concurrent reconciles.
//
// Entries are keyed by a 64-bit hash of their memoKey (id), so that the memo holds no strings.
// Two keys that share an id share an entry, and a collision can never make current answer
// true wrongly: an entry matches only a configuration with the same digest (hash), and every
// configuration the memo sees names its object's apiVersion, kind, namespace and name
// (client-go's constructors set them, newDesiredApply refuses one without kind and name, and
// TestDesiredApplyNamesItsObject checks every child and the replicas handoff), so an entry
// that another object's apply wrote never matches. The field manager is not in the
// configuration, but the same object's two managers never apply the same one: the
// operator's always sets its owner reference, the handoff's only spec.replicas. A collision
// thus costs at most an apply that a memo without it would have skipped (one key's entry
// overwritten or forgotten with the other's).
type applyMemo struct {
	mu      sync.Mutex
	seed    maphash.Seed // set with entries
	entries map[uint64]memoRecord
	// managers are the field managers of every apply remembered, so that forgetObject can
	// find each manager's entry for an object (the operator's and the replicas handoff's).
	managers []string
	// size bounds the entries; 0 means defaultMemoSize.
	size int
}

// desiredApply is an apply configuration as it is about to be sent: its hash, and its fields
// (decoded JSON), the shape that live objects are compared in.
type desiredApply struct {
	hash   digest
	fields map[string]any
}

// newDesiredApply reads an apply configuration before it is sent (the client fills it with the
// server's answer afterwards).
func newDesiredApply(ac runtime.ApplyConfiguration) (desiredApply, error) {
	raw, err := json.Marshal(ac)
	if err != nil {
		return desiredApply{}, fmt.Errorf("failed to hash apply configuration: %w", err)
	}
	d := desiredApply{hash: sum(raw)}
	if err := json.Unmarshal(raw, &d.fields); err != nil {
		return desiredApply{}, fmt.Errorf("failed to read apply configuration: %w", err)
	}
	// The memo's entries are told apart by this hash, not by their keys (applyMemo): it must
	// cover the object's identity.
	metadata, _ := d.fields["metadata"].(map[string]any)
	if kind, _ := d.fields["kind"].(string); kind == "" || metadata["name"] == nil || metadata["name"] == "" {
		return desiredApply{}, fmt.Errorf("apply configuration %T names no kind and name", ac)
	}
	// Cached objects carry no apiVersion and kind; the key identifies the kind anyway.
	delete(d.fields, "apiVersion")
	delete(d.fields, "kind")
	return d, nil
}

// current reports whether the last apply under k sent d and produced the live object, in the
// fields that d sets: applying again would change nothing. A live object that differs from the
// last answer only elsewhere (its status, a revision annotation, the replicas an HPA sets) is
// remembered at its new resourceVersion.
func (m *applyMemo) current(k memoKey, d desiredApply, live client.Object) bool {
	rv := live.GetResourceVersion()
	if rv == "" {
		return false
	}
	m.mu.Lock()
	e, ok := m.lookup(k)
	m.mu.Unlock()
	if !ok || e.hash != d.hash {
		return false
	}
	if r := revisionOf(rv); r != unknownRevision && r == e.revision {
		return true
	}
	content, err := contentHash(live, d)
	if err != nil || content != e.content {
		return false
	}
	m.remember(k, memoEntry{hash: d.hash, resourceVersion: rv, content: content})
	return true
}

// remember records an apply under k: what it sent, and what the API server answered.
func (m *applyMemo) remember(k memoKey, e memoEntry) {
	if e.resourceVersion == "" {
		m.forget(k)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.seed, m.entries = maphash.MakeSeed(), map[uint64]memoRecord{}
	}
	if !slices.Contains(m.managers, k.manager) {
		m.managers = append(m.managers, k.manager)
	}
	id := m.id(k)
	if _, ok := m.entries[id]; !ok && len(m.entries) >= m.limit() {
		for old := range m.entries { // map order: an arbitrary entry
			delete(m.entries, old)
			break
		}
	}
	m.entries[id] = memoRecord{hash: e.hash, content: e.content, revision: revisionOf(e.resourceVersion)}
}

// id is the key under which k's entry is kept: a hash with the memo's own seed, so that
// which keys collide differs from one memo (one process) to the next. m.mu must be held and
// m.entries set.
func (m *applyMemo) id(k memoKey) uint64 {
	return maphash.Comparable(m.seed, k)
}

// lookup returns k's entry. m.mu must be held.
func (m *applyMemo) lookup(k memoKey) (memoRecord, bool) {
	if m.entries == nil {
		return memoRecord{}, false
	}
	e, ok := m.entries[m.id(k)]
	return e, ok
}

// contentHash hashes the fields of obj that the apply d sets, in the API server's form: the
// fields the operator owns. What others own (status, the Deployment controller's revision
// annotation, the replicas an HPA sets, labels added by hand) changes under the operator's
// feet without changing what it applied; a field it sets that someone changed (drift) changes
// the hash. Lists are compared element by element when their lengths match, whole otherwise.
//
// obj is compared in the form the cache keeps it (leancache.Form), whether it comes from the
// cache (a live object) or from the API server (an apply's answer): a cached Deployment's pod
// template is trimmed, and a digest of the whole template, a cache-only annotation, takes part
// in the hash wherever the apply sets the template, so that an image edited by hand still
// changes it.
func contentHash(obj client.Object, d desiredApply) (digest, error) {
	form, err := leancache.Form(obj)
	if err != nil {
		return digest{}, err
	}
	raw, err := json.Marshal(form)
	if err != nil {
		return digest{}, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return digest{}, err
	}
	content := struct {
		Fields  any               `json:"fields"`
		Digests map[string]string `json:"digests,omitempty"`
	}{Fields: project(m, d.fields)}
	for _, f := range leancache.TrimmedFields(form) {
		if hasField(d.fields, f.Path) {
			if content.Digests == nil {
				content.Digests = map[string]string{}
			}
			content.Digests[f.Annotation] = form.GetAnnotations()[f.Annotation]
		}
	}
	raw, err = json.Marshal(content) // maps marshal with sorted keys
	if err != nil {
		return digest{}, err
	}
	return sum(raw), nil
}

// hasField reports whether the apply's fields (decoded JSON) hold the field at path.
func hasField(fields map[string]any, path []string) bool {
	var v any = fields
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[p]; !ok {
			return false
		}
	}
	return true
}

// project keeps of v (decoded JSON) what shape has: the keys of shape's maps, and list
// elements one by one where v's list is as long as shape's. Anything else is kept whole.
func project(v, shape any) any {
	switch s := shape.(type) {
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		out := make(map[string]any, len(s))
		for k, sub := range s {
			if x, found := m[k]; found {
				out[k] = project(x, sub)
			}
		}
		return out
	case []any:
		l, ok := v.([]any)
		if !ok || len(l) != len(s) {
			return v
		}
		out := make([]any, len(l))
		for i := range l {
			out[i] = project(l[i], s[i])
		}
		return out
	}
	return v
}

// forget drops what is known of the applies under k.
func (m *applyMemo) forget(k memoKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries != nil {
		delete(m.entries, m.id(k))
	}
}

// forgetObject drops what is known of every apply to the object of kind at key, under each
// field manager the memo has seen.
func (m *applyMemo) forgetObject(kind string, key client.ObjectKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		return
	}
	for _, manager := range m.managers {
		delete(m.entries, m.id(memoKey{kind: kind, key: key, manager: manager}))
	}
}

// len returns the number of remembered applies.
func (m *applyMemo) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

func (m *applyMemo) limit() int {
	if m.size > 0 {
		return m.size
	}
	return defaultMemoSize
}
