// Package controllers wires the PublicService and NetworkZone reconcilers: they gather the
// objects a service depends on, resolve its flows (internal/intent), render its children
// (internal/render), apply them with server-side apply and report status.
package controllers
