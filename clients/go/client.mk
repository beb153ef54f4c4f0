# The Go client (clients/go): stubs generated with Debian's protoc-gen-go and
# protoc-gen-go-grpc, built offline (no module proxy) against Debian's Go
# packages through go.mod's replace directives. Included by the Makefile.
GO_CLIENT_DIR := clients/go
GO_CLIENT_MODULE := github.com/telgate/telgate/clients/go
# CGO_ENABLED=0: a pure-Go build (the net package's own DNS resolver), so no C
# compiler is needed (golang-go only recommends gcc).
# The caches live in the tree (git-ignored), so root in CI and a user in a
# fresh clone both have somewhere writable; GOPATH holds no sources here.
GO_CLIENT_ENV := GOPROXY=off GOSUMDB=off GOFLAGS=-mod=readonly GO111MODULE=on CGO_ENABLED=0 \
  GOCACHE=$(CURDIR)/$(GO_CLIENT_DIR)/.cache/go-build GOPATH=$(CURDIR)/$(GO_CLIENT_DIR)/.cache/gopath

PROTO_TARGETS += proto-go
GENERATED_DIRS += $(GO_CLIENT_DIR)/telgate/v1
CLIENT_TARGETS += build-go
CLIENT_DEBS += golang-go protoc-gen-go protoc-gen-go-grpc golang-google-grpc-dev \
  golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev golang-google-genproto-dev \
  protobuf-compiler

.PHONY: proto-go build-go

# google/api, google/type and google/rpc types are not generated: their
# go_package points at Debian's genproto (google.golang.org/genproto/googleapis/...).
proto-go: googleapis-protos
	rm -f $(GO_CLIENT_DIR)/telgate/v1/*.pb.go
	protoc -I proto -I $(GOOGLEAPIS) \
	  --go_out=$(GO_CLIENT_DIR) --go_opt=module=$(GO_CLIENT_MODULE) \
	  --go-grpc_out=$(GO_CLIENT_DIR) --go-grpc_opt=module=$(GO_CLIENT_MODULE) \
	  $(PROTOS)

build-go:
	cd $(GO_CLIENT_DIR) && $(GO_CLIENT_ENV) go build ./... && $(GO_CLIENT_ENV) go vet ./...
	@bad=$$(gofmt -l $(GO_CLIENT_DIR)/telgate $(GO_CLIENT_DIR)/examples); \
	if [ -n "$$bad" ]; then echo "gofmt: not formatted: $$bad"; exit 1; fi
