package netpol

import (
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// maxCompiledSelectors bounds the selector cache; past it the cache starts afresh. A city's
// policies repeat a few thousand selectors (one per service and namespace entry).
const maxCompiledSelectors = 1 << 14

// compiled is a label selector converted once: converting validates every key and value with
// regular expressions, which an engine built for each verification would otherwise repeat for
// every rule of every policy.
type compiled struct {
	selector labels.Selector
	// key is selector.String(), the selector's canonical form (for nil, which selects nothing,
	// a key of its own).
	key string
	err error
}

// selectorCache holds compiled selectors by selectorKey; it is shared by every engine and safe
// for concurrent use. Compiled selectors are immutable.
var selectorCache = struct {
	sync.Mutex
	m map[string]compiled
}{m: map[string]compiled{}}

// compileSelector converts sel as metav1.LabelSelectorAsSelector does, once per distinct
// selector.
func compileSelector(sel *metav1.LabelSelector) (labels.Selector, string, error) {
	// The key is written into a buffer on the stack and looked up without becoming a string:
	// every rule of every policy of every engine looks its selectors up, and nearly all hit.
	var buf [256]byte
	k := appendSelectorKey(buf[:0], sel)
	selectorCache.Lock()
	c, ok := selectorCache.m[string(k)]
	selectorCache.Unlock()
	if ok {
		return c.selector, c.key, c.err
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	c = compiled{selector: s, err: err}
	switch {
	case sel == nil:
		c.key = "\x00nothing" // labels.Nothing() prints as "", as labels.Everything() does
	case err == nil:
		c.key = s.String()
	}
	selectorCache.Lock()
	if len(selectorCache.m) >= maxCompiledSelectors {
		clear(selectorCache.m)
	}
	selectorCache.m[string(k)] = c
	selectorCache.Unlock()
	return c.selector, c.key, c.err
}

// selectorKey writes sel exactly, with its matchLabels in key order: two selectors with the
// same key convert to the same labels.Selector (nil and empty differ: nil selects nothing).
func selectorKey(sel *metav1.LabelSelector) string {
	return string(appendSelectorKey(nil, sel))
}

// appendSelectorKey appends selectorKey(sel) to b.
func appendSelectorKey(b []byte, sel *metav1.LabelSelector) []byte {
	if sel == nil {
		return append(b, "nil"...)
	}
	keys := make([]string, 0, 8) // on the stack for the few labels a selector has
	for k := range sel.MatchLabels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for _, k := range keys {
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, sel.MatchLabels[k]...)
		b = append(b, 0)
	}
	b = append(b, "}["...)
	for _, e := range sel.MatchExpressions {
		b = append(b, e.Key...)
		b = append(b, 1)
		b = append(b, e.Operator...)
		for _, v := range e.Values {
			b = append(b, 1)
			b = append(b, v...)
		}
		b = append(b, 0)
	}
	return append(b, ']')
}
