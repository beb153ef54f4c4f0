package io.github.telgate.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Places, ends, moves and lists calls. Every request names a backend
 * (`backend`, at most 64 characters; empty means the gateway's default
 * backend); an unknown one is NOT_FOUND (ERROR_REASON_BACKEND_NOT_FOUND), one
 * whose kind cannot do the RPC is UNIMPLEMENTED (ERROR_REASON_NOT_SUPPORTED).
 * Asterisk backends do every RPC here; Simotel does Originate, ListChannels
 * and GetChannel; Sippy none.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: telgate/v1/calls.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class CallControlServiceGrpc {

  private CallControlServiceGrpc() {}

  public static final String SERVICE_NAME = "telgate.v1.CallControlService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.OriginateRequest,
      io.github.telgate.v1.OriginateResponse> getOriginateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Originate",
      requestType = io.github.telgate.v1.OriginateRequest.class,
      responseType = io.github.telgate.v1.OriginateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.OriginateRequest,
      io.github.telgate.v1.OriginateResponse> getOriginateMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.OriginateRequest, io.github.telgate.v1.OriginateResponse> getOriginateMethod;
    if ((getOriginateMethod = CallControlServiceGrpc.getOriginateMethod) == null) {
      synchronized (CallControlServiceGrpc.class) {
        if ((getOriginateMethod = CallControlServiceGrpc.getOriginateMethod) == null) {
          CallControlServiceGrpc.getOriginateMethod = getOriginateMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.OriginateRequest, io.github.telgate.v1.OriginateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Originate"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.OriginateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.OriginateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CallControlServiceMethodDescriptorSupplier("Originate"))
              .build();
        }
      }
    }
    return getOriginateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.HangupRequest,
      io.github.telgate.v1.HangupResponse> getHangupMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Hangup",
      requestType = io.github.telgate.v1.HangupRequest.class,
      responseType = io.github.telgate.v1.HangupResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.HangupRequest,
      io.github.telgate.v1.HangupResponse> getHangupMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.HangupRequest, io.github.telgate.v1.HangupResponse> getHangupMethod;
    if ((getHangupMethod = CallControlServiceGrpc.getHangupMethod) == null) {
      synchronized (CallControlServiceGrpc.class) {
        if ((getHangupMethod = CallControlServiceGrpc.getHangupMethod) == null) {
          CallControlServiceGrpc.getHangupMethod = getHangupMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.HangupRequest, io.github.telgate.v1.HangupResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Hangup"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.HangupRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.HangupResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CallControlServiceMethodDescriptorSupplier("Hangup"))
              .build();
        }
      }
    }
    return getHangupMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.TransferRequest,
      io.github.telgate.v1.TransferResponse> getTransferMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Transfer",
      requestType = io.github.telgate.v1.TransferRequest.class,
      responseType = io.github.telgate.v1.TransferResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.TransferRequest,
      io.github.telgate.v1.TransferResponse> getTransferMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.TransferRequest, io.github.telgate.v1.TransferResponse> getTransferMethod;
    if ((getTransferMethod = CallControlServiceGrpc.getTransferMethod) == null) {
      synchronized (CallControlServiceGrpc.class) {
        if ((getTransferMethod = CallControlServiceGrpc.getTransferMethod) == null) {
          CallControlServiceGrpc.getTransferMethod = getTransferMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.TransferRequest, io.github.telgate.v1.TransferResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Transfer"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.TransferRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.TransferResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CallControlServiceMethodDescriptorSupplier("Transfer"))
              .build();
        }
      }
    }
    return getTransferMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.ListChannelsRequest,
      io.github.telgate.v1.ListChannelsResponse> getListChannelsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListChannels",
      requestType = io.github.telgate.v1.ListChannelsRequest.class,
      responseType = io.github.telgate.v1.ListChannelsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.ListChannelsRequest,
      io.github.telgate.v1.ListChannelsResponse> getListChannelsMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.ListChannelsRequest, io.github.telgate.v1.ListChannelsResponse> getListChannelsMethod;
    if ((getListChannelsMethod = CallControlServiceGrpc.getListChannelsMethod) == null) {
      synchronized (CallControlServiceGrpc.class) {
        if ((getListChannelsMethod = CallControlServiceGrpc.getListChannelsMethod) == null) {
          CallControlServiceGrpc.getListChannelsMethod = getListChannelsMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.ListChannelsRequest, io.github.telgate.v1.ListChannelsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListChannels"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ListChannelsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.ListChannelsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CallControlServiceMethodDescriptorSupplier("ListChannels"))
              .build();
        }
      }
    }
    return getListChannelsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.GetChannelRequest,
      io.github.telgate.v1.GetChannelResponse> getGetChannelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetChannel",
      requestType = io.github.telgate.v1.GetChannelRequest.class,
      responseType = io.github.telgate.v1.GetChannelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.GetChannelRequest,
      io.github.telgate.v1.GetChannelResponse> getGetChannelMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.GetChannelRequest, io.github.telgate.v1.GetChannelResponse> getGetChannelMethod;
    if ((getGetChannelMethod = CallControlServiceGrpc.getGetChannelMethod) == null) {
      synchronized (CallControlServiceGrpc.class) {
        if ((getGetChannelMethod = CallControlServiceGrpc.getGetChannelMethod) == null) {
          CallControlServiceGrpc.getGetChannelMethod = getGetChannelMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.GetChannelRequest, io.github.telgate.v1.GetChannelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetChannel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.GetChannelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.GetChannelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CallControlServiceMethodDescriptorSupplier("GetChannel"))
              .build();
        }
      }
    }
    return getGetChannelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.telgate.v1.SendDtmfRequest,
      io.github.telgate.v1.SendDtmfResponse> getSendDtmfMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SendDtmf",
      requestType = io.github.telgate.v1.SendDtmfRequest.class,
      responseType = io.github.telgate.v1.SendDtmfResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.telgate.v1.SendDtmfRequest,
      io.github.telgate.v1.SendDtmfResponse> getSendDtmfMethod() {
    io.grpc.MethodDescriptor<io.github.telgate.v1.SendDtmfRequest, io.github.telgate.v1.SendDtmfResponse> getSendDtmfMethod;
    if ((getSendDtmfMethod = CallControlServiceGrpc.getSendDtmfMethod) == null) {
      synchronized (CallControlServiceGrpc.class) {
        if ((getSendDtmfMethod = CallControlServiceGrpc.getSendDtmfMethod) == null) {
          CallControlServiceGrpc.getSendDtmfMethod = getSendDtmfMethod =
              io.grpc.MethodDescriptor.<io.github.telgate.v1.SendDtmfRequest, io.github.telgate.v1.SendDtmfResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SendDtmf"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.SendDtmfRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.telgate.v1.SendDtmfResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CallControlServiceMethodDescriptorSupplier("SendDtmf"))
              .build();
        }
      }
    }
    return getSendDtmfMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static CallControlServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CallControlServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CallControlServiceStub>() {
        @java.lang.Override
        public CallControlServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CallControlServiceStub(channel, callOptions);
        }
      };
    return CallControlServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static CallControlServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CallControlServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CallControlServiceBlockingStub>() {
        @java.lang.Override
        public CallControlServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CallControlServiceBlockingStub(channel, callOptions);
        }
      };
    return CallControlServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static CallControlServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CallControlServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CallControlServiceFutureStub>() {
        @java.lang.Override
        public CallControlServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CallControlServiceFutureStub(channel, callOptions);
        }
      };
    return CallControlServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Places, ends, moves and lists calls. Every request names a backend
   * (`backend`, at most 64 characters; empty means the gateway's default
   * backend); an unknown one is NOT_FOUND (ERROR_REASON_BACKEND_NOT_FOUND), one
   * whose kind cannot do the RPC is UNIMPLEMENTED (ERROR_REASON_NOT_SUPPORTED).
   * Asterisk backends do every RPC here; Simotel does Originate, ListChannels
   * and GetChannel; Sippy none.
   * </pre>
   */
  public static abstract class CallControlServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Places a call: rings `endpoint` and, when it answers, connects it to a
     * destination (an extension, or a number on a route) or runs an
     * application on it (Asterisk). Returns once the PBX has
     * accepted the request (or, with ORIGINATE_WAIT_RESULT, once the call answered
     * or failed). Retrying with the same `request_id` returns the first call.
     * Asterisk, Simotel.
     * </pre>
     */
    public void originate(io.github.telgate.v1.OriginateRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.OriginateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getOriginateMethod(), responseObserver);
    }

    /**
     * <pre>
     * Hangs a channel up. Asterisk only.
     * </pre>
     */
    public void hangup(io.github.telgate.v1.HangupRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.HangupResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getHangupMethod(), responseObserver);
    }

    /**
     * <pre>
     * Moves a call: blind, attended, or a plain redirect. Asterisk only.
     * </pre>
     */
    public void transfer(io.github.telgate.v1.TransferRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.TransferResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTransferMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists active channels from the gateway's live state (never waits on the
     * PBX), a page at a time. Asterisk, Simotel. UNAVAILABLE while an Asterisk
     * link is down or its channels are being re-read after a reconnect.
     * </pre>
     */
    public void listChannels(io.github.telgate.v1.ListChannelsRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ListChannelsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListChannelsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one active channel. Asterisk asks the PBX (AMI Status), so the
     * application, duration, bridge and variables are current (UNAVAILABLE
     * while the link is down); Simotel answers from the gateway's live state.
     * NOT_FOUND (ERROR_REASON_CHANNEL_NOT_FOUND) when there is no such channel.
     * </pre>
     */
    public void getChannel(io.github.telgate.v1.GetChannelRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.GetChannelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetChannelMethod(), responseObserver);
    }

    /**
     * <pre>
     * Plays DTMF digits into a channel (Asterisk: one PlayDTMF per digit).
     * Asterisk only.
     * </pre>
     */
    public void sendDtmf(io.github.telgate.v1.SendDtmfRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.SendDtmfResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSendDtmfMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getOriginateMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.OriginateRequest,
                io.github.telgate.v1.OriginateResponse>(
                  this, METHODID_ORIGINATE)))
          .addMethod(
            getHangupMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.HangupRequest,
                io.github.telgate.v1.HangupResponse>(
                  this, METHODID_HANGUP)))
          .addMethod(
            getTransferMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.TransferRequest,
                io.github.telgate.v1.TransferResponse>(
                  this, METHODID_TRANSFER)))
          .addMethod(
            getListChannelsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.ListChannelsRequest,
                io.github.telgate.v1.ListChannelsResponse>(
                  this, METHODID_LIST_CHANNELS)))
          .addMethod(
            getGetChannelMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.GetChannelRequest,
                io.github.telgate.v1.GetChannelResponse>(
                  this, METHODID_GET_CHANNEL)))
          .addMethod(
            getSendDtmfMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.telgate.v1.SendDtmfRequest,
                io.github.telgate.v1.SendDtmfResponse>(
                  this, METHODID_SEND_DTMF)))
          .build();
    }
  }

  /**
   * <pre>
   * Places, ends, moves and lists calls. Every request names a backend
   * (`backend`, at most 64 characters; empty means the gateway's default
   * backend); an unknown one is NOT_FOUND (ERROR_REASON_BACKEND_NOT_FOUND), one
   * whose kind cannot do the RPC is UNIMPLEMENTED (ERROR_REASON_NOT_SUPPORTED).
   * Asterisk backends do every RPC here; Simotel does Originate, ListChannels
   * and GetChannel; Sippy none.
   * </pre>
   */
  public static final class CallControlServiceStub extends io.grpc.stub.AbstractAsyncStub<CallControlServiceStub> {
    private CallControlServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CallControlServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CallControlServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Places a call: rings `endpoint` and, when it answers, connects it to a
     * destination (an extension, or a number on a route) or runs an
     * application on it (Asterisk). Returns once the PBX has
     * accepted the request (or, with ORIGINATE_WAIT_RESULT, once the call answered
     * or failed). Retrying with the same `request_id` returns the first call.
     * Asterisk, Simotel.
     * </pre>
     */
    public void originate(io.github.telgate.v1.OriginateRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.OriginateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getOriginateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Hangs a channel up. Asterisk only.
     * </pre>
     */
    public void hangup(io.github.telgate.v1.HangupRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.HangupResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getHangupMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Moves a call: blind, attended, or a plain redirect. Asterisk only.
     * </pre>
     */
    public void transfer(io.github.telgate.v1.TransferRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.TransferResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTransferMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists active channels from the gateway's live state (never waits on the
     * PBX), a page at a time. Asterisk, Simotel. UNAVAILABLE while an Asterisk
     * link is down or its channels are being re-read after a reconnect.
     * </pre>
     */
    public void listChannels(io.github.telgate.v1.ListChannelsRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.ListChannelsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListChannelsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one active channel. Asterisk asks the PBX (AMI Status), so the
     * application, duration, bridge and variables are current (UNAVAILABLE
     * while the link is down); Simotel answers from the gateway's live state.
     * NOT_FOUND (ERROR_REASON_CHANNEL_NOT_FOUND) when there is no such channel.
     * </pre>
     */
    public void getChannel(io.github.telgate.v1.GetChannelRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.GetChannelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetChannelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Plays DTMF digits into a channel (Asterisk: one PlayDTMF per digit).
     * Asterisk only.
     * </pre>
     */
    public void sendDtmf(io.github.telgate.v1.SendDtmfRequest request,
        io.grpc.stub.StreamObserver<io.github.telgate.v1.SendDtmfResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSendDtmfMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Places, ends, moves and lists calls. Every request names a backend
   * (`backend`, at most 64 characters; empty means the gateway's default
   * backend); an unknown one is NOT_FOUND (ERROR_REASON_BACKEND_NOT_FOUND), one
   * whose kind cannot do the RPC is UNIMPLEMENTED (ERROR_REASON_NOT_SUPPORTED).
   * Asterisk backends do every RPC here; Simotel does Originate, ListChannels
   * and GetChannel; Sippy none.
   * </pre>
   */
  public static final class CallControlServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<CallControlServiceBlockingStub> {
    private CallControlServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CallControlServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CallControlServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Places a call: rings `endpoint` and, when it answers, connects it to a
     * destination (an extension, or a number on a route) or runs an
     * application on it (Asterisk). Returns once the PBX has
     * accepted the request (or, with ORIGINATE_WAIT_RESULT, once the call answered
     * or failed). Retrying with the same `request_id` returns the first call.
     * Asterisk, Simotel.
     * </pre>
     */
    public io.github.telgate.v1.OriginateResponse originate(io.github.telgate.v1.OriginateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getOriginateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Hangs a channel up. Asterisk only.
     * </pre>
     */
    public io.github.telgate.v1.HangupResponse hangup(io.github.telgate.v1.HangupRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getHangupMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Moves a call: blind, attended, or a plain redirect. Asterisk only.
     * </pre>
     */
    public io.github.telgate.v1.TransferResponse transfer(io.github.telgate.v1.TransferRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTransferMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists active channels from the gateway's live state (never waits on the
     * PBX), a page at a time. Asterisk, Simotel. UNAVAILABLE while an Asterisk
     * link is down or its channels are being re-read after a reconnect.
     * </pre>
     */
    public io.github.telgate.v1.ListChannelsResponse listChannels(io.github.telgate.v1.ListChannelsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListChannelsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one active channel. Asterisk asks the PBX (AMI Status), so the
     * application, duration, bridge and variables are current (UNAVAILABLE
     * while the link is down); Simotel answers from the gateway's live state.
     * NOT_FOUND (ERROR_REASON_CHANNEL_NOT_FOUND) when there is no such channel.
     * </pre>
     */
    public io.github.telgate.v1.GetChannelResponse getChannel(io.github.telgate.v1.GetChannelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Plays DTMF digits into a channel (Asterisk: one PlayDTMF per digit).
     * Asterisk only.
     * </pre>
     */
    public io.github.telgate.v1.SendDtmfResponse sendDtmf(io.github.telgate.v1.SendDtmfRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSendDtmfMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Places, ends, moves and lists calls. Every request names a backend
   * (`backend`, at most 64 characters; empty means the gateway's default
   * backend); an unknown one is NOT_FOUND (ERROR_REASON_BACKEND_NOT_FOUND), one
   * whose kind cannot do the RPC is UNIMPLEMENTED (ERROR_REASON_NOT_SUPPORTED).
   * Asterisk backends do every RPC here; Simotel does Originate, ListChannels
   * and GetChannel; Sippy none.
   * </pre>
   */
  public static final class CallControlServiceFutureStub extends io.grpc.stub.AbstractFutureStub<CallControlServiceFutureStub> {
    private CallControlServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CallControlServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CallControlServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Places a call: rings `endpoint` and, when it answers, connects it to a
     * destination (an extension, or a number on a route) or runs an
     * application on it (Asterisk). Returns once the PBX has
     * accepted the request (or, with ORIGINATE_WAIT_RESULT, once the call answered
     * or failed). Retrying with the same `request_id` returns the first call.
     * Asterisk, Simotel.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.OriginateResponse> originate(
        io.github.telgate.v1.OriginateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getOriginateMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Hangs a channel up. Asterisk only.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.HangupResponse> hangup(
        io.github.telgate.v1.HangupRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getHangupMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Moves a call: blind, attended, or a plain redirect. Asterisk only.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.TransferResponse> transfer(
        io.github.telgate.v1.TransferRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTransferMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists active channels from the gateway's live state (never waits on the
     * PBX), a page at a time. Asterisk, Simotel. UNAVAILABLE while an Asterisk
     * link is down or its channels are being re-read after a reconnect.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.ListChannelsResponse> listChannels(
        io.github.telgate.v1.ListChannelsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListChannelsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one active channel. Asterisk asks the PBX (AMI Status), so the
     * application, duration, bridge and variables are current (UNAVAILABLE
     * while the link is down); Simotel answers from the gateway's live state.
     * NOT_FOUND (ERROR_REASON_CHANNEL_NOT_FOUND) when there is no such channel.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.GetChannelResponse> getChannel(
        io.github.telgate.v1.GetChannelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetChannelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Plays DTMF digits into a channel (Asterisk: one PlayDTMF per digit).
     * Asterisk only.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.telgate.v1.SendDtmfResponse> sendDtmf(
        io.github.telgate.v1.SendDtmfRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSendDtmfMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_ORIGINATE = 0;
  private static final int METHODID_HANGUP = 1;
  private static final int METHODID_TRANSFER = 2;
  private static final int METHODID_LIST_CHANNELS = 3;
  private static final int METHODID_GET_CHANNEL = 4;
  private static final int METHODID_SEND_DTMF = 5;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final CallControlServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(CallControlServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_ORIGINATE:
          serviceImpl.originate((io.github.telgate.v1.OriginateRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.OriginateResponse>) responseObserver);
          break;
        case METHODID_HANGUP:
          serviceImpl.hangup((io.github.telgate.v1.HangupRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.HangupResponse>) responseObserver);
          break;
        case METHODID_TRANSFER:
          serviceImpl.transfer((io.github.telgate.v1.TransferRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.TransferResponse>) responseObserver);
          break;
        case METHODID_LIST_CHANNELS:
          serviceImpl.listChannels((io.github.telgate.v1.ListChannelsRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.ListChannelsResponse>) responseObserver);
          break;
        case METHODID_GET_CHANNEL:
          serviceImpl.getChannel((io.github.telgate.v1.GetChannelRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.GetChannelResponse>) responseObserver);
          break;
        case METHODID_SEND_DTMF:
          serviceImpl.sendDtmf((io.github.telgate.v1.SendDtmfRequest) request,
              (io.grpc.stub.StreamObserver<io.github.telgate.v1.SendDtmfResponse>) responseObserver);
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

  private static abstract class CallControlServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    CallControlServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.github.telgate.v1.CallsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("CallControlService");
    }
  }

  private static final class CallControlServiceFileDescriptorSupplier
      extends CallControlServiceBaseDescriptorSupplier {
    CallControlServiceFileDescriptorSupplier() {}
  }

  private static final class CallControlServiceMethodDescriptorSupplier
      extends CallControlServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    CallControlServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (CallControlServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new CallControlServiceFileDescriptorSupplier())
              .addMethod(getOriginateMethod())
              .addMethod(getHangupMethod())
              .addMethod(getTransferMethod())
              .addMethod(getListChannelsMethod())
              .addMethod(getGetChannelMethod())
              .addMethod(getSendDtmfMethod())
              .build();
        }
      }
    }
    return result;
  }
}
