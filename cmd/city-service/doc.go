// Command city-service is the small HTTP server behind the sample city's images
// (smartcity/city-service:0.1.0): the portal, the identity service and the hospital check-in
// service all run it, configured by environment variables, so that a real cluster can show
// real traffic between them:
//
//	GET /healthz           always 200: liveness and readiness never depend on other services
//	GET /info (and /)      JSON: service name, hostname, version, consumed services
//	GET /call              calls every service in CONSUMES (GET <url>/info), reports each result;
//	                       200 when all answered, 502 otherwise
//	GET /call?target=T     calls one of them: T is its URL or its name (the URL's first host label)
//	GET /checkin           the hospital check-in flow: verifies the citizen with every consumed
//	                       service (the identity service), as /call does
//
// Environment: PORT (default 8080), SERVICE_NAME (default: the hostname), CONSUMES
// (comma-separated base URLs, e.g. http://vneid.city-identity.svc.cluster.local:8080),
// CALL_TIMEOUT (default 2s). It calls only the URLs in CONSUMES: it is never an open proxy.
package main
