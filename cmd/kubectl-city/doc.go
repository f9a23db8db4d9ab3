// Command kubectl-city is the smartcity-operator's kubectl plugin (kubectl city ...): it audits
// the effective network connectivity of PublicServices against their declared intent, live
// from a cluster or offline from manifests, explains single connections, and previews what
// the operator would create.
package main
