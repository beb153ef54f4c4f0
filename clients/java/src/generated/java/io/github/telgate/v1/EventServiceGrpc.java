package io.github.telgate.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Live events from every backend, numbered in one sequence per epoch (see
 * EventPosition), with a replay buffer to resume from.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: telgate/v1/events.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class EventServiceGrpc {

  private EventServiceGrpc() {}

  public static final String SERVICE_NAME = "telgate.v1.EventService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.SubscribeRequest,
      io.github.telgate.v1.SubscribeResponse> getSubscribeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Subscribe",
      requestType = io.github.telgate.v1.SubscribeRequest.class,
      responseType = io.github.telgate.v1.SubscribeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.SubscribeRequest,
      io.github.telgate.v1.SubscribeResponse> getSubscribeMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.SubscribeRequest, io.github.telgate.v1.SubscribeResponse> getSubscribeMethod;
    if ((getSubscribeMethod = EventServiceGrpc.getSubscribeMethod) == null) {
      synchronized (EventServiceGrpc.class) {
        if ((getSubscribeMethod = EventServiceGrpc.getSubscribeMethod) == null) {
          EventServiceGrpc.getSubscribeMethod = getSubscribeMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.SubscribeRequest, io.github.telgate.v1.SubscribeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Subscribe"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.SubscribeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.SubscribeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventServiceMethodDescriptorSupplier("Subscribe"))
              .build();
        }
      }
    }
    return getSubscribeMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static EventServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventServiceStub>() {
        @java.lang.Override
        public EventServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventServiceStub(channel, callOptions);
        }
      };
    return EventServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static EventServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventServiceBlockingStub>() {
        @java.lang.Override
        public EventServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventServiceBlockingStub(channel, callOptions);
        }
      };
    return EventServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static EventServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventServiceFutureStub>() {
        @java.lang.Override
        public EventServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventServiceFutureStub(channel, callOptions);
        }
      };
    return EventServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Live events from every backend, numbered in one sequence per epoch (see
   * EventPosition), with a replay buffer to resume from.
   * </pre>
   */
  public static abstract class EventServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Streams events: SubscriptionStarted first, then an EventGap when the
     * position asked for is no longer held, then batches (whatever was queued
     * for this subscriber when the stream could write: one event when quiet,
     * many in a burst) and heartbeats on an idle stream. The stream does not
     * end by itself. A subscriber that falls `events.subscriber_queue` events
     * behind is ended with RESOURCE_EXHAUSTED (ERROR_REASON_SUBSCRIBER_TOO_SLOW);
     * a gateway shutting down ends it with UNAVAILABLE
     * (ERROR_REASON_SHUTTING_DOWN). Both carry ErrorInfo metadata `epoch` and
     * `last_sequence`: the EventPosition to resume after (every event up to it
     * was sent or left out by the filter). Bad input (an unknown EventType, a
     * malformed raw name, START_POSITION_AFTER without a position or ahead of
     * the stream) is INVALID_ARGUMENT (ERROR_REASON_INVALID_FIELD, metadata
     * `field`), an unknown backend NOT_FOUND, before the stream opens.
     * </pre>
     */
    public void subscribe(io.github.telgate.v1.SubscribeRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.SubscribeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSubscribeMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getSubscribeMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                io.github.telgate.v1.SubscribeRequest,
                io.github.telgate.v1.SubscribeResponse>(
                  this, METHODID_SUBSCRIBE)))
          .build();
    }
  }

  /**
   * <pre>
   * Live events from every backend, numbered in one sequence per epoch (see
   * EventPosition), with a replay buffer to resume from.
   * </pre>
   */
  public static final class EventServiceStub extends io.grpc.stub.AbstractAsyncStub<EventServiceStub> {
    private EventServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Streams events: SubscriptionStarted first, then an EventGap when the
     * position asked for is no longer held, then batches (whatever was queued
     * for this subscriber when the stream could write: one event when quiet,
     * many in a burst) and heartbeats on an idle stream. The stream does not
     * end by itself. A subscriber that falls `events.subscriber_queue` events
     * behind is ended with RESOURCE_EXHAUSTED (ERROR_REASON_SUBSCRIBER_TOO_SLOW);
     * a gateway shutting down ends it with UNAVAILABLE
     * (ERROR_REASON_SHUTTING_DOWN). Both carry ErrorInfo metadata `epoch` and
     * `last_sequence`: the EventPosition to resume after (every event up to it
     * was sent or left out by the filter). Bad input (an unknown EventType, a
     * malformed raw name, START_POSITION_AFTER without a position or ahead of
     * the stream) is INVALID_ARGUMENT (ERROR_REASON_INVALID_FIELD, metadata
     * `field`), an unknown backend NOT_FOUND, before the stream opens.
     * </pre>
     */
    public void subscribe(io.github.telgate.v1.SubscribeRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.SubscribeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getSubscribeMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Live events from every backend, numbered in one sequence per epoch (see
   * EventPosition), with a replay buffer to resume from.
   * </pre>
   */
  public static final class EventServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<EventServiceBlockingStub> {
    private EventServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Streams events: SubscriptionStarted first, then an EventGap when the
     * position asked for is no longer held, then batches (whatever was queued
     * for this subscriber when the stream could write: one event when quiet,
     * many in a burst) and heartbeats on an idle stream. The stream does not
     * end by itself. A subscriber that falls `events.subscriber_queue` events
     * behind is ended with RESOURCE_EXHAUSTED (ERROR_REASON_SUBSCRIBER_TOO_SLOW);
     * a gateway shutting down ends it with UNAVAILABLE
     * (ERROR_REASON_SHUTTING_DOWN). Both carry ErrorInfo metadata `epoch` and
     * `last_sequence`: the EventPosition to resume after (every event up to it
     * was sent or left out by the filter). Bad input (an unknown EventType, a
     * malformed raw name, START_POSITION_AFTER without a position or ahead of
     * the stream) is INVALID_ARGUMENT (ERROR_REASON_INVALID_FIELD, metadata
     * `field`), an unknown backend NOT_FOUND, before the stream opens.
     * </pre>
     */
    public java.util.Iterator<io.github.telgate.v1.SubscribeResponse> subscribe(
        io.github.telgate.v1.SubscribeRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getSubscribeMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Live events from every backend, numbered in one sequence per epoch (see
   * EventPosition), with a replay buffer to resume from.
   * </pre>
   */
  public static final class EventServiceFutureStub extends io.grpc.stub.AbstractFutureStub<EventServiceFutureStub> {
    private EventServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventServiceFutureStub(channel, callOptions);
    }
  }

  private static final int METHODID_SUBSCRIBE = 0;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final EventServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(EventServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_SUBSCRIBE:
          serviceImpl.subscribe((io.github.telgate.v1.SubscribeRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.SubscribeResponse>) responseObserver);
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

  private static abstract class EventServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    EventServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.github.telgate.v1.EventsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("EventService");
    }
  }

  private static final class EventServiceFileDescriptorSupplier
      extends EventServiceBaseDescriptorSupplier {
    EventServiceFileDescriptorSupplier() {}
  }

  private static final class EventServiceMethodDescriptorSupplier
      extends EventServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    EventServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (EventServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new EventServiceFileDescriptorSupplier())
              .addMethod(getSubscribeMethod())
              .build();
        }
      }
    }
    return result;
  }
}
