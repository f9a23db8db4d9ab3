package netpol

import (
	"strconv"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func TestCompileSelector(t *testing.T) {
	portal := labels.Set{"app": "portal", "tier": "web"}
	cases := []struct {
		name    string
		sel     *metav1.LabelSelector
		matches bool
		wantErr bool
	}{
		{name: "nil selects nothing", sel: nil, matches: false},
		{name: "empty selects everything", sel: &metav1.LabelSelector{}, matches: true},
		{name: "matchLabels", sel: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "portal"}}, matches: true},
		{name: "matchLabels that differ", sel: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "forms"}}, matches: false},
		{name: "In", sel: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"db", "web"}}}}, matches: true},
		{name: "NotIn", sel: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"db", "web"}}}}, matches: false},
		{name: "invalid key", sel: &metav1.LabelSelector{MatchLabels: map[string]string{"bad key!": "x"}}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 { // converted, then from the cache
				s, key, err := compileSelector(tc.sel)
				if tc.wantErr {
					if err == nil {
						t.Fatal("an invalid selector converted")
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := s.Matches(portal); got != tc.matches {
					t.Errorf("Matches = %v, want %v", got, tc.matches)
				}
				want, err := metav1.LabelSelectorAsSelector(tc.sel)
				if err != nil {
					t.Fatal(err)
				}
				if tc.sel != nil && key != want.String() {
					t.Errorf("key %q, want the selector's canonical form %q", key, want.String())
				}
			}
		})
	}
	_, nothing, _ := compileSelector(nil)
	_, everything, _ := compileSelector(&metav1.LabelSelector{})
	if nothing == everything {
		t.Error("nil and empty selectors share a key")
	}
	a := selectorKey(&metav1.LabelSelector{MatchLabels: map[string]string{"a": "1", "b": "2"}})
	if b := selectorKey(&metav1.LabelSelector{MatchLabels: map[string]string{"b": "2", "a": "1"}}); a != b {
		t.Error("the key depends on map order")
	}
	if c := selectorKey(&metav1.LabelSelector{MatchLabels: map[string]string{"a": "12"}}); a == c {
		t.Error("different selectors share a key")
	}
}

func TestSelectorCacheBounded(t *testing.T) {
	for i := range maxCompiledSelectors + 10 {
		if _, _, err := compileSelector(&metav1.LabelSelector{MatchLabels: map[string]string{"n": strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	selectorCache.Lock()
	n := len(selectorCache.m)
	selectorCache.Unlock()
	if n > maxCompiledSelectors {
		t.Errorf("%d selectors cached, beyond the bound %d", n, maxCompiledSelectors)
	}
}
