package svg

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/audit/format"
)

// nodeTitles parses an SVG document (failing on anything that is not well-formed XML) and
// returns the titles of Graphviz's node groups (<g class="node"><title>ID</title>).
func nodeTitles(t *testing.T, doc []byte) map[string]bool {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	titles := map[string]bool{}
	inNode, inTitle, root := false, false, ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
			if el.Name.Local == "g" {
				for _, a := range el.Attr {
					if a.Name.Local == "class" && a.Value == "node" {
						inNode = true
					}
				}
			}
			inTitle = inNode && el.Name.Local == "title"
		case xml.EndElement:
			if el.Name.Local == "g" {
				inNode = false
			}
			inTitle = false
		case xml.CharData:
			if inTitle {
				titles[string(el)] = true
			}
		}
	}
	if root != "svg" {
		t.Fatalf("the document's root element is %q, want svg", root)
	}
	return titles
}

func TestReportSVG(t *testing.T) {
	for _, paths := range [][]string{
		{"../../../config/samples"},
		{"../../../config/samples", filepath.Join("..", "testdata", "topologies", "deny-all")},
		{"../../../config/samples", filepath.Join("..", "testdata", "topologies", "foreign-allow-all")},
	} {
		t.Run(filepath.Base(paths[len(paths)-1]), func(t *testing.T) {
			r, err := audit.AuditFiles(paths, false, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Report(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			titles := nodeTitles(t, doc)
			want := format.GraphNodes(r)
			if len(want) == 0 {
				t.Fatal("the graph has no node")
			}
			for _, id := range want {
				if !titles[id] {
					t.Errorf("the SVG has no node %q (nodes: %v)", id, titles)
				}
			}
			if len(titles) != len(want) {
				t.Errorf("the SVG has %d nodes, want %d", len(titles), len(want))
			}
		})
	}
}

func TestFromDOTRejectsGarbage(t *testing.T) {
	if _, err := FromDOT(context.Background(), []byte("digraph {")); err == nil {
		t.Error("FromDOT accepted a broken graph")
	}
}
