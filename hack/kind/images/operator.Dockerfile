# The operator's image, built offline by hack/kind/images.sh (no base image to pull): the static
# manager binary (CGO_ENABLED=0) on scratch, the host's CA certificates, user 65532. /tmp is
# the pod's emptyDir (config/manager mounts one there for the metrics certificate).
# The root Dockerfile is the standard build for machines that can pull golang and distroless.
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
