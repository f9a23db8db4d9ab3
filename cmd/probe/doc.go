// Command probe makes one connection attempt and prints one line saying what happened, so that
// a connectivity check can tell an allowed flow (ok) from a dropped one (timeout) and from a
// port where nothing listens (refused):
//
//	probe tcp HOST:PORT [--timeout 3s] [-o text|json]
//	probe http URL      [--timeout 3s] [-o text|json]
//	probe dns NAME      [--timeout 3s] [-o text|json]   (resolves NAME; ok with its addresses)
//
// The exit code is 0 for ok, 1 refused, 2 timeout, 3 dns, 4 unreachable, 5 reset,
// 6 http-status (a response outside 2xx), 7 other errors, 64 for a usage error.
// It is a static binary: the city-service image carries it as /probe (run it with kubectl exec
// in the pod's network namespace), and the probe image runs it on its own.
package main
