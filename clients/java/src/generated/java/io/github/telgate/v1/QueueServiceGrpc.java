package io.github.telgate.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Call queues, their members (agents) and waiting callers. Asterisk (app_queue
 * over AMI) and Simotel; Sippy answers UNIMPLEMENTED
 * (ERROR_REASON_NOT_SUPPORTED). Every request's `backend` (at most 64
 * characters) is the default backend when empty. Queue names and member
 * interfaces are at most 80 characters (INVALID_ARGUMENT beyond).
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: telgate/v1/queues.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class QueueServiceGrpc {

  private QueueServiceGrpc() {}

  public static final String SERVICE_NAME = "telgate.v1.QueueService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.ListQueuesRequest,
      io.github.telgate.v1.ListQueuesResponse> getListQueuesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListQueues",
      requestType = io.github.telgate.v1.ListQueuesRequest.class,
      responseType = io.github.telgate.v1.ListQueuesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.ListQueuesRequest,
      io.github.telgate.v1.ListQueuesResponse> getListQueuesMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.ListQueuesRequest, io.github.telgate.v1.ListQueuesResponse> getListQueuesMethod;
    if ((getListQueuesMethod = QueueServiceGrpc.getListQueuesMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getListQueuesMethod = QueueServiceGrpc.getListQueuesMethod) == null) {
          QueueServiceGrpc.getListQueuesMethod = getListQueuesMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.ListQueuesRequest, io.github.telgate.v1.ListQueuesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListQueues"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ListQueuesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ListQueuesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("ListQueues"))
              .build();
        }
      }
    }
    return getListQueuesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.GetQueueRequest,
      io.github.telgate.v1.GetQueueResponse> getGetQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetQueue",
      requestType = io.github.telgate.v1.GetQueueRequest.class,
      responseType = io.github.telgate.v1.GetQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.GetQueueRequest,
      io.github.telgate.v1.GetQueueResponse> getGetQueueMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.GetQueueRequest, io.github.telgate.v1.GetQueueResponse> getGetQueueMethod;
    if ((getGetQueueMethod = QueueServiceGrpc.getGetQueueMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getGetQueueMethod = QueueServiceGrpc.getGetQueueMethod) == null) {
          QueueServiceGrpc.getGetQueueMethod = getGetQueueMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.GetQueueRequest, io.github.telgate.v1.GetQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.GetQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.GetQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("GetQueue"))
              .build();
        }
      }
    }
    return getGetQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.AddMemberRequest,
      io.github.telgate.v1.AddMemberResponse> getAddMemberMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AddMember",
      requestType = io.github.telgate.v1.AddMemberRequest.class,
      responseType = io.github.telgate.v1.AddMemberResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.AddMemberRequest,
      io.github.telgate.v1.AddMemberResponse> getAddMemberMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.AddMemberRequest, io.github.telgate.v1.AddMemberResponse> getAddMemberMethod;
    if ((getAddMemberMethod = QueueServiceGrpc.getAddMemberMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getAddMemberMethod = QueueServiceGrpc.getAddMemberMethod) == null) {
          QueueServiceGrpc.getAddMemberMethod = getAddMemberMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.AddMemberRequest, io.github.telgate.v1.AddMemberResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AddMember"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.AddMemberRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.AddMemberResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("AddMember"))
              .build();
        }
      }
    }
    return getAddMemberMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.RemoveMemberRequest,
      io.github.telgate.v1.RemoveMemberResponse> getRemoveMemberMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RemoveMember",
      requestType = io.github.telgate.v1.RemoveMemberRequest.class,
      responseType = io.github.telgate.v1.RemoveMemberResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.RemoveMemberRequest,
      io.github.telgate.v1.RemoveMemberResponse> getRemoveMemberMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.RemoveMemberRequest, io.github.telgate.v1.RemoveMemberResponse> getRemoveMemberMethod;
    if ((getRemoveMemberMethod = QueueServiceGrpc.getRemoveMemberMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getRemoveMemberMethod = QueueServiceGrpc.getRemoveMemberMethod) == null) {
          QueueServiceGrpc.getRemoveMemberMethod = getRemoveMemberMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.RemoveMemberRequest, io.github.telgate.v1.RemoveMemberResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RemoveMember"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.RemoveMemberRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.RemoveMemberResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("RemoveMember"))
              .build();
        }
      }
    }
    return getRemoveMemberMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.PauseMemberRequest,
      io.github.telgate.v1.PauseMemberResponse> getPauseMemberMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PauseMember",
      requestType = io.github.telgate.v1.PauseMemberRequest.class,
      responseType = io.github.telgate.v1.PauseMemberResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.PauseMemberRequest,
      io.github.telgate.v1.PauseMemberResponse> getPauseMemberMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.PauseMemberRequest, io.github.telgate.v1.PauseMemberResponse> getPauseMemberMethod;
    if ((getPauseMemberMethod = QueueServiceGrpc.getPauseMemberMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getPauseMemberMethod = QueueServiceGrpc.getPauseMemberMethod) == null) {
          QueueServiceGrpc.getPauseMemberMethod = getPauseMemberMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.PauseMemberRequest, io.github.telgate.v1.PauseMemberResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PauseMember"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.PauseMemberRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.PauseMemberResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("PauseMember"))
              .build();
        }
      }
    }
    return getPauseMemberMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static QueueServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<QueueServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<QueueServiceStub>() {
        @java.lang.Override
        public QueueServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new QueueServiceStub(channel, callOptions);
        }
      };
    return QueueServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static QueueServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<QueueServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<QueueServiceBlockingStub>() {
        @java.lang.Override
        public QueueServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new QueueServiceBlockingStub(channel, callOptions);
        }
      };
    return QueueServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static QueueServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<QueueServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<QueueServiceFutureStub>() {
        @java.lang.Override
        public QueueServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new QueueServiceFutureStub(channel, callOptions);
        }
      };
    return QueueServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Call queues, their members (agents) and waiting callers. Asterisk (app_queue
   * over AMI) and Simotel; Sippy answers UNIMPLEMENTED
   * (ERROR_REASON_NOT_SUPPORTED). Every request's `backend` (at most 64
   * characters) is the default backend when empty. Queue names and member
   * interfaces are at most 80 characters (INVALID_ARGUMENT beyond).
   * </pre>
   */
  public static abstract class QueueServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Lists queues with their summary figures, a page at a time (asks the PBX
     * each time).
     * </pre>
     */
    public void listQueues(io.github.telgate.v1.ListQueuesRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ListQueuesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListQueuesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one queue with its members and waiting callers; NOT_FOUND
     * (ERROR_REASON_PBX_REJECTED, `queue`) when the PBX has no such queue.
     * </pre>
     */
    public void getQueue(io.github.telgate.v1.GetQueueRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.GetQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * Adds a member to a queue (Asterisk QueueAdd; Simotel addagent).
     * ALREADY_EXISTS (ERROR_REASON_PBX_REJECTED) when it is already a member;
     * Asterisk: NOT_FOUND for an unknown queue.
     * </pre>
     */
    public void addMember(io.github.telgate.v1.AddMemberRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.AddMemberResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAddMemberMethod(), responseObserver);
    }

    /**
     * <pre>
     * Removes a member from a queue (Asterisk QueueRemove; Simotel
     * removeagent). Asterisk: NOT_FOUND (ERROR_REASON_PBX_REJECTED) when it is
     * not a member or the queue is unknown.
     * </pre>
     */
    public void removeMember(io.github.telgate.v1.RemoveMemberRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.RemoveMemberResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRemoveMemberMethod(), responseObserver);
    }

    /**
     * <pre>
     * Pauses or unpauses a member (Asterisk QueuePause; Simotel
     * pauseagent / resumeagent).
     * </pre>
     */
    public void pauseMember(io.github.telgate.v1.PauseMemberRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.PauseMemberResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPauseMemberMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getListQueuesMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.ListQueuesRequest,
                io.github.telgate.v1.ListQueuesResponse>(
                  this, METHODID_LIST_QUEUES)))
          .addMethod(
            getGetQueueMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.GetQueueRequest,
                io.github.telgate.v1.GetQueueResponse>(
                  this, METHODID_GET_QUEUE)))
          .addMethod(
            getAddMemberMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.AddMemberRequest,
                io.github.telgate.v1.AddMemberResponse>(
                  this, METHODID_ADD_MEMBER)))
          .addMethod(
            getRemoveMemberMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.RemoveMemberRequest,
                io.github.telgate.v1.RemoveMemberResponse>(
                  this, METHODID_REMOVE_MEMBER)))
          .addMethod(
            getPauseMemberMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.PauseMemberRequest,
                io.github.telgate.v1.PauseMemberResponse>(
                  this, METHODID_PAUSE_MEMBER)))
          .build();
    }
  }

  /**
   * <pre>
   * Call queues, their members (agents) and waiting callers. Asterisk (app_queue
   * over AMI) and Simotel; Sippy answers UNIMPLEMENTED
   * (ERROR_REASON_NOT_SUPPORTED). Every request's `backend` (at most 64
   * characters) is the default backend when empty. Queue names and member
   * interfaces are at most 80 characters (INVALID_ARGUMENT beyond).
   * </pre>
   */
  public static final class QueueServiceStub extends io.grpc.stub.AbstractAsyncStub<QueueServiceStub> {
    private QueueServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected QueueServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new QueueServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Lists queues with their summary figures, a page at a time (asks the PBX
     * each time).
     * </pre>
     */
    public void listQueues(io.github.telgate.v1.ListQueuesRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ListQueuesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListQueuesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one queue with its members and waiting callers; NOT_FOUND
     * (ERROR_REASON_PBX_REJECTED, `queue`) when the PBX has no such queue.
     * </pre>
     */
    public void getQueue(io.github.telgate.v1.GetQueueRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.GetQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Adds a member to a queue (Asterisk QueueAdd; Simotel addagent).
     * ALREADY_EXISTS (ERROR_REASON_PBX_REJECTED) when it is already a member;
     * Asterisk: NOT_FOUND for an unknown queue.
     * </pre>
     */
    public void addMember(io.github.telgate.v1.AddMemberRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.AddMemberResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAddMemberMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Removes a member from a queue (Asterisk QueueRemove; Simotel
     * removeagent). Asterisk: NOT_FOUND (ERROR_REASON_PBX_REJECTED) when it is
     * not a member or the queue is unknown.
     * </pre>
     */
    public void removeMember(io.github.telgate.v1.RemoveMemberRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.RemoveMemberResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRemoveMemberMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Pauses or unpauses a member (Asterisk QueuePause; Simotel
     * pauseagent / resumeagent).
     * </pre>
     */
    public void pauseMember(io.github.telgate.v1.PauseMemberRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.PauseMemberResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPauseMemberMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Call queues, their members (agents) and waiting callers. Asterisk (app_queue
   * over AMI) and Simotel; Sippy answers UNIMPLEMENTED
   * (ERROR_REASON_NOT_SUPPORTED). Every request's `backend` (at most 64
   * characters) is the default backend when empty. Queue names and member
   * interfaces are at most 80 characters (INVALID_ARGUMENT beyond).
   * </pre>
   */
  public static final class QueueServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<QueueServiceBlockingStub> {
    private QueueServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected QueueServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new QueueServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Lists queues with their summary figures, a page at a time (asks the PBX
     * each time).
     * </pre>
     */
    public io.github.telgate.v1.ListQueuesResponse listQueues(io.github.telgate.v1.ListQueuesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListQueuesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one queue with its members and waiting callers; NOT_FOUND
     * (ERROR_REASON_PBX_REJECTED, `queue`) when the PBX has no such queue.
     * </pre>
     */
    public io.github.telgate.v1.GetQueueResponse getQueue(io.github.telgate.v1.GetQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Adds a member to a queue (Asterisk QueueAdd; Simotel addagent).
     * ALREADY_EXISTS (ERROR_REASON_PBX_REJECTED) when it is already a member;
     * Asterisk: NOT_FOUND for an unknown queue.
     * </pre>
     */
    public io.github.telgate.v1.AddMemberResponse addMember(io.github.telgate.v1.AddMemberRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAddMemberMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes a member from a queue (Asterisk QueueRemove; Simotel
     * removeagent). Asterisk: NOT_FOUND (ERROR_REASON_PBX_REJECTED) when it is
     * not a member or the queue is unknown.
     * </pre>
     */
    public io.github.telgate.v1.RemoveMemberResponse removeMember(io.github.telgate.v1.RemoveMemberRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRemoveMemberMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Pauses or unpauses a member (Asterisk QueuePause; Simotel
     * pauseagent / resumeagent).
     * </pre>
     */
    public io.github.telgate.v1.PauseMemberResponse pauseMember(io.github.telgate.v1.PauseMemberRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPauseMemberMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Call queues, their members (agents) and waiting callers. Asterisk (app_queue
   * over AMI) and Simotel; Sippy answers UNIMPLEMENTED
   * (ERROR_REASON_NOT_SUPPORTED). Every request's `backend` (at most 64
   * characters) is the default backend when empty. Queue names and member
   * interfaces are at most 80 characters (INVALID_ARGUMENT beyond).
   * </pre>
   */
  public static final class QueueServiceFutureStub extends io.grpc.stub.AbstractFutureStub<QueueServiceFutureStub> {
    private QueueServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected QueueServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new QueueServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Lists queues with their summary figures, a page at a time (asks the PBX
     * each time).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.ListQueuesResponse> listQueues(
        io.github.telgate.v1.ListQueuesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListQueuesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one queue with its members and waiting callers; NOT_FOUND
     * (ERROR_REASON_PBX_REJECTED, `queue`) when the PBX has no such queue.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.GetQueueResponse> getQueue(
        io.github.telgate.v1.GetQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Adds a member to a queue (Asterisk QueueAdd; Simotel addagent).
     * ALREADY_EXISTS (ERROR_REASON_PBX_REJECTED) when it is already a member;
     * Asterisk: NOT_FOUND for an unknown queue.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.AddMemberResponse> addMember(
        io.github.telgate.v1.AddMemberRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAddMemberMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Removes a member from a queue (Asterisk QueueRemove; Simotel
     * removeagent). Asterisk: NOT_FOUND (ERROR_REASON_PBX_REJECTED) when it is
     * not a member or the queue is unknown.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.RemoveMemberResponse> removeMember(
        io.github.telgate.v1.RemoveMemberRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRemoveMemberMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Pauses or unpauses a member (Asterisk QueuePause; Simotel
     * pauseagent / resumeagent).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.PauseMemberResponse> pauseMember(
        io.github.telgate.v1.PauseMemberRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPauseMemberMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_LIST_QUEUES = 0;
  private static final int METHODID_GET_QUEUE = 1;
  private static final int METHODID_ADD_MEMBER = 2;
  private static final int METHODID_REMOVE_MEMBER = 3;
  private static final int METHODID_PAUSE_MEMBER = 4;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final QueueServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(QueueServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_LIST_QUEUES:
          serviceImpl.listQueues((io.github.telgate.v1.ListQueuesRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.ListQueuesResponse>) responseObserver);
          break;
        case METHODID_GET_QUEUE:
          serviceImpl.getQueue((io.github.telgate.v1.GetQueueRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.GetQueueResponse>) responseObserver);
          break;
        case METHODID_ADD_MEMBER:
          serviceImpl.addMember((io.github.telgate.v1.AddMemberRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.AddMemberResponse>) responseObserver);
          break;
        case METHODID_REMOVE_MEMBER:
          serviceImpl.removeMember((io.github.telgate.v1.RemoveMemberRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.RemoveMemberResponse>) responseObserver);
          break;
        case METHODID_PAUSE_MEMBER:
          serviceImpl.pauseMember((io.github.telgate.v1.PauseMemberRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.PauseMemberResponse>) responseObserver);
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

  private static abstract class QueueServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    QueueServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.github.telgate.v1.QueuesProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("QueueService");
    }
  }

  private static final class QueueServiceFileDescriptorSupplier
      extends QueueServiceBaseDescriptorSupplier {
    QueueServiceFileDescriptorSupplier() {}
  }

  private static final class QueueServiceMethodDescriptorSupplier
      extends QueueServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    QueueServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (QueueServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new QueueServiceFileDescriptorSupplier())
              .addMethod(getListQueuesMethod())
              .addMethod(getGetQueueMethod())
              .addMethod(getAddMemberMethod())
              .addMethod(getRemoveMemberMethod())
              .addMethod(getPauseMemberMethod())
              .build();
        }
      }
    }
    return result;
  }
}
