package io.github.telgate.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Live call routing decided by a client: Simotel call-map components (Smart /
 * Exten / Trunk / IVR API) and Asterisk FastAGI behind one stream.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: telgate/v1/routing.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class CallRoutingServiceGrpc {

  private CallRoutingServiceGrpc() {}

  public static final String SERVICE_NAME = "telgate.v1.CallRoutingService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.RouteRequest,
      io.github.telgate.v1.RouteResponse> getRouteMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Route",
      requestType = io.github.telgate.v1.RouteRequest.class,
      responseType = io.github.telgate.v1.RouteResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.RouteRequest,
      io.github.telgate.v1.RouteResponse> getRouteMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.RouteRequest, io.github.telgate.v1.RouteResponse> getRouteMethod;
    if ((getRouteMethod = CallRoutingServiceGrpc.getRouteMethod) == null) {
      synchronized (CallRoutingServiceGrpc.class) {
        if ((getRouteMethod = CallRoutingServiceGrpc.getRouteMethod) == null) {
          CallRoutingServiceGrpc.getRouteMethod = getRouteMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.RouteRequest, io.github.telgate.v1.RouteResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Route"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.RouteRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.RouteResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CallRoutingServiceMethodDescriptorSupplier("Route"))
              .build();
        }
      }
    }
    return getRouteMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static CallRoutingServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CallRoutingServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CallRoutingServiceStub>() {
        @java.lang.Override
        public CallRoutingServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CallRoutingServiceStub(channel, callOptions);
        }
      };
    return CallRoutingServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static CallRoutingServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CallRoutingServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CallRoutingServiceBlockingStub>() {
        @java.lang.Override
        public CallRoutingServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CallRoutingServiceBlockingStub(channel, callOptions);
        }
      };
    return CallRoutingServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static CallRoutingServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CallRoutingServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CallRoutingServiceFutureStub>() {
        @java.lang.Override
        public CallRoutingServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CallRoutingServiceFutureStub(channel, callOptions);
        }
      };
    return CallRoutingServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Live call routing decided by a client: Simotel call-map components (Smart /
   * Exten / Trunk / IVR API) and Asterisk FastAGI behind one stream.
   * </pre>
   */
  public static abstract class CallRoutingServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * The router first sends a RouterRegistration naming the routes it serves,
     * then answers each RoutingQuery with a RoutingDecision. A query no router
     * answers within its deadline gets the configured fallback, and the router
     * is told how every query it was sent ended (QueryEnded).
     * The stream ends with INVALID_ARGUMENT when the first message is not a
     * RouterRegistration or comes later than `routing.registration_timeout`
     * (10 s by default), when the registration serves nothing, or when a
     * second registration (or an empty RouteRequest) follows; with
     * RESOURCE_EXHAUSTED (ERROR_REASON_TOO_MANY_STREAMS) when the caller holds
     * too many streams; with UNAVAILABLE (ERROR_REASON_SHUTTING_DOWN) when the
     * gateway stops. A decision that cannot be used never ends the stream: the
     * query falls back and QueryEnded says why (QUERY_OUTCOME_INVALID).
     * Which router gets a query: those naming its route first, then those
     * serving `*`, each group taking turns query by query; a call's later
     * queries go first to the router that decided its earlier one; a router
     * that let 3 deadlines pass in a row is asked last. When a router's stream
     * ends its waiting queries get the fallback at once.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<io.github.telgate.v1.RouteRequest> route(
        io.grpc.stub.StreamObserver<io.github.telgate.v1.RouteResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getRouteMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getRouteMethod(),
            io.grpc.stub.ServerCalls.asyncBidiStreamingCall(
              new MethodHandlers<
                io.github.telgate.v1.RouteRequest,
                io.github.telgate.v1.RouteResponse>(
                  this, METHODID_ROUTE)))
          .build();
    }
  }

  /**
   * <pre>
   * Live call routing decided by a client: Simotel call-map components (Smart /
   * Exten / Trunk / IVR API) and Asterisk FastAGI behind one stream.
   * </pre>
   */
  public static final class CallRoutingServiceStub extends io.grpc.stub.AbstractAsyncStub<CallRoutingServiceStub> {
    private CallRoutingServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CallRoutingServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CallRoutingServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * The router first sends a RouterRegistration naming the routes it serves,
     * then answers each RoutingQuery with a RoutingDecision. A query no router
     * answers within its deadline gets the configured fallback, and the router
     * is told how every query it was sent ended (QueryEnded).
     * The stream ends with INVALID_ARGUMENT when the first message is not a
     * RouterRegistration or comes later than `routing.registration_timeout`
     * (10 s by default), when the registration serves nothing, or when a
     * second registration (or an empty RouteRequest) follows; with
     * RESOURCE_EXHAUSTED (ERROR_REASON_TOO_MANY_STREAMS) when the caller holds
     * too many streams; with UNAVAILABLE (ERROR_REASON_SHUTTING_DOWN) when the
     * gateway stops. A decision that cannot be used never ends the stream: the
     * query falls back and QueryEnded says why (QUERY_OUTCOME_INVALID).
     * Which router gets a query: those naming its route first, then those
     * serving `*`, each group taking turns query by query; a call's later
     * queries go first to the router that decided its earlier one; a router
     * that let 3 deadlines pass in a row is asked last. When a router's stream
     * ends its waiting queries get the fallback at once.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<io.github.telgate.v1.RouteRequest> route(
        io.grpc.stub.StreamObserver<io.github.telgate.v1.RouteResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          getChannel().newCall(getRouteMethod(), getCallOptions()), responseObserver);
    }
  }

  /**
   * <pre>
   * Live call routing decided by a client: Simotel call-map components (Smart /
   * Exten / Trunk / IVR API) and Asterisk FastAGI behind one stream.
   * </pre>
   */
  public static final class CallRoutingServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<CallRoutingServiceBlockingStub> {
    private CallRoutingServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CallRoutingServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CallRoutingServiceBlockingStub(channel, callOptions);
    }
  }

  /**
   * <pre>
   * Live call routing decided by a client: Simotel call-map components (Smart /
   * Exten / Trunk / IVR API) and Asterisk FastAGI behind one stream.
   * </pre>
   */
  public static final class CallRoutingServiceFutureStub extends io.grpc.stub.AbstractFutureStub<CallRoutingServiceFutureStub> {
    private CallRoutingServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CallRoutingServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CallRoutingServiceFutureStub(channel, callOptions);
    }
  }

  private static final int METHODID_ROUTE = 0;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final CallRoutingServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(CallRoutingServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_ROUTE:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.route(
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.RouteResponse>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class CallRoutingServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    CallRoutingServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.github.telgate.v1.RoutingProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("CallRoutingService");
    }
  }

  private static final class CallRoutingServiceFileDescriptorSupplier
      extends CallRoutingServiceBaseDescriptorSupplier {
    CallRoutingServiceFileDescriptorSupplier() {}
  }

  private static final class CallRoutingServiceMethodDescriptorSupplier
      extends CallRoutingServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    CallRoutingServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (CallRoutingServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new CallRoutingServiceFileDescriptorSupplier())
              .addMethod(getRouteMethod())
              .build();
        }
      }
    }
    return result;
  }
}
