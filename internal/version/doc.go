// Package version says which build of the operator and the kubectl plugin is running: the
// version, commit and build date set at link time (-ldflags -X, by goreleaser and make build),
// or else what Go recorded in the binary's build info, and the Go version and platform.
package version
