package io.github.telgate.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * The telephone systems this gateway is linked to. Every kind of backend
 * answers both RPCs.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: telgate/v1/backends.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class BackendServiceGrpc {

  private BackendServiceGrpc() {}

  public static final String SERVICE_NAME = "telgate.v1.BackendService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.ListBackendsRequest,
      io.github.telgate.v1.ListBackendsResponse> getListBackendsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListBackends",
      requestType = io.github.telgate.v1.ListBackendsRequest.class,
      responseType = io.github.telgate.v1.ListBackendsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.ListBackendsRequest,
      io.github.telgate.v1.ListBackendsResponse> getListBackendsMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.ListBackendsRequest, io.github.telgate.v1.ListBackendsResponse> getListBackendsMethod;
    if ((getListBackendsMethod = BackendServiceGrpc.getListBackendsMethod) == null) {
      synchronized (BackendServiceGrpc.class) {
        if ((getListBackendsMethod = BackendServiceGrpc.getListBackendsMethod) == null) {
          BackendServiceGrpc.getListBackendsMethod = getListBackendsMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.ListBackendsRequest, io.github.telgate.v1.ListBackendsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListBackends"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ListBackendsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ListBackendsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BackendServiceMethodDescriptorSupplier("ListBackends"))
              .build();
        }
      }
    }
    return getListBackendsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.CheckBackendRequest,
      io.github.telgate.v1.CheckBackendResponse> getCheckBackendMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CheckBackend",
      requestType = io.github.telgate.v1.CheckBackendRequest.class,
      responseType = io.github.telgate.v1.CheckBackendResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.CheckBackendRequest,
      io.github.telgate.v1.CheckBackendResponse> getCheckBackendMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.CheckBackendRequest, io.github.telgate.v1.CheckBackendResponse> getCheckBackendMethod;
    if ((getCheckBackendMethod = BackendServiceGrpc.getCheckBackendMethod) == null) {
      synchronized (BackendServiceGrpc.class) {
        if ((getCheckBackendMethod = BackendServiceGrpc.getCheckBackendMethod) == null) {
          BackendServiceGrpc.getCheckBackendMethod = getCheckBackendMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.CheckBackendRequest, io.github.telgate.v1.CheckBackendResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CheckBackend"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.CheckBackendRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.CheckBackendResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BackendServiceMethodDescriptorSupplier("CheckBackend"))
              .build();
        }
      }
    }
    return getCheckBackendMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static BackendServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<BackendServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<BackendServiceStub>() {
        @java.lang.Override
        public BackendServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new BackendServiceStub(channel, callOptions);
        }
      };
    return BackendServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static BackendServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<BackendServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<BackendServiceBlockingStub>() {
        @java.lang.Override
        public BackendServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new BackendServiceBlockingStub(channel, callOptions);
        }
      };
    return BackendServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static BackendServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<BackendServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<BackendServiceFutureStub>() {
        @java.lang.Override
        public BackendServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new BackendServiceFutureStub(channel, callOptions);
        }
      };
    return BackendServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * The telephone systems this gateway is linked to. Every kind of backend
   * answers both RPCs.
   * </pre>
   */
  public static abstract class BackendServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Lists every configured backend with its link state and capabilities
     * (from this instance's view; in a cluster, the owner's last report).
     * </pre>
     */
    public void listBackends(io.github.telgate.v1.ListBackendsRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ListBackendsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListBackendsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Tests the backend's link now and says what failed (Asterisk: `link` and
     * an AMI `ping`; Simotel: `ping`; Sippy: `xmlrpc`, `cdr_poller`; in a
     * cluster, on an instance that does not run the link: `owner`). Failed
     * steps are reported in the answer, not as an error status; an unknown
     * backend is NOT_FOUND (ERROR_REASON_BACKEND_NOT_FOUND).
     * </pre>
     */
    public void checkBackend(io.github.telgate.v1.CheckBackendRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.CheckBackendResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCheckBackendMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getListBackendsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.ListBackendsRequest,
                io.github.telgate.v1.ListBackendsResponse>(
                  this, METHODID_LIST_BACKENDS)))
          .addMethod(
            getCheckBackendMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.CheckBackendRequest,
                io.github.telgate.v1.CheckBackendResponse>(
                  this, METHODID_CHECK_BACKEND)))
          .build();
    }
  }

  /**
   * <pre>
   * The telephone systems this gateway is linked to. Every kind of backend
   * answers both RPCs.
   * </pre>
   */
  public static final class BackendServiceStub extends io.grpc.stub.AbstractAsyncStub<BackendServiceStub> {
    private BackendServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected BackendServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new BackendServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Lists every configured backend with its link state and capabilities
     * (from this instance's view; in a cluster, the owner's last report).
     * </pre>
     */
    public void listBackends(io.github.telgate.v1.ListBackendsRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ListBackendsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListBackendsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Tests the backend's link now and says what failed (Asterisk: `link` and
     * an AMI `ping`; Simotel: `ping`; Sippy: `xmlrpc`, `cdr_poller`; in a
     * cluster, on an instance that does not run the link: `owner`). Failed
     * steps are reported in the answer, not as an error status; an unknown
     * backend is NOT_FOUND (ERROR_REASON_BACKEND_NOT_FOUND).
     * </pre>
     */
    public void checkBackend(io.github.telgate.v1.CheckBackendRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.CheckBackendResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCheckBackendMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * The telephone systems this gateway is linked to. Every kind of backend
   * answers both RPCs.
   * </pre>
   */
  public static final class BackendServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<BackendServiceBlockingStub> {
    private BackendServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected BackendServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new BackendServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Lists every configured backend with its link state and capabilities
     * (from this instance's view; in a cluster, the owner's last report).
     * </pre>
     */
    public io.github.telgate.v1.ListBackendsResponse listBackends(io.github.telgate.v1.ListBackendsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListBackendsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Tests the backend's link now and says what failed (Asterisk: `link` and
     * an AMI `ping`; Simotel: `ping`; Sippy: `xmlrpc`, `cdr_poller`; in a
     * cluster, on an instance that does not run the link: `owner`). Failed
     * steps are reported in the answer, not as an error status; an unknown
     * backend is NOT_FOUND (ERROR_REASON_BACKEND_NOT_FOUND).
     * </pre>
     */
    public io.github.telgate.v1.CheckBackendResponse checkBackend(io.github.telgate.v1.CheckBackendRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCheckBackendMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * The telephone systems this gateway is linked to. Every kind of backend
   * answers both RPCs.
   * </pre>
   */
  public static final class BackendServiceFutureStub extends io.grpc.stub.AbstractFutureStub<BackendServiceFutureStub> {
    private BackendServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected BackendServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new BackendServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Lists every configured backend with its link state and capabilities
     * (from this instance's view; in a cluster, the owner's last report).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.ListBackendsResponse> listBackends(
        io.github.telgate.v1.ListBackendsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListBackendsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Tests the backend's link now and says what failed (Asterisk: `link` and
     * an AMI `ping`; Simotel: `ping`; Sippy: `xmlrpc`, `cdr_poller`; in a
     * cluster, on an instance that does not run the link: `owner`). Failed
     * steps are reported in the answer, not as an error status; an unknown
     * backend is NOT_FOUND (ERROR_REASON_BACKEND_NOT_FOUND).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.CheckBackendResponse> checkBackend(
        io.github.telgate.v1.CheckBackendRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCheckBackendMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_LIST_BACKENDS = 0;
  private static final int METHODID_CHECK_BACKEND = 1;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final BackendServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(BackendServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_LIST_BACKENDS:
          serviceImpl.listBackends((io.github.telgate.v1.ListBackendsRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.ListBackendsResponse>) responseObserver);
          break;
        case METHODID_CHECK_BACKEND:
          serviceImpl.checkBackend((io.github.telgate.v1.CheckBackendRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.CheckBackendResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class BackendServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    BackendServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.github.telgate.v1.BackendsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("BackendService");
    }
  }

  private static final class BackendServiceFileDescriptorSupplier
      extends BackendServiceBaseDescriptorSupplier {
    BackendServiceFileDescriptorSupplier() {}
  }

  private static final class BackendServiceMethodDescriptorSupplier
      extends BackendServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    BackendServiceMethodDescriptorSupplier(String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (BackendServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new BackendServiceFileDescriptorSupplier())
              .addMethod(getListBackendsMethod())
              .addMethod(getCheckBackendMethod())
              .build();
        }
      }
    }
    return result;
  }
}
