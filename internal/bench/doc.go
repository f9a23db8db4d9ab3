// Package bench holds the pure parts of the benchmark (hack/bench): the result's JSON shape,
// medians over repeats, the printed table and its completeness check, and the counting of
// the API server's audit log and of controller-runtime's reconcile histogram.
package bench
