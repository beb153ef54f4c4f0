package io.github.telgate.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.TlsChannelCredentials;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Connecting to a telgate gateway: a channel (TLS or plaintext) that authenticates every call,
 * and the {@link ErrorInfo} of a failed call.
 *
 * <p>The generated stubs ({@code io.github.telgate.v1.*Grpc}) do the rest:
 *
 * <pre>{@code
 * ManagedChannel channel = Telgate.channel("gateway.example.com:50051",
 *     Path.of("/etc/telgate/ca.pem"), System.getenv("TELGATE_TOKEN"));
 * CallControlServiceGrpc.CallControlServiceBlockingStub calls =
 *     CallControlServiceGrpc.newBlockingStub(channel);
 * ...
 * channel.shutdown();
 * }</pre>
 */
public final class Telgate {
  /** The gateway's ErrorInfo domain. */
  public static final String ERROR_DOMAIN = "telgate.v1";

  private Telgate() {}

  /**
   * A channel to the gateway at {@code target}.
   *
   * @param target {@code host:port}, or any target grpc-java resolves ({@code dns:///host:port})
   * @param caFile the PEM file of the CA the gateway's certificate chains to: the channel uses
   *     TLS; {@code null}: plaintext (a gateway on loopback, or for tests)
   * @param token the bearer token sent on every call; {@code null} or empty: none (then attach
   *     a {@link BearerToken} per stub)
   * @return the channel; shut it down when done
   * @throws UncheckedIOException if the CA file cannot be read or parsed
   * @throws IllegalStateException if TLS is asked for but netty offers no ALPN (Debian's netty
   *     needs netty-tcnative with its native library on the class path)
   */
  public static ManagedChannel channel(String target, Path caFile, String token) {
    ChannelCredentials credentials;
    if (caFile != null) {
      try {
        credentials = TlsChannelCredentials.newBuilder().trustManager(caFile.toFile()).build();
      } catch (IOException e) {
        throw new UncheckedIOException(
            new IOException("cannot use " + caFile + " as the CA certificate: " + e.getMessage(), e));
      }
    } else {
      credentials = InsecureChannelCredentials.create();
    }
    ManagedChannelBuilder<?> builder;
    try {
      builder = Grpc.newChannelBuilder(target, credentials);
    } catch (UnsupportedOperationException e) {
      // Debian's netty-handler has no JDK ALPN, which gRPC over TLS needs.
      throw new IllegalStateException(
          "TLS needs ALPN, which this netty offers only through OpenSSL: put netty-tcnative"
              + " and its native library on the class path (see the telgate Java client's"
              + " README)",
          e);
    }
    if (token != null && !token.isEmpty()) {
      builder.intercept(withCredentials(new BearerToken(token)));
    }
    return builder.build();
  }

  /**
   * A channel configured from the environment, as the examples are: {@code TELGATE_TARGET}
   * (default {@code 127.0.0.1:50051}), {@code TELGATE_TOKEN} (the bearer token) and {@code
   * TELGATE_CA_FILE} (set: TLS trusting that CA; unset: plaintext).
   *
   * @return the channel; shut it down when done
   */
  public static ManagedChannel channelFromEnvironment() {
    String target = System.getenv("TELGATE_TARGET");
    if (target == null || target.isEmpty()) {
      target = "127.0.0.1:50051";
    }
    String caFile = System.getenv("TELGATE_CA_FILE");
    return channel(
        target,
        caFile == null || caFile.isEmpty() ? null : Path.of(caFile),
        System.getenv("TELGATE_TOKEN"));
  }

  /**
   * An interceptor that attaches {@code credentials} to every call that has none of its own (a
   * stub's {@code withCallCredentials} still wins).
   *
   * @param credentials e.g. a {@link BearerToken}
   * @return the interceptor, for {@code ManagedChannelBuilder.intercept} or {@code
   *     ClientInterceptors.intercept}
   */
  public static ClientInterceptor withCredentials(CallCredentials credentials) {
    return new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
          MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
        CallOptions withCredentials =
            options.getCredentials() == null ? options.withCallCredentials(credentials) : options;
        return next.newCall(method, withCredentials);
      }
    };
  }

  /**
   * The {@link ErrorInfo} the gateway attached to a failed call: {@code getReason()} is the name
   * of an {@code io.github.telgate.v1.ErrorReason} value (e.g. {@code
   * ERROR_REASON_INVALID_FIELD}), {@code getMetadataMap()} its details (e.g. {@code field}).
   *
   * @param error what the stub threw ({@code StatusRuntimeException}) or a stream observer got
   * @return the ErrorInfo of domain {@value #ERROR_DOMAIN}; empty when the error carries none
   */
  public static Optional<ErrorInfo> errorInfo(Throwable error) {
    com.google.rpc.Status status = StatusProto.fromThrowable(error);
    if (status == null) {
      return Optional.empty();
    }
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          ErrorInfo info = detail.unpack(ErrorInfo.class);
          if (ERROR_DOMAIN.equals(info.getDomain())) {
            return Optional.of(info);
          }
        } catch (InvalidProtocolBufferException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }
}
