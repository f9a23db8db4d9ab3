package format

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

func TestConnString(t *testing.T) {
	tcp := func(ps ...int32) netpol.Ports { return netpol.PortsOf(corev1.ProtocolTCP, ps...) }
	for _, tc := range []struct {
		ports netpol.Ports
		want  string
	}{
		{netpol.AllPorts(), "All Connections"},
		{nil, "No Connections"},
		{tcp(80), "TCP 80"},
		{tcp(80, 81, 82, 443), "TCP 80-82,443"},
		{tcp(53).Union(netpol.PortsOf(corev1.ProtocolUDP, 53)), "TCP 53,UDP 53"},
		{netpol.Ports{{Protocol: corev1.ProtocolSCTP, From: 1, To: 65535}, {Protocol: corev1.ProtocolTCP, From: 8000, To: 8100}}, "SCTP 1-65535,TCP 8000-8100"},
	} {
		if got := ConnString(tc.ports); got != tc.want {
			t.Errorf("ConnString(%s) = %q, want %q", tc.ports, got, tc.want)
		}
	}
}

func TestWriteConnlist(t *testing.T) {
	l := netpol.Connlist{
		Workloads: []netpol.Workload{{ID: "a/web[Deployment]", Namespace: "a"}, {ID: "b/db[StatefulSet]", Namespace: "b"}},
		Connections: []netpol.Connection{
			{Src: "0.0.0.0-255.255.255.255", Dst: "a/web[Deployment]", Ports: netpol.PortsOf(corev1.ProtocolTCP, 443)},
			{Src: "a/web[Deployment]", Dst: "b/db[StatefulSet]", Ports: netpol.AllPorts()},
		},
	}
	want := map[ConnlistFormat]string{
		ConnlistText: "0.0.0.0-255.255.255.255 => a/web[Deployment] : TCP 443\na/web[Deployment] => b/db[StatefulSet] : All Connections\n",
		ConnlistCSV:  "src,dst,conn\n0.0.0.0-255.255.255.255,a/web[Deployment],TCP 443\na/web[Deployment],b/db[StatefulSet],All Connections\n",
		ConnlistMarkdown: "| src | dst | conn |\n|-----|-----|------|\n| 0.0.0.0-255.255.255.255 | a/web[Deployment] | TCP 443 |\n" +
			"| a/web[Deployment] | b/db[StatefulSet] | All Connections |\n",
		ConnlistJSON: "[\n  {\n    \"src\": \"0.0.0.0-255.255.255.255\",\n    \"dst\": \"a/web[Deployment]\",\n    \"conn\": \"TCP 443\"\n  },\n" +
			"  {\n    \"src\": \"a/web[Deployment]\",\n    \"dst\": \"b/db[StatefulSet]\",\n    \"conn\": \"All Connections\"\n  }\n]\n",
		ConnlistDOT: `digraph {
	subgraph "cluster_a" {
		color="black"
		fontcolor="black"
		"a/web[Deployment]" [label="web[Deployment]" color="blue" fontcolor="blue"]
		label="a"
	}
	subgraph "cluster_b" {
		color="black"
		fontcolor="black"
		"b/db[StatefulSet]" [label="db[StatefulSet]" color="blue" fontcolor="blue"]
		label="b"
	}
	"0.0.0.0-255.255.255.255" [label="0.0.0.0-255.255.255.255" color="red2" fontcolor="red2"]
	"0.0.0.0-255.255.255.255" -> "a/web[Deployment]" [label="TCP 443" color="gold2" fontcolor="darkgreen" weight=0.5]
	"a/web[Deployment]" -> "b/db[StatefulSet]" [label="All Connections" color="gold2" fontcolor="darkgreen" weight=0.5]
}
`,
	}
	for _, f := range ConnlistFormats {
		var buf bytes.Buffer
		if err := WriteConnlist(&buf, l, f); err != nil {
			t.Fatalf("WriteConnlist(%s): %v", f, err)
		}
		if got := buf.String(); got != want[f] {
			t.Errorf("WriteConnlist(%s) =\n%s\nwant\n%s", f, got, want[f])
		}
	}
	if err := WriteConnlist(&bytes.Buffer{}, l, "yaml"); err == nil {
		t.Error("WriteConnlist(yaml) succeeded")
	}
}
