package controllers

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// defaultMemoSize bounds an applyMemo: room for every child of 4,000 services (seven
// children each and a replicas handoff), about 100 bytes an entry.
const defaultMemoSize = 1 << 15

// memoKey names one apply: a child's kind and key, and the field manager that applies it
// (the operator's, or the replicas handoff's).
type memoKey struct {
	kind    string
	key     client.ObjectKey
	manager string
}

// memoEntry is what an apply sent (a hash of its configuration), the resourceVersion the API
// server answered with, and a hash of the object it answered without its status (content).
type memoEntry struct {
	hash            [sha256.Size]byte
	resourceVersion string
	content         [sha256.Size]byte
}

// applyMemo remembers the last successful apply of each child, so that a reconcile whose
// desired state is what was last applied, to an object nobody has changed since, sends no
// request: server-side apply of the same configuration to the same object is a no-op, and
// proving it costs a round trip. It follows cluster-api's SSA request cache (a hash of the
// request and the object's resourceVersion). An object whose resourceVersion moved only
// because its status did (a Deployment's pods becoming ready) counts as unchanged: its
// content, everything but status and bookkeeping, is compared with what the apply produced.
// A miss costs one apply; the memo is bounded and, when full, forgets an arbitrary entry. Its
// zero value is ready to use; it is safe for concurrent reconciles.
type applyMemo struct {
	mu      sync.Mutex
	entries map[memoKey]memoEntry
	// size bounds the entries; 0 means defaultMemoSize.
	size int
}

// hashApply hashes an apply configuration before it is sent (the client fills it with the
// server's answer afterwards).
func hashApply(ac runtime.ApplyConfiguration) ([sha256.Size]byte, error) {
	raw, err := json.Marshal(ac)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("failed to hash apply configuration: %w", err)
	}
	return sha256.Sum256(raw), nil
}

// current reports whether the last apply under k sent hash and produced the live object, up
// to its status: applying again would change nothing. A live object that differs from the
// last answer only in status and resourceVersion is remembered at its new resourceVersion.
func (m *applyMemo) current(k memoKey, hash [sha256.Size]byte, live client.Object) bool {
	rv := live.GetResourceVersion()
	if rv == "" {
		return false
	}
	m.mu.Lock()
	e, ok := m.entries[k]
	m.mu.Unlock()
	if !ok || e.hash != hash {
		return false
	}
	if e.resourceVersion == rv {
		return true
	}
	content, err := contentHash(live)
	if err != nil || content != e.content {
		return false
	}
	m.remember(k, memoEntry{hash: hash, resourceVersion: rv, content: content})
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
		m.entries = map[memoKey]memoEntry{}
	}
	if _, ok := m.entries[k]; !ok && len(m.entries) >= m.limit() {
		for old := range m.entries { // map order: an arbitrary entry
			delete(m.entries, old)
			break
		}
	}
	m.entries[k] = e
}

// contentHash hashes an object without what changes under the operator's feet without
// changing what it applied: status, resourceVersion, generation, managedFields, kubectl's
// last-applied annotation (which the cache drops), apiVersion and kind (which cached objects
// lack).
func contentHash(obj client.Object) ([sha256.Size]byte, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return [sha256.Size]byte{}, err
	}
	delete(m, "status")
	delete(m, "apiVersion")
	delete(m, "kind")
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "resourceVersion")
		delete(meta, "generation")
		delete(meta, "managedFields")
		if a, ok := meta["annotations"].(map[string]any); ok {
			delete(a, corev1.LastAppliedConfigAnnotation)
			if len(a) == 0 {
				delete(meta, "annotations")
			}
		}
	}
	raw, err = json.Marshal(m) // maps marshal with sorted keys
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(raw), nil
}

// forget drops what is known of the applies under k.
func (m *applyMemo) forget(k memoKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, k)
}

// forgetObject drops what is known of every apply to the object of kind at key.
func (m *applyMemo) forgetObject(kind string, key client.ObjectKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.entries {
		if k.kind == kind && k.key == key {
			delete(m.entries, k)
		}
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
