# Stands in for nats:2.10.24-alpine (deploy/compose.cluster.yaml) in the
# container test, where Docker Hub is out of reach: Debian's nats-server on the
# test base image (base_image.py), used the way the official image is:
# `nats-server` is the entry point (compose gives `-c /etc/nats/nats.conf`), it
# runs as root, /data holds JetStream's store, and wget is there for the
# compose file's healthcheck (busybox's in the official image).
# service_images.py builds it.
ARG BASE=telgate-test/python3:latest
FROM ${BASE}
# Unpinned on purpose (as base.Dockerfile): whatever bookworm ships today.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        nats-server wget \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data /etc/nats
# Client, cluster routes, monitoring (as the official image).
EXPOSE 4222 6222 8222
ENTRYPOINT ["nats-server"]
CMD ["--config", "/etc/nats/nats-server.conf"]
