package controllers

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

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

// memoEntry is what an apply sent (a hash of its configuration) and the resourceVersion the
// API server answered with.
type memoEntry struct {
	hash            [sha256.Size]byte
	resourceVersion string
}

// applyMemo remembers the last successful apply of each child, so that a reconcile whose
// desired state is what was last applied, to an object nobody has written since, sends no
// request: server-side apply of the same configuration to the same object is a no-op, and
// proving it costs a round trip. It follows cluster-api's SSA request cache (a hash of the
// request and the object's resourceVersion). A miss costs one apply; the memo is bounded
// and, when full, forgets an arbitrary entry. Its zero value is ready to use; it is safe
// for concurrent reconciles.
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

// current reports whether the last apply under k sent hash and produced liveRV, the
// resourceVersion the object has now: applying again would change nothing.
func (m *applyMemo) current(k memoKey, hash [sha256.Size]byte, liveRV string) bool {
	if liveRV == "" {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[k]
	return ok && e.hash == hash && e.resourceVersion == liveRV
}

// remember records that an apply under k sent hash and produced resourceVersion rv.
func (m *applyMemo) remember(k memoKey, hash [sha256.Size]byte, rv string) {
	if rv == "" {
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
	m.entries[k] = memoEntry{hash: hash, resourceVersion: rv}
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
