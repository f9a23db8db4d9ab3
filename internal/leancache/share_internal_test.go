package leancache

import (
	"fmt"
	"maps"
	"reflect"
	"testing"
)

// TestLabelTableBound: a full table starts again empty; what was shared stays as it is.
func TestLabelTableBound(t *testing.T) {
	table := newLabelTable(3)
	first := make([]map[string]string, 0, 3)
	for i := range 3 {
		m := map[string]string{"app": fmt.Sprint(i)}
		if got := table.intern(m); !maps.Equal(got, m) {
			t.Fatalf("intern(%v) = %v", m, got)
		}
		first = append(first, m)
	}
	if table.len() != 3 {
		t.Fatalf("%d sets, want 3", table.len())
	}
	table.intern(map[string]string{"app": "3"})
	if table.len() != 1 {
		t.Errorf("after a fourth set in a table of 3: %d sets, want 1 (started again)", table.len())
	}
	again := map[string]string{"app": "0"}
	if got := table.intern(again); samePointer(got, first[0]) || !maps.Equal(got, again) {
		t.Errorf("a set dropped when the table started again is shared with the old map, or changed: %v", got)
	}
	if got := table.intern(map[string]string{"app": "0"}); !samePointer(got, again) {
		t.Error("the set added after the table started again is not shared")
	}
}

// TestLabelTableHashIgnoresOrder: the hash of a set does not depend on how it was built.
func TestLabelTableHashIgnoresOrder(t *testing.T) {
	table := newLabelTable(10)
	a := map[string]string{}
	b := map[string]string{}
	for i := range 20 {
		a[fmt.Sprint("k", i)] = fmt.Sprint(i)
		b[fmt.Sprint("k", 19-i)] = fmt.Sprint(19 - i)
	}
	if table.hash(a) != table.hash(b) {
		t.Error("the same set built in two orders hashes two ways")
	}
	if table.hash(map[string]string{"a": "b"}) == table.hash(map[string]string{"a": "c"}) ||
		table.hash(map[string]string{"ab": ""}) == table.hash(map[string]string{"a": "b"}) {
		t.Error("two sets hash the same")
	}
}

func samePointer(a, b map[string]string) bool {
	return a != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
