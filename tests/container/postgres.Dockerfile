# Stands in for postgres:16.6-bookworm (deploy/compose.cluster.yaml) in the
# container test, where Docker Hub is out of reach: Debian's PostgreSQL (15 in
# bookworm) on the test base image (base_image.py), behaving like the official
# image for what the compose file uses: postgres-entrypoint.sh creates the
# cluster in PGDATA on first start from POSTGRES_USER / POSTGRES_PASSWORD /
# POSTGRES_DB, the server listens on 5432 on every address with password
# (scram-sha-256) logins, pg_isready is on PATH. It runs as `postgres`
# throughout (the official image starts as root and drops to it).
# service_images.py builds it.
ARG BASE=telgate-test/python3:latest
FROM ${BASE}
# The user `postgres` made first with the official image's ids (999), so
# USER can be numeric. The package's own cluster (15/main) is not wanted: the
# entry point makes one in PGDATA. No service is started while installing
# (policy-rc.d).
# Unpinned on purpose (as base.Dockerfile): whatever bookworm ships today.
# hadolint ignore=DL3008
RUN groupadd --system --gid 999 postgres \
    && useradd --system --uid 999 --gid 999 --no-log-init --no-create-home \
        --home-dir /var/lib/postgresql --shell /bin/bash postgres \
    && printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d \
    && chmod 0755 /usr/sbin/policy-rc.d \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d \
    && (pg_dropcluster 15 main || true) \
    && install -d -o postgres -g postgres -m 2775 /var/run/postgresql \
    && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
VOLUME ["/var/lib/postgresql/data"]
USER 999:999
# A fast shutdown, as the official image's.
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
