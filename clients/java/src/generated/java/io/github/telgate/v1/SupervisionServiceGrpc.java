package io.github.telgate.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Live listening to calls (Asterisk: the listener is originated into
 * ChanSpy). Asterisk only; other kinds answer UNIMPLEMENTED
 * (ERROR_REASON_NOT_SUPPORTED). Every request's `backend` (at most 64
 * characters) is the default backend when empty. Sessions are kept by the
 * gateway instance that started them, for 5 minutes after they end.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: telgate/v1/supervision.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class SupervisionServiceGrpc {

  private SupervisionServiceGrpc() {}

  public static final String SERVICE_NAME = "telgate.v1.SupervisionService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.StartListenRequest,
      io.github.telgate.v1.StartListenResponse> getStartListenMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StartListen",
      requestType = io.github.telgate.v1.StartListenRequest.class,
      responseType = io.github.telgate.v1.StartListenResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.StartListenRequest,
      io.github.telgate.v1.StartListenResponse> getStartListenMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.StartListenRequest, io.github.telgate.v1.StartListenResponse> getStartListenMethod;
    if ((getStartListenMethod = SupervisionServiceGrpc.getStartListenMethod) == null) {
      synchronized (SupervisionServiceGrpc.class) {
        if ((getStartListenMethod = SupervisionServiceGrpc.getStartListenMethod) == null) {
          SupervisionServiceGrpc.getStartListenMethod = getStartListenMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.StartListenRequest, io.github.telgate.v1.StartListenResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StartListen"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.StartListenRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.StartListenResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SupervisionServiceMethodDescriptorSupplier("StartListen"))
              .build();
        }
      }
    }
    return getStartListenMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.StopListenRequest,
      io.github.telgate.v1.StopListenResponse> getStopListenMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StopListen",
      requestType = io.github.telgate.v1.StopListenRequest.class,
      responseType = io.github.telgate.v1.StopListenResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.StopListenRequest,
      io.github.telgate.v1.StopListenResponse> getStopListenMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.StopListenRequest, io.github.telgate.v1.StopListenResponse> getStopListenMethod;
    if ((getStopListenMethod = SupervisionServiceGrpc.getStopListenMethod) == null) {
      synchronized (SupervisionServiceGrpc.class) {
        if ((getStopListenMethod = SupervisionServiceGrpc.getStopListenMethod) == null) {
          SupervisionServiceGrpc.getStopListenMethod = getStopListenMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.StopListenRequest, io.github.telgate.v1.StopListenResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StopListen"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.StopListenRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.StopListenResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SupervisionServiceMethodDescriptorSupplier("StopListen"))
              .build();
        }
      }
    }
    return getStopListenMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.SetListenModeRequest,
      io.github.telgate.v1.SetListenModeResponse> getSetListenModeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SetListenMode",
      requestType = io.github.telgate.v1.SetListenModeRequest.class,
      responseType = io.github.telgate.v1.SetListenModeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.SetListenModeRequest,
      io.github.telgate.v1.SetListenModeResponse> getSetListenModeMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.SetListenModeRequest, io.github.telgate.v1.SetListenModeResponse> getSetListenModeMethod;
    if ((getSetListenModeMethod = SupervisionServiceGrpc.getSetListenModeMethod) == null) {
      synchronized (SupervisionServiceGrpc.class) {
        if ((getSetListenModeMethod = SupervisionServiceGrpc.getSetListenModeMethod) == null) {
          SupervisionServiceGrpc.getSetListenModeMethod = getSetListenModeMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.SetListenModeRequest, io.github.telgate.v1.SetListenModeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SetListenMode"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.SetListenModeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.SetListenModeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SupervisionServiceMethodDescriptorSupplier("SetListenMode"))
              .build();
        }
      }
    }
    return getSetListenModeMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.ListListenSessionsRequest,
      io.github.telgate.v1.ListListenSessionsResponse> getListListenSessionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListListenSessions",
      requestType = io.github.telgate.v1.ListListenSessionsRequest.class,
      responseType = io.github.telgate.v1.ListListenSessionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.ListListenSessionsRequest,
      io.github.telgate.v1.ListListenSessionsResponse> getListListenSessionsMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.ListListenSessionsRequest, io.github.telgate.v1.ListListenSessionsResponse> getListListenSessionsMethod;
    if ((getListListenSessionsMethod = SupervisionServiceGrpc.getListListenSessionsMethod) == null) {
      synchronized (SupervisionServiceGrpc.class) {
        if ((getListListenSessionsMethod = SupervisionServiceGrpc.getListListenSessionsMethod) == null) {
          SupervisionServiceGrpc.getListListenSessionsMethod = getListListenSessionsMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.ListListenSessionsRequest, io.github.telgate.v1.ListListenSessionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListListenSessions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ListListenSessionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ListListenSessionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SupervisionServiceMethodDescriptorSupplier("ListListenSessions"))
              .build();
        }
      }
    }
    return getListListenSessionsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static SupervisionServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SupervisionServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SupervisionServiceStub>() {
        @java.lang.Override
        public SupervisionServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SupervisionServiceStub(channel, callOptions);
        }
      };
    return SupervisionServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static SupervisionServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SupervisionServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SupervisionServiceBlockingStub>() {
        @java.lang.Override
        public SupervisionServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SupervisionServiceBlockingStub(channel, callOptions);
        }
      };
    return SupervisionServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static SupervisionServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SupervisionServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SupervisionServiceFutureStub>() {
        @java.lang.Override
        public SupervisionServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SupervisionServiceFutureStub(channel, callOptions);
        }
      };
    return SupervisionServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Live listening to calls (Asterisk: the listener is originated into
   * ChanSpy). Asterisk only; other kinds answer UNIMPLEMENTED
   * (ERROR_REASON_NOT_SUPPORTED). Every request's `backend` (at most 64
   * characters) is the default backend when empty. Sessions are kept by the
   * gateway instance that started them, for 5 minutes after they end.
   * </pre>
   */
  public static abstract class SupervisionServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Rings the listener and, when it answers, lets it hear the target call.
     * Returns once the PBX accepted the call (state RINGING).
     * </pre>
     */
    public void startListen(io.github.telgate.v1.StartListenRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.StartListenResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStartListenMethod(), responseObserver);
    }

    /**
     * <pre>
     * Ends a listen session by hanging the listener's leg up (the target call
     * goes on). Stopping an ended session returns it unchanged.
     * </pre>
     */
    public void stopListen(io.github.telgate.v1.StopListenRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.StopListenResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStopListenMethod(), responseObserver);
    }

    /**
     * <pre>
     * Changes the mode of a live session without redialling (Asterisk: the
     * ChanSpy mode digit 4 / 5 / 6 is queued on the listener's channel).
     * FAILED_PRECONDITION (ERROR_REASON_PBX_REJECTED) when the session has ended.
     * </pre>
     */
    public void setListenMode(io.github.telgate.v1.SetListenModeRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.SetListenModeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSetListenModeMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists live sessions and those ended in the last 5 minutes, a page at a time.
     * </pre>
     */
    public void listListenSessions(io.github.telgate.v1.ListListenSessionsRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ListListenSessionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListListenSessionsMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getStartListenMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.StartListenRequest,
                io.github.telgate.v1.StartListenResponse>(
                  this, METHODID_START_LISTEN)))
          .addMethod(
            getStopListenMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.StopListenRequest,
                io.github.telgate.v1.StopListenResponse>(
                  this, METHODID_STOP_LISTEN)))
          .addMethod(
            getSetListenModeMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.SetListenModeRequest,
                io.github.telgate.v1.SetListenModeResponse>(
                  this, METHODID_SET_LISTEN_MODE)))
          .addMethod(
            getListListenSessionsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.ListListenSessionsRequest,
                io.github.telgate.v1.ListListenSessionsResponse>(
                  this, METHODID_LIST_LISTEN_SESSIONS)))
          .build();
    }
  }

  /**
   * <pre>
   * Live listening to calls (Asterisk: the listener is originated into
   * ChanSpy). Asterisk only; other kinds answer UNIMPLEMENTED
   * (ERROR_REASON_NOT_SUPPORTED). Every request's `backend` (at most 64
   * characters) is the default backend when empty. Sessions are kept by the
   * gateway instance that started them, for 5 minutes after they end.
   * </pre>
   */
  public static final class SupervisionServiceStub extends io.grpc.stub.AbstractAsyncStub<SupervisionServiceStub> {
    private SupervisionServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SupervisionServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SupervisionServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Rings the listener and, when it answers, lets it hear the target call.
     * Returns once the PBX accepted the call (state RINGING).
     * </pre>
     */
    public void startListen(io.github.telgate.v1.StartListenRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.StartListenResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getStartListenMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Ends a listen session by hanging the listener's leg up (the target call
     * goes on). Stopping an ended session returns it unchanged.
     * </pre>
     */
    public void stopListen(io.github.telgate.v1.StopListenRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.StopListenResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getStopListenMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Changes the mode of a live session without redialling (Asterisk: the
     * ChanSpy mode digit 4 / 5 / 6 is queued on the listener's channel).
     * FAILED_PRECONDITION (ERROR_REASON_PBX_REJECTED) when the session has ended.
     * </pre>
     */
    public void setListenMode(io.github.telgate.v1.SetListenModeRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.SetListenModeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSetListenModeMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists live sessions and those ended in the last 5 minutes, a page at a time.
     * </pre>
     */
    public void listListenSessions(io.github.telgate.v1.ListListenSessionsRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ListListenSessionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListListenSessionsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Live listening to calls (Asterisk: the listener is originated into
   * ChanSpy). Asterisk only; other kinds answer UNIMPLEMENTED
   * (ERROR_REASON_NOT_SUPPORTED). Every request's `backend` (at most 64
   * characters) is the default backend when empty. Sessions are kept by the
   * gateway instance that started them, for 5 minutes after they end.
   * </pre>
   */
  public static final class SupervisionServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<SupervisionServiceBlockingStub> {
    private SupervisionServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SupervisionServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SupervisionServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Rings the listener and, when it answers, lets it hear the target call.
     * Returns once the PBX accepted the call (state RINGING).
     * </pre>
     */
    public io.github.telgate.v1.StartListenResponse startListen(io.github.telgate.v1.StartListenRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getStartListenMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Ends a listen session by hanging the listener's leg up (the target call
     * goes on). Stopping an ended session returns it unchanged.
     * </pre>
     */
    public io.github.telgate.v1.StopListenResponse stopListen(io.github.telgate.v1.StopListenRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getStopListenMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes the mode of a live session without redialling (Asterisk: the
     * ChanSpy mode digit 4 / 5 / 6 is queued on the listener's channel).
     * FAILED_PRECONDITION (ERROR_REASON_PBX_REJECTED) when the session has ended.
     * </pre>
     */
    public io.github.telgate.v1.SetListenModeResponse setListenMode(io.github.telgate.v1.SetListenModeRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSetListenModeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists live sessions and those ended in the last 5 minutes, a page at a time.
     * </pre>
     */
    public io.github.telgate.v1.ListListenSessionsResponse listListenSessions(io.github.telgate.v1.ListListenSessionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListListenSessionsMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Live listening to calls (Asterisk: the listener is originated into
   * ChanSpy). Asterisk only; other kinds answer UNIMPLEMENTED
   * (ERROR_REASON_NOT_SUPPORTED). Every request's `backend` (at most 64
   * characters) is the default backend when empty. Sessions are kept by the
   * gateway instance that started them, for 5 minutes after they end.
   * </pre>
   */
  public static final class SupervisionServiceFutureStub extends io.grpc.stub.AbstractFutureStub<SupervisionServiceFutureStub> {
    private SupervisionServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SupervisionServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SupervisionServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Rings the listener and, when it answers, lets it hear the target call.
     * Returns once the PBX accepted the call (state RINGING).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.StartListenResponse> startListen(
        io.github.telgate.v1.StartListenRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getStartListenMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Ends a listen session by hanging the listener's leg up (the target call
     * goes on). Stopping an ended session returns it unchanged.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.StopListenResponse> stopListen(
        io.github.telgate.v1.StopListenRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getStopListenMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Changes the mode of a live session without redialling (Asterisk: the
     * ChanSpy mode digit 4 / 5 / 6 is queued on the listener's channel).
     * FAILED_PRECONDITION (ERROR_REASON_PBX_REJECTED) when the session has ended.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.SetListenModeResponse> setListenMode(
        io.github.telgate.v1.SetListenModeRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSetListenModeMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists live sessions and those ended in the last 5 minutes, a page at a time.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.ListListenSessionsResponse> listListenSessions(
        io.github.telgate.v1.ListListenSessionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListListenSessionsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_START_LISTEN = 0;
  private static final int METHODID_STOP_LISTEN = 1;
  private static final int METHODID_SET_LISTEN_MODE = 2;
  private static final int METHODID_LIST_LISTEN_SESSIONS = 3;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final SupervisionServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(SupervisionServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_START_LISTEN:
          serviceImpl.startListen((io.github.telgate.v1.StartListenRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.StartListenResponse>) responseObserver);
          break;
        case METHODID_STOP_LISTEN:
          serviceImpl.stopListen((io.github.telgate.v1.StopListenRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.StopListenResponse>) responseObserver);
          break;
        case METHODID_SET_LISTEN_MODE:
          serviceImpl.setListenMode((io.github.telgate.v1.SetListenModeRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.SetListenModeResponse>) responseObserver);
          break;
        case METHODID_LIST_LISTEN_SESSIONS:
          serviceImpl.listListenSessions((io.github.telgate.v1.ListListenSessionsRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.ListListenSessionsResponse>) responseObserver);
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

  private static abstract class SupervisionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    SupervisionServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.github.telgate.v1.SupervisionProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("SupervisionService");
    }
  }

  private static final class SupervisionServiceFileDescriptorSupplier
      extends SupervisionServiceBaseDescriptorSupplier {
    SupervisionServiceFileDescriptorSupplier() {}
  }

  private static final class SupervisionServiceMethodDescriptorSupplier
      extends SupervisionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    SupervisionServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (SupervisionServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new SupervisionServiceFileDescriptorSupplier())
              .addMethod(getStartListenMethod())
              .addMethod(getStopListenMethod())
              .addMethod(getSetListenModeMethod())
              .addMethod(getListListenSessionsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
