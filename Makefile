# telgate: one Makefile for setup, code generation, checks, tests, demo and benchmarks.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PROTOS := $(wildcard proto/telgate/v1/*.proto)
PY_OUT := clients/python/src
DEMO_AMI_PORT ?= 5038
DEMO_GRPC ?= 127.0.0.1:50051

.PHONY: help venv test-deps proto proto-python googleapis-protos proto-check breaking proto-freeze lint test test-docker image check demo sim serve bench simdiff clean

help:
	@echo "make demo   - set up, start the AMI simulator and the gateway on $(DEMO_GRPC)"
	@echo "make test   - set up and run every test"
	@echo "make check  - proto drift, buf lint + breaking (frozen v1), ruff, mypy, hadolint"
	@echo "make test-docker - only the container test (a private dockerd builds and runs the image)"
	@echo "make proto  - regenerate all generated code from proto/"
	@echo "make bench  - benchmarks (figures printed)"
	@echo "make simdiff - the simulator against the real Asterisk lab, scenario by scenario (~10 min)"

venv: $(VENV)/.stamp

# Debian packages the tests need (MariaDB for the CDR backfill tests; docker.io
# and debootstrap for the container test, tests/container; nats-server for the
# JetStream event hub tests, tests/events/test_jetstream*.py); installs only what
# is missing, and needs root (CI runs as root) when anything is.
TEST_DEBS = mariadb-server postgresql docker.io docker-compose debootstrap nats-server $(CLIENT_DEBS)
test-deps:
	@missing=$$(for p in $(TEST_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "test-deps: $(TEST_DEBS) installed"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "test-deps: missing $$missing; run 'make test-deps' as root"; exit 1; fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

$(VENV)/.stamp: server/pyproject.toml clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -e clients/python -e 'server[dev,bench]'
	touch $@

# The googleapis protos telgate.v1 imports, copied from the pinned
# googleapis-common-protos wheel (whose Python modules the Python client uses).
GOOGLEAPIS := third_party/googleapis
GOOGLEAPIS_PROTOS := google/api/field_behavior.proto google/type/money.proto \
  google/rpc/status.proto google/rpc/error_details.proto google/rpc/code.proto

# Each client language adds its generator, build and toolchain here:
# clients/<lang>/client.mk appends to PROTO_TARGETS (generators),
# GENERATED_DIRS (their committed output), CLIENT_TARGETS (builds `make test`
# needs) and CLIENT_DEBS (Debian packages of its toolchain).
PROTO_TARGETS :=
GENERATED_DIRS := $(PY_OUT)/telgate/v1
CLIENT_TARGETS :=
CLIENT_DEBS :=
include $(sort $(wildcard clients/*/client.mk))

# Generated code: never edited by hand, reproduced exactly by this target.
proto: proto-python $(PROTO_TARGETS)

googleapis-protos: venv
	@sp=$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	for f in $(GOOGLEAPIS_PROTOS); do mkdir -p $(GOOGLEAPIS)/$$(dirname $$f); cp $$sp/$$f $(GOOGLEAPIS)/$$f; done

proto-python: venv googleapis-protos
	rm -f $(PY_OUT)/telgate/v1/*_pb2*.py $(PY_OUT)/telgate/v1/*_pb2*.pyi
	$(PY) -m grpc_tools.protoc -I proto -I $(GOOGLEAPIS) \
	  --python_out=$(PY_OUT) --grpc_python_out=$(PY_OUT) \
	  --plugin=protoc-gen-mypy=$(BIN)/protoc-gen-mypy --mypy_out=quiet:$(PY_OUT) \
	  --plugin=protoc-gen-mypy_grpc=$(BIN)/protoc-gen-mypy_grpc --mypy_grpc_out=quiet:$(PY_OUT) \
	  $(PROTOS)
	touch $(PY_OUT)/telgate/v1/__init__.py $(PY_OUT)/telgate/v1/py.typed

# Fails when the committed generated code (every language, and the copied
# googleapis protos) differs from a fresh generation.
CHECKED_DIRS = $(GOOGLEAPIS) $(GENERATED_DIRS)
proto-check: venv
	@tmp=$$(mktemp -d); for d in $(CHECKED_DIRS); do mkdir -p $$tmp/before/$$d; cp -r $$d/. $$tmp/before/$$d/ 2>/dev/null || true; done; \
	$(MAKE) --no-print-directory proto >/dev/null; \
	bad=0; for d in $(CHECKED_DIRS); do diff -r $$tmp/before/$$d $$d >/dev/null || { echo "$$d differs from 'make proto':"; diff -r $$tmp/before/$$d $$d | head -20; bad=1; }; done; \
	if [ -n "$$(git status --porcelain -- $(CHECKED_DIRS))" ]; then echo "generated code not committed as 'make proto' makes it:"; git status --short -- $(CHECKED_DIRS) | head -20; bad=1; fi; \
	rm -rf $$tmp; if [ $$bad = 1 ]; then exit 1; fi; echo "proto: generated code is up to date"

lint: venv
	$(BIN)/buf lint
	$(BIN)/ruff check server tests clients/python/examples clients/python/src/telgate/client bench
	$(BIN)/ruff format --check server tests clients/python/examples clients/python/src/telgate/client bench
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile tests/container/base.Dockerfile \
	  tests/container/nats.Dockerfile tests/container/postgres.Dockerfile

# v1 is frozen: a change to proto/ that would break a client built against
# it (buf's FILE rules: a field renumbered, retyped or renamed, a message or
# RPC gone...) fails `make check`. The image holds v1 as frozen; only cutting a
# new frozen version runs `make proto-freeze`.
FROZEN_V1 := proto/telgate-v1.frozen.binpb
breaking: venv
	$(BIN)/buf breaking proto --against $(FROZEN_V1)
	@echo "proto: no breaking change against the frozen v1"

proto-freeze: venv
	$(BIN)/buf build proto --exclude-source-info -o $(FROZEN_V1)

check: proto-check lint breaking

test: venv test-deps $(CLIENT_TARGETS)
	$(BIN)/pytest -q

# Only the container test: a private dockerd builds and runs the image (root).
test-docker: venv test-deps
	$(BIN)/pytest -q -m docker -s

# The image, with the machine's own docker (BASE=... for another base image).
image:
	docker build $(if $(BASE),--build-arg BASE=$(BASE)) -t telgate .

sim: venv
	$(BIN)/telgate-sim --port $(DEMO_AMI_PORT) --traffic

serve: venv
	$(BIN)/telgate serve --config examples/demo.toml

demo: venv
	@bash scripts/demo.sh

bench: venv
	$(PY) bench/bench_codec.py
	$(PY) bench/bench_connection.py
	$(PY) bench/bench_events.py
	$(PY) bench/bench_hubs.py
	$(PY) bench/bench_gateway.py
	$(PY) bench/bench_grpc_writes.py
	$(PY) bench/bench_host.py
	$(PY) bench/bench_cdr.py
	$(PY) bench/bench_simotel_webhooks.py
	$(PY) bench/bench_sippy.py
	$(PY) bench/bench_routing.py
	$(PY) bench/bench_routing_components.py
	$(PY) bench/bench_routing_agi.py
	$(PY) bench/bench_failover.py

# Every simdiff scenario against a fresh real lab and the simulator; differences and the
# share of messages identical in shape. SIMDIFF_ARGS e.g. "-k xfer --summary-only".
simdiff: venv
	$(PY) -m telgate_server.simulator.compare $(SIMDIFF_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
