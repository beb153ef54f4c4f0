package io.github.telgate.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Call detail records from every backend, in one shape, exactly once.
 * The gateway stores each CDR once, under a cursor (a uint64 that grows with
 * every stored CDR or gap notice), whichever way it arrived (AMI `Cdr`
 * events, Simotel webhooks and reports, Sippy CDR pages, backfills). A client
 * that keeps the greatest cursor it processed and resumes StreamCdrs from it
 * gets every later CDR exactly once, across client and gateway restarts.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: telgate/v1/cdrs.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class CdrServiceGrpc {

  private CdrServiceGrpc() {}

  public static final String SERVICE_NAME = "telgate.v1.CdrService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.ListCdrsRequest,
      io.github.telgate.v1.ListCdrsResponse> getListCdrsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListCdrs",
      requestType = io.github.telgate.v1.ListCdrsRequest.class,
      responseType = io.github.telgate.v1.ListCdrsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.ListCdrsRequest,
      io.github.telgate.v1.ListCdrsResponse> getListCdrsMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.ListCdrsRequest, io.github.telgate.v1.ListCdrsResponse> getListCdrsMethod;
    if ((getListCdrsMethod = CdrServiceGrpc.getListCdrsMethod) == null) {
      synchronized (CdrServiceGrpc.class) {
        if ((getListCdrsMethod = CdrServiceGrpc.getListCdrsMethod) == null) {
          CdrServiceGrpc.getListCdrsMethod = getListCdrsMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.ListCdrsRequest, io.github.telgate.v1.ListCdrsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListCdrs"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ListCdrsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ListCdrsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CdrServiceMethodDescriptorSupplier("ListCdrs"))
              .build();
        }
      }
    }
    return getListCdrsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.StreamCdrsRequest,
      io.github.telgate.v1.StreamCdrsResponse> getStreamCdrsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StreamCdrs",
      requestType = io.github.telgate.v1.StreamCdrsRequest.class,
      responseType = io.github.telgate.v1.StreamCdrsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.StreamCdrsRequest,
      io.github.telgate.v1.StreamCdrsResponse> getStreamCdrsMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.StreamCdrsRequest, io.github.telgate.v1.StreamCdrsResponse> getStreamCdrsMethod;
    if ((getStreamCdrsMethod = CdrServiceGrpc.getStreamCdrsMethod) == null) {
      synchronized (CdrServiceGrpc.class) {
        if ((getStreamCdrsMethod = CdrServiceGrpc.getStreamCdrsMethod) == null) {
          CdrServiceGrpc.getStreamCdrsMethod = getStreamCdrsMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.StreamCdrsRequest, io.github.telgate.v1.StreamCdrsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StreamCdrs"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.StreamCdrsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.StreamCdrsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CdrServiceMethodDescriptorSupplier("StreamCdrs"))
              .build();
        }
      }
    }
    return getStreamCdrsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static CdrServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CdrServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CdrServiceStub>() {
        @java.lang.Override
        public CdrServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CdrServiceStub(channel, callOptions);
        }
      };
    return CdrServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static CdrServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CdrServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CdrServiceBlockingStub>() {
        @java.lang.Override
        public CdrServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CdrServiceBlockingStub(channel, callOptions);
        }
      };
    return CdrServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static CdrServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CdrServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CdrServiceFutureStub>() {
        @java.lang.Override
        public CdrServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CdrServiceFutureStub(channel, callOptions);
        }
      };
    return CdrServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Call detail records from every backend, in one shape, exactly once.
   * The gateway stores each CDR once, under a cursor (a uint64 that grows with
   * every stored CDR or gap notice), whichever way it arrived (AMI `Cdr`
   * events, Simotel webhooks and reports, Sippy CDR pages, backfills). A client
   * that keeps the greatest cursor it processed and resumes StreamCdrs from it
   * gets every later CDR exactly once, across client and gateway restarts.
   * </pre>
   */
  public static abstract class CdrServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * A page of stored CDRs, oldest cursor first (or, with `source` SWITCH, a
     * page read from the switch itself). INVALID_ARGUMENT for a negative
     * page_size, a page_token this gateway did not return or sent with another
     * filter, an UNSPECIFIED or unknown disposition, or start_time_to before
     * start_time_from.
     * </pre>
     */
    public void listCdrs(io.github.telgate.v1.ListCdrsRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ListCdrsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListCdrsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Replays stored CDRs after a cursor, then (with `follow`) streams new ones
     * as they are stored, each once, in cursor order, with gap notices where
     * CDRs may be missing. OUT_OF_RANGE (ErrorInfo reason
     * ERROR_REASON_CURSOR_EXPIRED, metadata `oldest_cursor`, `pruned_through`
     * or `last_cursor`, `after_cursor`) when the CDRs right after
     * `after_cursor` were pruned by retention, or when `after_cursor` is beyond
     * the store's newest cursor (another database); INVALID_ARGUMENT as for
     * ListCdrs's filter, for a negative max_batch_size, or for an
     * `after_cursor` beyond 2^63 - 1.
     * </pre>
     */
    public void streamCdrs(io.github.telgate.v1.StreamCdrsRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.StreamCdrsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStreamCdrsMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getListCdrsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.ListCdrsRequest,
                io.github.telgate.v1.ListCdrsResponse>(
                  this, METHODID_LIST_CDRS)))
          .addMethod(
            getStreamCdrsMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                io.github.telgate.v1.StreamCdrsRequest,
                io.github.telgate.v1.StreamCdrsResponse>(
                  this, METHODID_STREAM_CDRS)))
          .build();
    }
  }

  /**
   * <pre>
   * Call detail records from every backend, in one shape, exactly once.
   * The gateway stores each CDR once, under a cursor (a uint64 that grows with
   * every stored CDR or gap notice), whichever way it arrived (AMI `Cdr`
   * events, Simotel webhooks and reports, Sippy CDR pages, backfills). A client
   * that keeps the greatest cursor it processed and resumes StreamCdrs from it
   * gets every later CDR exactly once, across client and gateway restarts.
   * </pre>
   */
  public static final class CdrServiceStub extends io.grpc.stub.AbstractAsyncStub<CdrServiceStub> {
    private CdrServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CdrServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CdrServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * A page of stored CDRs, oldest cursor first (or, with `source` SWITCH, a
     * page read from the switch itself). INVALID_ARGUMENT for a negative
     * page_size, a page_token this gateway did not return or sent with another
     * filter, an UNSPECIFIED or unknown disposition, or start_time_to before
     * start_time_from.
     * </pre>
     */
    public void listCdrs(io.github.telgate.v1.ListCdrsRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ListCdrsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListCdrsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Replays stored CDRs after a cursor, then (with `follow`) streams new ones
     * as they are stored, each once, in cursor order, with gap notices where
     * CDRs may be missing. OUT_OF_RANGE (ErrorInfo reason
     * ERROR_REASON_CURSOR_EXPIRED, metadata `oldest_cursor`, `pruned_through`
     * or `last_cursor`, `after_cursor`) when the CDRs right after
     * `after_cursor` were pruned by retention, or when `after_cursor` is beyond
     * the store's newest cursor (another database); INVALID_ARGUMENT as for
     * ListCdrs's filter, for a negative max_batch_size, or for an
     * `after_cursor` beyond 2^63 - 1.
     * </pre>
     */
    public void streamCdrs(io.github.telgate.v1.StreamCdrsRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.StreamCdrsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getStreamCdrsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Call detail records from every backend, in one shape, exactly once.
   * The gateway stores each CDR once, under a cursor (a uint64 that grows with
   * every stored CDR or gap notice), whichever way it arrived (AMI `Cdr`
   * events, Simotel webhooks and reports, Sippy CDR pages, backfills). A client
   * that keeps the greatest cursor it processed and resumes StreamCdrs from it
   * gets every later CDR exactly once, across client and gateway restarts.
   * </pre>
   */
  public static final class CdrServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<CdrServiceBlockingStub> {
    private CdrServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CdrServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CdrServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * A page of stored CDRs, oldest cursor first (or, with `source` SWITCH, a
     * page read from the switch itself). INVALID_ARGUMENT for a negative
     * page_size, a page_token this gateway did not return or sent with another
     * filter, an UNSPECIFIED or unknown disposition, or start_time_to before
     * start_time_from.
     * </pre>
     */
    public io.github.telgate.v1.ListCdrsResponse listCdrs(io.github.telgate.v1.ListCdrsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListCdrsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Replays stored CDRs after a cursor, then (with `follow`) streams new ones
     * as they are stored, each once, in cursor order, with gap notices where
     * CDRs may be missing. OUT_OF_RANGE (ErrorInfo reason
     * ERROR_REASON_CURSOR_EXPIRED, metadata `oldest_cursor`, `pruned_through`
     * or `last_cursor`, `after_cursor`) when the CDRs right after
     * `after_cursor` were pruned by retention, or when `after_cursor` is beyond
     * the store's newest cursor (another database); INVALID_ARGUMENT as for
     * ListCdrs's filter, for a negative max_batch_size, or for an
     * `after_cursor` beyond 2^63 - 1.
     * </pre>
     */
    public java.util.Iterator<io.github.telgate.v1.StreamCdrsResponse> streamCdrs(
        io.github.telgate.v1.StreamCdrsRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getStreamCdrsMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Call detail records from every backend, in one shape, exactly once.
   * The gateway stores each CDR once, under a cursor (a uint64 that grows with
   * every stored CDR or gap notice), whichever way it arrived (AMI `Cdr`
   * events, Simotel webhooks and reports, Sippy CDR pages, backfills). A client
   * that keeps the greatest cursor it processed and resumes StreamCdrs from it
   * gets every later CDR exactly once, across client and gateway restarts.
   * </pre>
   */
  public static final class CdrServiceFutureStub extends io.grpc.stub.AbstractFutureStub<CdrServiceFutureStub> {
    private CdrServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CdrServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CdrServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * A page of stored CDRs, oldest cursor first (or, with `source` SWITCH, a
     * page read from the switch itself). INVALID_ARGUMENT for a negative
     * page_size, a page_token this gateway did not return or sent with another
     * filter, an UNSPECIFIED or unknown disposition, or start_time_to before
     * start_time_from.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.ListCdrsResponse> listCdrs(
        io.github.telgate.v1.ListCdrsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListCdrsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_LIST_CDRS = 0;
  private static final int METHODID_STREAM_CDRS = 1;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final CdrServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(CdrServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_LIST_CDRS:
          serviceImpl.listCdrs((io.github.telgate.v1.ListCdrsRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.ListCdrsResponse>) responseObserver);
          break;
        case METHODID_STREAM_CDRS:
          serviceImpl.streamCdrs((io.github.telgate.v1.StreamCdrsRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.StreamCdrsResponse>) responseObserver);
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

  private static abstract class CdrServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    CdrServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.github.telgate.v1.CdrsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("CdrService");
    }
  }

  private static final class CdrServiceFileDescriptorSupplier
      extends CdrServiceBaseDescriptorSupplier {
    CdrServiceFileDescriptorSupplier() {}
  }

  private static final class CdrServiceMethodDescriptorSupplier
      extends CdrServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    CdrServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (CdrServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new CdrServiceFileDescriptorSupplier())
              .addMethod(getListCdrsMethod())
              .addMethod(getStreamCdrsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
