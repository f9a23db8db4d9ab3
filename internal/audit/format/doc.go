// Package format writes the audit's results for people and tools, one file per format: the
// audit report as a table (text/tabwriter), JSON, Markdown, Mermaid and DOT, and the
// connectivity list in the shapes of netpol-analyzer's connlist (txt, json, csv, md, dot).
package format
