// Command bench measures the operator at a city's size against the API server's own speed
// (make bench). For each N it generates a city (internal/citygen), applies the children the
// operator would create directly (the floor), then runs the operator on the same city, each
// on a fresh local cluster, and prints a table and writes JSON (internal/bench).
//
//	go run ./hack/bench run -n 440,1700 -repeat 1 -out bin/bench/bench.json
//	go run ./hack/bench gen -n 440 -seed 1 -o city/      # only the city's manifests
//	go run ./hack/bench check bin/bench/bench.json       # the table is complete, the JSON valid
//
// It runs from the repository's root (make bench does that) and uses hack/cluster/cluster.sh
// for its clusters.
package main
