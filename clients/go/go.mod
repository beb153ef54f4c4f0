module github.com/telgate/telgate/clients/go

go 1.19

require (
	google.golang.org/genproto v0.0.0-20200526211855-cb27e3aa2013
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)

require (
	github.com/golang/protobuf v1.5.2 // indirect
	golang.org/x/net v0.3.0 // indirect
	golang.org/x/sys v0.5.0 // indirect
	golang.org/x/text v0.7.0 // indirect
)

// Debian's Go packages (golang-google-grpc-dev, golang-google-protobuf-dev,
// golang-github-golang-protobuf-1-5-dev, golang-google-genproto-dev, ...):
// the build is offline (GOPROXY=off) against /usr/share/gocode. These
// replace directives apply only when this module is the main module; a
// project that requires it resolves the same modules itself (see README.md).
replace (
	github.com/golang/protobuf => /usr/share/gocode/src/github.com/golang/protobuf
	github.com/google/go-cmp => /usr/share/gocode/src/github.com/google/go-cmp
	golang.org/x/net => /usr/share/gocode/src/golang.org/x/net
	golang.org/x/oauth2 => /usr/share/gocode/src/golang.org/x/oauth2
	golang.org/x/sys => /usr/share/gocode/src/golang.org/x/sys
	golang.org/x/text => /usr/share/gocode/src/golang.org/x/text
	google.golang.org/genproto => /usr/share/gocode/src/google.golang.org/genproto
	google.golang.org/grpc => /usr/share/gocode/src/google.golang.org/grpc
	google.golang.org/protobuf => /usr/share/gocode/src/google.golang.org/protobuf
)

// Modules named in Debian's go.mod files but not packaged (xds, lint tools,
// ...): empty stand-ins, never imported, so the module graph resolves offline.
replace (
	cloud.google.com/go/compute/metadata => ./_stubs/cloud.google.com/go/compute/metadata
	github.com/cncf/udpa/go => ./_stubs/github.com/cncf/udpa/go
	github.com/envoyproxy/go-control-plane => ./_stubs/github.com/envoyproxy/go-control-plane
	github.com/golang/glog => ./_stubs/github.com/golang/glog
	github.com/google/uuid => ./_stubs/github.com/google/uuid
	golang.org/x/lint => ./_stubs/golang.org/x/lint
	golang.org/x/mod => ./_stubs/golang.org/x/mod
	golang.org/x/term => ./_stubs/golang.org/x/term
	golang.org/x/tools => ./_stubs/golang.org/x/tools
	google.golang.org/appengine => ./_stubs/google.golang.org/appengine
	honnef.co/go/tools => ./_stubs/honnef.co/go/tools
)
