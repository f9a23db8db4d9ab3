// Package netcheck makes one connection attempt (TCP or HTTP) and classifies its outcome as ok,
// refused, timeout, dns, unreachable, reset, http-status or error. The probe command prints it;
// city-service reports its calls to the services it consumes with it.
package netcheck
