# The Java client (clients/java): generated with Debian's protoc 3.21.12 (its
# output matches the libprotobuf-java 3.21.12 runtime) and grpc_java_plugin
# 1.41.3, compiled with javac against Debian's jars, packed with jar.
# Included by the top-level Makefile; paths are relative to the repo root.
JAVA_DIR := clients/java
JAVA_GEN := $(JAVA_DIR)/src/generated/java
JAVA_BUILD := $(JAVA_DIR)/build
JAVA_VERSION := 0.1.0
# Two jars: the client (io.github.telgate.*), and the googleapis messages it
# uses (com.google.*), which a Maven build takes from proto-google-common-protos.
JAVA_JAR := $(JAVA_BUILD)/telgate-client-$(JAVA_VERSION).jar
JAVA_GOOGLE_JAR := $(JAVA_BUILD)/telgate-googleapis-$(JAVA_VERSION).jar
# TLS on Debian: its netty-handler has no JDK ALPN ("JDK provider does not
# support ALPN protocol"), so grpc-netty needs OpenSSL through netty-tcnative;
# Debian ships the native library as libnetty-tcnative.so, a name netty never
# loads (and a renamed symlink fails tcnative's own path check). This jar holds
# a copy under the name netty looks for in a jar (extracted at run time).
JAVA_TCNATIVE_JAR := $(JAVA_BUILD)/netty-tcnative-debian-native.jar
JAVA_JARS := $(JAVA_JAR):$(JAVA_GOOGLE_JAR):$(JAVA_TCNATIVE_JAR)
# The googleapis messages telgate.v1 uses, generated too: Debian's
# libgoogle-common-protos-java (1.16) has no com.google.rpc.ErrorInfo.
JAVA_GOOGLEAPIS := $(addprefix $(GOOGLEAPIS)/,$(GOOGLEAPIS_PROTOS))

# Debian's jars (/usr/share/java) a client needs at run time; grpc-java 1.41's
# gencode also needs javax.annotation.Generated (geronimo) to compile.
JAVA_LIB := /usr/share/java
JAVA_RUNTIME_JARS := grpc-api grpc-core grpc-context grpc-stub grpc-protobuf grpc-protobuf-lite \
  grpc-netty protobuf guava netty-common netty-buffer netty-transport netty-codec \
  netty-codec-http netty-codec-http2 netty-handler netty-resolver perfmark-api netty-tcnative
JAVA_TEST_JARS := junit-jupiter-api apiguardian-api opentest4j
java_cp = $(subst $(java_space),:,$(addprefix $(JAVA_LIB)/,$(addsuffix .jar,$(1))))
java_empty :=
java_space := $(java_empty) $(java_empty)
JAVA_CP := $(call java_cp,$(JAVA_RUNTIME_JARS))
JAVA_COMPILE_CP := $(JAVA_CP):$(JAVA_LIB)/geronimo-annotation-1.3-spec.jar
# C1 only and the serial GC: half the CPU time of a default javac or JVM on
# these short runs (javac of the generated code: 10 s of CPU instead of 21 s).
JAVA_JVM_FLAGS := -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
JAVAC := javac --release 11 -encoding UTF-8 -Xlint:-options $(addprefix -J,$(JAVA_JVM_FLAGS))

PROTO_TARGETS += proto-java
GENERATED_DIRS += $(JAVA_GEN)
CLIENT_TARGETS += build-java
CLIENT_DEBS += openjdk-17-jdk-headless protobuf-compiler protobuf-compiler-grpc-java-plugin \
  libgrpc-java libprotobuf-java libnetty-java libperfmark-java libguava-java \
  libgeronimo-annotation-1.3-spec-java junit5 libnetty-tcnative-java libnetty-tcnative-jni

.PHONY: proto-java build-java test-java example-java

proto-java: googleapis-protos
	rm -rf $(JAVA_GEN)
	mkdir -p $(JAVA_GEN)
	/usr/bin/protoc -I proto -I $(GOOGLEAPIS) --java_out=$(JAVA_GEN) \
	  --plugin=protoc-gen-grpc-java=/usr/bin/grpc_java_plugin --grpc-java_out=$(JAVA_GEN) \
	  $(PROTOS) $(JAVA_GOOGLEAPIS)

JAVA_MAIN_SOURCES = $(shell find $(JAVA_GEN) $(JAVA_DIR)/src/main/java -name '*.java' 2>/dev/null)
JAVA_TEST_SOURCES = $(shell find $(JAVA_DIR)/src/test/java $(JAVA_DIR)/examples -name '*.java' 2>/dev/null)

# The library jar (generated + hand-written classes), then the example and
# the JUnit test compiled against it.
build-java: $(JAVA_JAR) $(JAVA_TCNATIVE_JAR) $(JAVA_BUILD)/test/.stamp

# (Found when the recipe runs: `make test` installs the package first.)
$(JAVA_TCNATIVE_JAR): $(JAVA_DIR)/client.mk
	@so=$$(ls /usr/lib/*/jni/libnetty-tcnative.so 2>/dev/null | head -n 1); \
	if [ -z "$$so" ]; then echo "no libnetty-tcnative.so: install libnetty-tcnative-jni (make test-deps)"; exit 1; fi; \
	rm -rf $(JAVA_BUILD)/tcnative && mkdir -p $(JAVA_BUILD)/tcnative/META-INF/native && \
	cp "$$so" $(JAVA_BUILD)/tcnative/META-INF/native/libnetty_tcnative.so
	jar --create --file $@ -C $(JAVA_BUILD)/tcnative .

$(JAVA_JAR): $(JAVA_MAIN_SOURCES) $(JAVA_DIR)/client.mk
	rm -rf $(JAVA_BUILD)/classes && mkdir -p $(JAVA_BUILD)/classes
	@echo "javac: $(words $(JAVA_MAIN_SOURCES)) sources -> $(JAVA_BUILD)/classes"
	@$(JAVAC) -d $(JAVA_BUILD)/classes -cp "$(JAVA_COMPILE_CP)" $(JAVA_MAIN_SOURCES)
	jar --create --file $@ -C $(JAVA_BUILD)/classes io
	jar --create --file $(JAVA_GOOGLE_JAR) -C $(JAVA_BUILD)/classes com

$(JAVA_BUILD)/test/.stamp: $(JAVA_JAR) $(JAVA_TEST_SOURCES)
	rm -rf $(JAVA_BUILD)/test && mkdir -p $(JAVA_BUILD)/test
	@echo "javac: $(words $(JAVA_TEST_SOURCES)) test and example sources -> $(JAVA_BUILD)/test"
	@$(JAVAC) -d $(JAVA_BUILD)/test -cp "$(JAVA_JARS):$(JAVA_CP):$(call java_cp,$(JAVA_TEST_JARS))" \
	  $(JAVA_TEST_SOURCES)
	touch $@

# The JUnit test against a gateway named by TELGATE_TARGET / TELGATE_TOKEN
# (tests/clients/test_java_client.py runs it against a live one, with
# JAVA_TEST_ARGS=--reports-dir=<dir> for the XML report it reads).
JAVA_TEST_ARGS ?=
test-java: build-java
	java $(JAVA_JVM_FLAGS) -jar $(JAVA_LIB)/junit-platform-console-standalone.jar --disable-banner \
	  --fail-if-no-tests --details=tree $(JAVA_TEST_ARGS) \
	  -cp "$(JAVA_BUILD)/test:$(JAVA_JARS):$(JAVA_CP)" --select-package io.github.telgate.client

example-java: build-java
	java $(JAVA_JVM_FLAGS) -cp "$(JAVA_BUILD)/test:$(JAVA_JARS):$(JAVA_CP)" io.github.telgate.examples.Quickstart
