// Package render turns a PublicService, its effective spec and its resolved flows into the
// desired state of its children, as typed server-side-apply configurations: one file per kind.
// Every function is pure: no client, no scheme, the input is never modified, and the same
// input always renders the same output (a pod template changes only when the spec does).
package render
