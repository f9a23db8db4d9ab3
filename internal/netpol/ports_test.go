package netpol

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestPorts(t *testing.T) {
	tcp := func(ports ...int32) Ports { return PortsOf(corev1.ProtocolTCP, ports...) }
	udp53 := PortsOf(corev1.ProtocolUDP, 53)
	cases := []struct {
		name string
		got  Ports
		want string
	}{
		{"union merges touching ranges", tcp(80, 81).Union(tcp(82)), "TCP 80-82"},
		{"union keeps protocols apart", tcp(53).Union(udp53), "TCP 53, UDP 53"},
		{"intersect", AllPorts().Intersect(tcp(8080)), "TCP 8080"},
		{"intersect disjoint", tcp(80).Intersect(udp53), "none"},
		{"subtract splits a range", Ports{{corev1.ProtocolTCP, 1, 10}}.Subtract(tcp(5)), "TCP 1-4,6-10"},
		{"subtract everything", tcp(80).Subtract(AllPorts()), "none"},
		{"all", AllPorts(), "all"},
		{"all of one protocol", Ports{{corev1.ProtocolTCP, 1, 65535}}, "TCP all ports"},
		{"all but one port", AllPorts().Subtract(tcp(22)), "TCP 1-21,23-65535, UDP all ports, SCTP all ports"},
		{"out of range ports are dropped", tcp(0, 70000, 443), "TCP 443"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.got.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			back, err := ParsePorts(tc.want)
			if err != nil {
				t.Fatalf("ParsePorts(%q): %v", tc.want, err)
			}
			if diff := cmp.Diff(tc.got.canonical(), back); diff != "" {
				t.Errorf("ParsePorts(String()) (-want +got):\n%s", diff)
			}
		})
	}
	if !AllPorts().Contains(tcp(1, 65535)) || tcp(80).Contains(tcp(80, 81)) || !tcp(80).Contains(nil) {
		t.Error("Contains is wrong")
	}
	for _, bad := range []string{"TCP", "HTTP 80", "TCP 0", "TCP 90-80", "TCP x"} {
		if _, err := ParsePorts(bad); err == nil {
			t.Errorf("ParsePorts(%q) succeeded, want an error", bad)
		}
	}
}

// TestPortsOperandsLeftAlone: the set operations build their results in lists of their own,
// even from operands that are not canonical (unsorted, overlapping), and leave the operands as
// they were.
func TestPortsOperandsLeftAlone(t *testing.T) {
	a := Ports{{corev1.ProtocolUDP, 53, 53}, {corev1.ProtocolTCP, 9000, 9100}, {corev1.ProtocolTCP, 80, 8080}}
	b := Ports{{corev1.ProtocolTCP, 8000, 9050}, {corev1.ProtocolTCP, 443, 443}, {corev1.ProtocolSCTP, 1, 2}}
	wantA, wantB := slices.Clone(a), slices.Clone(b)
	for name, op := range map[string]func() Ports{
		"Union":     func() Ports { return a.Union(b) },
		"Intersect": func() Ports { return a.Intersect(b) },
		"Subtract":  func() Ports { return a.Subtract(b) },
		"canonical": a.canonical,
	} {
		got := op()
		if diff := cmp.Diff(wantA, a); diff != "" {
			t.Errorf("%s modified its receiver (-before +after):\n%s", name, diff)
		}
		if diff := cmp.Diff(wantB, b); diff != "" {
			t.Errorf("%s modified its argument (-before +after):\n%s", name, diff)
		}
		if len(got) > 0 {
			got[0].From = 4242 // the result is the caller's to change
			if a[0].From == 4242 || b[0].From == 4242 {
				t.Errorf("the result of %s shares its array with an operand", name)
			}
		}
	}
}
