// Package svg draws an audit report's connectivity graph as SVG. It lays out the report's DOT
// graph with Graphviz compiled to WebAssembly (github.com/goccy/go-graphviz), so it needs no
// system Graphviz and no cgo. It is a package of its own so that the operator, which only
// needs reports, does not link the renderer.
package svg
