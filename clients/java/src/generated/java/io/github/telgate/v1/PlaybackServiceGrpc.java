package io.github.telgate.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Plays a stored recording into a phone, with pause / resume / seek / stop.
 * Asterisk only (the endpoint is originated into ControlPlayback); other
 * kinds answer UNIMPLEMENTED (ERROR_REASON_NOT_SUPPORTED). Every request's
 * `backend` (at most 64 characters) is the default backend when empty.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: telgate/v1/playback.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class PlaybackServiceGrpc {

  private PlaybackServiceGrpc() {}

  public static final String SERVICE_NAME = "telgate.v1.PlaybackService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.StartPlaybackRequest,
      io.github.telgate.v1.StartPlaybackResponse> getStartPlaybackMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StartPlayback",
      requestType = io.github.telgate.v1.StartPlaybackRequest.class,
      responseType = io.github.telgate.v1.StartPlaybackResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.StartPlaybackRequest,
      io.github.telgate.v1.StartPlaybackResponse> getStartPlaybackMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.StartPlaybackRequest, io.github.telgate.v1.StartPlaybackResponse> getStartPlaybackMethod;
    if ((getStartPlaybackMethod = PlaybackServiceGrpc.getStartPlaybackMethod) == null) {
      synchronized (PlaybackServiceGrpc.class) {
        if ((getStartPlaybackMethod = PlaybackServiceGrpc.getStartPlaybackMethod) == null) {
          PlaybackServiceGrpc.getStartPlaybackMethod = getStartPlaybackMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.StartPlaybackRequest, io.github.telgate.v1.StartPlaybackResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StartPlayback"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.StartPlaybackRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.StartPlaybackResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlaybackServiceMethodDescriptorSupplier("StartPlayback"))
              .build();
        }
      }
    }
    return getStartPlaybackMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.ControlPlaybackRequest,
      io.github.telgate.v1.ControlPlaybackResponse> getControlPlaybackMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ControlPlayback",
      requestType = io.github.telgate.v1.ControlPlaybackRequest.class,
      responseType = io.github.telgate.v1.ControlPlaybackResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.ControlPlaybackRequest,
      io.github.telgate.v1.ControlPlaybackResponse> getControlPlaybackMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.ControlPlaybackRequest, io.github.telgate.v1.ControlPlaybackResponse> getControlPlaybackMethod;
    if ((getControlPlaybackMethod = PlaybackServiceGrpc.getControlPlaybackMethod) == null) {
      synchronized (PlaybackServiceGrpc.class) {
        if ((getControlPlaybackMethod = PlaybackServiceGrpc.getControlPlaybackMethod) == null) {
          PlaybackServiceGrpc.getControlPlaybackMethod = getControlPlaybackMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.ControlPlaybackRequest, io.github.telgate.v1.ControlPlaybackResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ControlPlayback"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ControlPlaybackRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ControlPlaybackResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlaybackServiceMethodDescriptorSupplier("ControlPlayback"))
              .build();
        }
      }
    }
    return getControlPlaybackMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.GetPlaybackRequest,
      io.github.telgate.v1.GetPlaybackResponse> getGetPlaybackMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetPlayback",
      requestType = io.github.telgate.v1.GetPlaybackRequest.class,
      responseType = io.github.telgate.v1.GetPlaybackResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.GetPlaybackRequest,
      io.github.telgate.v1.GetPlaybackResponse> getGetPlaybackMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.GetPlaybackRequest, io.github.telgate.v1.GetPlaybackResponse> getGetPlaybackMethod;
    if ((getGetPlaybackMethod = PlaybackServiceGrpc.getGetPlaybackMethod) == null) {
      synchronized (PlaybackServiceGrpc.class) {
        if ((getGetPlaybackMethod = PlaybackServiceGrpc.getGetPlaybackMethod) == null) {
          PlaybackServiceGrpc.getGetPlaybackMethod = getGetPlaybackMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.GetPlaybackRequest, io.github.telgate.v1.GetPlaybackResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetPlayback"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.GetPlaybackRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.GetPlaybackResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlaybackServiceMethodDescriptorSupplier("GetPlayback"))
              .build();
        }
      }
    }
    return getGetPlaybackMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static PlaybackServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PlaybackServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PlaybackServiceStub>() {
        @java.lang.Override
        public PlaybackServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PlaybackServiceStub(channel, callOptions);
        }
      };
    return PlaybackServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static PlaybackServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PlaybackServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PlaybackServiceBlockingStub>() {
        @java.lang.Override
        public PlaybackServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PlaybackServiceBlockingStub(channel, callOptions);
        }
      };
    return PlaybackServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static PlaybackServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PlaybackServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PlaybackServiceFutureStub>() {
        @java.lang.Override
        public PlaybackServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PlaybackServiceFutureStub(channel, callOptions);
        }
      };
    return PlaybackServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Plays a stored recording into a phone, with pause / resume / seek / stop.
   * Asterisk only (the endpoint is originated into ControlPlayback); other
   * kinds answer UNIMPLEMENTED (ERROR_REASON_NOT_SUPPORTED). Every request's
   * `backend` (at most 64 characters) is the default backend when empty.
   * </pre>
   */
  public static abstract class PlaybackServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Rings the endpoint and, when it answers, plays the recording. Returns
     * once the PBX accepted the call (state RINGING); PlaybackStarted /
     * PlaybackFinished events follow on EventService.Subscribe.
     * </pre>
     */
    public void startPlayback(io.github.telgate.v1.StartPlaybackRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.StartPlaybackResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStartPlaybackMethod(), responseObserver);
    }

    /**
     * <pre>
     * Pauses, resumes, skips, restarts or stops a playback that is playing or
     * paused; FAILED_PRECONDITION (ERROR_REASON_PBX_REJECTED, `state`) in any
     * other state. PAUSE while paused and RESUME while playing change nothing.
     * </pre>
     */
    public void controlPlayback(io.github.telgate.v1.ControlPlaybackRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ControlPlaybackResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getControlPlaybackMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns a playback: live ones, and ended ones for 5 minutes after they ended.
     * </pre>
     */
    public void getPlayback(io.github.telgate.v1.GetPlaybackRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.GetPlaybackResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetPlaybackMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getStartPlaybackMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.StartPlaybackRequest,
                io.github.telgate.v1.StartPlaybackResponse>(
                  this, METHODID_START_PLAYBACK)))
          .addMethod(
            getControlPlaybackMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.ControlPlaybackRequest,
                io.github.telgate.v1.ControlPlaybackResponse>(
                  this, METHODID_CONTROL_PLAYBACK)))
          .addMethod(
            getGetPlaybackMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.GetPlaybackRequest,
                io.github.telgate.v1.GetPlaybackResponse>(
                  this, METHODID_GET_PLAYBACK)))
          .build();
    }
  }

  /**
   * <pre>
   * Plays a stored recording into a phone, with pause / resume / seek / stop.
   * Asterisk only (the endpoint is originated into ControlPlayback); other
   * kinds answer UNIMPLEMENTED (ERROR_REASON_NOT_SUPPORTED). Every request's
   * `backend` (at most 64 characters) is the default backend when empty.
   * </pre>
   */
  public static final class PlaybackServiceStub extends io.grpc.stub.AbstractAsyncStub<PlaybackServiceStub> {
    private PlaybackServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PlaybackServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PlaybackServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Rings the endpoint and, when it answers, plays the recording. Returns
     * once the PBX accepted the call (state RINGING); PlaybackStarted /
     * PlaybackFinished events follow on EventService.Subscribe.
     * </pre>
     */
    public void startPlayback(io.github.telgate.v1.StartPlaybackRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.StartPlaybackResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getStartPlaybackMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Pauses, resumes, skips, restarts or stops a playback that is playing or
     * paused; FAILED_PRECONDITION (ERROR_REASON_PBX_REJECTED, `state`) in any
     * other state. PAUSE while paused and RESUME while playing change nothing.
     * </pre>
     */
    public void controlPlayback(io.github.telgate.v1.ControlPlaybackRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ControlPlaybackResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getControlPlaybackMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns a playback: live ones, and ended ones for 5 minutes after they ended.
     * </pre>
     */
    public void getPlayback(io.github.telgate.v1.GetPlaybackRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.GetPlaybackResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetPlaybackMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Plays a stored recording into a phone, with pause / resume / seek / stop.
   * Asterisk only (the endpoint is originated into ControlPlayback); other
   * kinds answer UNIMPLEMENTED (ERROR_REASON_NOT_SUPPORTED). Every request's
   * `backend` (at most 64 characters) is the default backend when empty.
   * </pre>
   */
  public static final class PlaybackServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<PlaybackServiceBlockingStub> {
    private PlaybackServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PlaybackServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PlaybackServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Rings the endpoint and, when it answers, plays the recording. Returns
     * once the PBX accepted the call (state RINGING); PlaybackStarted /
     * PlaybackFinished events follow on EventService.Subscribe.
     * </pre>
     */
    public io.github.telgate.v1.StartPlaybackResponse startPlayback(io.github.telgate.v1.StartPlaybackRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getStartPlaybackMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Pauses, resumes, skips, restarts or stops a playback that is playing or
     * paused; FAILED_PRECONDITION (ERROR_REASON_PBX_REJECTED, `state`) in any
     * other state. PAUSE while paused and RESUME while playing change nothing.
     * </pre>
     */
    public io.github.telgate.v1.ControlPlaybackResponse controlPlayback(io.github.telgate.v1.ControlPlaybackRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getControlPlaybackMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns a playback: live ones, and ended ones for 5 minutes after they ended.
     * </pre>
     */
    public io.github.telgate.v1.GetPlaybackResponse getPlayback(io.github.telgate.v1.GetPlaybackRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetPlaybackMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Plays a stored recording into a phone, with pause / resume / seek / stop.
   * Asterisk only (the endpoint is originated into ControlPlayback); other
   * kinds answer UNIMPLEMENTED (ERROR_REASON_NOT_SUPPORTED). Every request's
   * `backend` (at most 64 characters) is the default backend when empty.
   * </pre>
   */
  public static final class PlaybackServiceFutureStub extends io.grpc.stub.AbstractFutureStub<PlaybackServiceFutureStub> {
    private PlaybackServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PlaybackServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PlaybackServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Rings the endpoint and, when it answers, plays the recording. Returns
     * once the PBX accepted the call (state RINGING); PlaybackStarted /
     * PlaybackFinished events follow on EventService.Subscribe.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.StartPlaybackResponse> startPlayback(
        io.github.telgate.v1.StartPlaybackRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getStartPlaybackMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Pauses, resumes, skips, restarts or stops a playback that is playing or
     * paused; FAILED_PRECONDITION (ERROR_REASON_PBX_REJECTED, `state`) in any
     * other state. PAUSE while paused and RESUME while playing change nothing.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.ControlPlaybackResponse> controlPlayback(
        io.github.telgate.v1.ControlPlaybackRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getControlPlaybackMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns a playback: live ones, and ended ones for 5 minutes after they ended.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.GetPlaybackResponse> getPlayback(
        io.github.telgate.v1.GetPlaybackRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetPlaybackMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_START_PLAYBACK = 0;
  private static final int METHODID_CONTROL_PLAYBACK = 1;
  private static final int METHODID_GET_PLAYBACK = 2;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final PlaybackServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(PlaybackServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_START_PLAYBACK:
          serviceImpl.startPlayback((io.github.telgate.v1.StartPlaybackRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.StartPlaybackResponse>) responseObserver);
          break;
        case METHODID_CONTROL_PLAYBACK:
          serviceImpl.controlPlayback((io.github.telgate.v1.ControlPlaybackRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.ControlPlaybackResponse>) responseObserver);
          break;
        case METHODID_GET_PLAYBACK:
          serviceImpl.getPlayback((io.github.telgate.v1.GetPlaybackRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.GetPlaybackResponse>) responseObserver);
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

  private static abstract class PlaybackServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    PlaybackServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.github.telgate.v1.PlaybackProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("PlaybackService");
    }
  }

  private static final class PlaybackServiceFileDescriptorSupplier
      extends PlaybackServiceBaseDescriptorSupplier {
    PlaybackServiceFileDescriptorSupplier() {}
  }

  private static final class PlaybackServiceMethodDescriptorSupplier
      extends PlaybackServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    PlaybackServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (PlaybackServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new PlaybackServiceFileDescriptorSupplier())
              .addMethod(getStartPlaybackMethod())
              .addMethod(getControlPlaybackMethod())
              .addMethod(getGetPlaybackMethod())
              .build();
        }
      }
    }
    return result;
  }
}
