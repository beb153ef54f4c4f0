# TypeScript client (clients/typescript): ts-proto stubs generated into
# src/gen (committed), built with tsc into dist/ (the package) and build/
# (its example and node test). Node 20 + npm come with the machine (nodesource
# nodejs 20; Debian's nodejs 18 / npm packages would replace it), so no
# CLIENT_DEBS here; the npm packages are pinned in package-lock.json.
TS_DIR := clients/typescript
TS_GEN := $(TS_DIR)/src/gen
TS_BIN := $(TS_DIR)/node_modules/.bin
# forceLong=bigint: uint64 sequences and cursors are exact bigints, not lossy
# numbers. oneof=unions-value: a oneof is a discriminated union ($case/value)
# that TypeScript narrows. generic-definitions: the method table (with message
# types) src/client.ts builds its grpc-js promise clients from. Not
# outputServices=grpc-js: its CallControlServiceClient does not compile, the
# GetChannel RPC becomes getChannel(), which clashes with grpc.Client.getChannel().
# useExactTypes=false: fromPartial without the Exact<> generic halves tsc's
# check time (object literals are still checked for unknown fields).
TS_PROTO_OPTS := outputServices=generic-definitions,env=node,esModuleInterop=true,useDate=true,forceLong=bigint,oneof=unions-value,exportCommonSymbols=false,outputIndex=true,useExactTypes=false
# google.rpc.Status/ErrorInfo for the error details the gateway sends.
TS_EXTRA_PROTOS := $(GOOGLEAPIS)/google/rpc/status.proto $(GOOGLEAPIS)/google/rpc/error_details.proto

PROTO_TARGETS += proto-typescript
GENERATED_DIRS += $(TS_GEN)
CLIENT_TARGETS += build-typescript
# Node.js with npm: the machine's own when it has one (Node 20 here), else
# Debian's (18.20, which builds and passes the tests too).
CLIENT_DEBS += $(if $(shell command -v npm 2>/dev/null),,nodejs npm)

.PHONY: proto-typescript build-typescript npm-typescript

npm-typescript: $(TS_DIR)/node_modules/.telgate-stamp

# `npm ci` only when node_modules is missing or older than the lockfile.
$(TS_DIR)/node_modules/.telgate-stamp: $(TS_DIR)/package-lock.json $(TS_DIR)/package.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 18 or later with npm (make test-deps)"; exit 1; }
	cd $(TS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

proto-typescript: venv googleapis-protos npm-typescript
	rm -rf $(TS_GEN)
	mkdir -p $(TS_GEN)
	$(PY) -m grpc_tools.protoc -I proto -I $(GOOGLEAPIS) \
	  --plugin=protoc-gen-ts_proto=$(TS_BIN)/protoc-gen-ts_proto \
	  --ts_proto_out=$(TS_GEN) --ts_proto_opt=$(TS_PROTO_OPTS) \
	  $(PROTOS) $(TS_EXTRA_PROTOS)

build-typescript: npm-typescript
	cd $(TS_DIR) && node_modules/.bin/tsc -p tsconfig.json && node_modules/.bin/tsc -p tsconfig.test.json
