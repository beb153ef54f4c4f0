# The test base image: a debootstrapped Debian bookworm (minbase, `docker import`ed
# as BASE) with python3 and its venv module, standing in for python:3.11-slim-bookworm
# where Docker Hub is out of reach (tests/container/base_image.py builds it).
# The host's extra CA certificates go in here, never in the project's Dockerfile:
# pip behind an intercepting proxy needs them.
ARG BASE=telgate-test/bookworm-minbase:raw
FROM ${BASE}
COPY certificates/ /usr/local/share/ca-certificates/
# Unpinned on purpose: whatever bookworm (with its point releases) ships today;
# a pinned version would vanish from the mirror at the next point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates python3 python3-venv \
    && update-ca-certificates \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
