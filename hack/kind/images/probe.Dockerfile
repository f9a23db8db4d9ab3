# smartcity/probe, built offline by hack/kind/images.sh: the static connectivity probe
# (cmd/probe) on scratch, as user 65532. It runs as an ephemeral container in a pod
# (kubectl debug) or as a client container on a Docker network (a zone outside the cluster).
FROM scratch
COPY probe /probe
USER 65532:65532
ENTRYPOINT ["/probe"]
