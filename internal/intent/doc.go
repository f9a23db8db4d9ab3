// Package intent resolves what a PublicService declares (consumes, allowFrom, egressTo) into
// the flows its NetworkPolicy admits, applying bilateral consent between services and
// namespace consent on NetworkZones. It is pure: the caller gathers the objects.
package intent
