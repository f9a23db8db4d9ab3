package svg

import (
	"bytes"
	"context"
	"fmt"

	"github.com/goccy/go-graphviz"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/audit/format"
)

// Report draws a report's graph (format.DOT) as an SVG document.
func Report(ctx context.Context, r *audit.Report) ([]byte, error) {
	return FromDOT(ctx, format.DOT(r))
}

// FromDOT lays out a Graphviz DOT graph with dot and returns it as an SVG document.
func FromDOT(ctx context.Context, dot []byte) ([]byte, error) {
	g, err := graphviz.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to start Graphviz: %w", err)
	}
	defer func() { _ = g.Close() }()
	graph, err := graphviz.ParseBytes(dot)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the DOT graph: %w", err)
	}
	defer func() { _ = graph.Close() }()
	var buf bytes.Buffer
	if err := g.Render(ctx, graph, graphviz.SVG, &buf); err != nil {
		return nil, fmt.Errorf("failed to draw the graph: %w", err)
	}
	return buf.Bytes(), nil
}
