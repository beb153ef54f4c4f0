# telgate: the gateway as a container (README "Container").
#   docker build -t telgate .
#   docker run -v telgate-data:/var/lib/telgate -v ./telgate.toml:/etc/telgate/telgate.toml:ro \
#     -e TELGATE_BACKENDS__PBX__SECRET=... -p 50051:50051 telgate
# BASE: any Debian-like image with python3 (3.11 or later) and its venv module.
# Both stages use it, so the virtual environment's interpreter is the same.
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY docker/constraints.txt docker/constraints.txt
RUN python3 -m venv /opt/telgate \
    && /opt/telgate/bin/python -m pip install --no-cache-dir pip==25.3 setuptools==84.2.1
COPY clients/python clients/python
COPY server server
# Pinned: the pyproject files pin the direct dependencies, the constraints the rest.
# pip and setuptools are build tools only: the image runs without them.
RUN /opt/telgate/bin/python -m pip install --no-cache-dir --no-build-isolation \
        --constraint docker/constraints.txt ./clients/python ./server \
    && /opt/telgate/bin/python -m pip uninstall --yes pip setuptools

FROM ${BASE}
LABEL org.opencontainers.image.title="telgate" \
      org.opencontainers.image.description="gRPC telephony gateway (Asterisk AMI, Simotel, SippySoft)"
# A numeric user (10001) that owns nothing but its data directory, so a
# Kubernetes `runAsNonRoot` check can verify it without reading /etc/passwd.
RUN groupadd --gid 10001 telgate \
    && useradd --uid 10001 --gid 10001 --no-log-init --no-create-home \
        --home-dir /var/lib/telgate --shell /usr/sbin/nologin telgate \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/telgate
COPY --from=build /opt/telgate /opt/telgate
COPY docker/telgate.toml /etc/telgate/telgate.toml
ENV PATH=/opt/telgate/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# The CDR store (cdr.data_dir "data" is relative to it) and anything else kept.
WORKDIR /var/lib/telgate
VOLUME ["/var/lib/telgate"]
USER 10001:10001
# gRPC, and Prometheus metrics (docker/telgate.toml [metrics]).
EXPOSE 50051 9464
# grpc.health.v1 Check of the whole server (not of a backend: a PBX that is
# down is not a reason to restart the gateway), at the address the settings
# give; `telgate health --help` for a backend or a TLS port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["telgate", "health", "--config", "/etc/telgate/telgate.toml"]
# SIGTERM (docker stop) stops the gateway cleanly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["telgate"]
CMD ["serve", "--config", "/etc/telgate/telgate.toml"]
