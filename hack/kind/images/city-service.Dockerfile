# smartcity/city-service, built offline by hack/kind/images.sh: the static city-service binary on
# scratch, as user 65532, serving on 8080. /probe is the connectivity probe (cmd/probe), so that
# a check can run in a service's own network namespace with `kubectl exec ... -- /probe`.
FROM scratch
COPY city-service /city-service
COPY probe /probe
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/city-service"]
