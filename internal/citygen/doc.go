// Package citygen generates a synthetic city of a given size, deterministically from a seed:
// namespaces, NetworkZones, PublicServices with a realistic mix of profiles and a web of
// consumes/allowFrom (with a share of one-sided consent), and a foreign allow-all and a
// deny-all NetworkPolicy. It is the input of the benchmark (hack/bench) and refuses a shape
// that the API's current limits cannot hold, saying which limit and why.
package citygen
