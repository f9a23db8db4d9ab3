package netpol

import (
	"maps"
	"slices"
	"strings"
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
	k := selectorKey(sel)
	selectorCache.Lock()
	c, ok := selectorCache.m[k]
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
	selectorCache.m[k] = c
	selectorCache.Unlock()
	return c.selector, c.key, c.err
}

// selectorKey writes sel exactly, with its matchLabels in key order: two selectors with the
// same key convert to the same labels.Selector (nil and empty differ: nil selects nothing).
func selectorKey(sel *metav1.LabelSelector) string {
	if sel == nil {
		return "nil"
	}
	var b strings.Builder
	b.WriteString("{")
	for _, k := range slices.Sorted(maps.Keys(sel.MatchLabels)) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(sel.MatchLabels[k])
		b.WriteByte(0)
	}
	b.WriteString("}[")
	for _, e := range sel.MatchExpressions {
		b.WriteString(e.Key)
		b.WriteByte(1)
		b.WriteString(string(e.Operator))
		for _, v := range e.Values {
			b.WriteByte(1)
			b.WriteString(v)
		}
		b.WriteByte(0)
	}
	b.WriteString("]")
	return b.String()
}
