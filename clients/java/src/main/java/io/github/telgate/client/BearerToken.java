package io.github.telgate.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Call credentials that send a telgate bearer token in the {@code authorization} metadata
 * (scheme Bearer) on every call they are attached to.
 *
 * <p>Unlike most token credentials, these are sent over plaintext connections as well as TLS
 * (a gateway on loopback or behind a TLS-terminating proxy needs them too); use TLS whenever the
 * token crosses a network.
 *
 * <pre>{@code
 * CallControlServiceGrpc.CallControlServiceBlockingStub calls =
 *     CallControlServiceGrpc.newBlockingStub(channel)
 *         .withCallCredentials(new BearerToken(System.getenv("TELGATE_TOKEN")));
 * }</pre>
 *
 * {@link Telgate#channel(String, java.nio.file.Path, String)} attaches them to every call of a
 * channel instead.
 */
public final class BearerToken extends CallCredentials {
  /** The metadata key the gateway reads the token from. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final String header;

  /**
   * @param token the token as issued (without the scheme prefix)
   * @throws IllegalArgumentException if the token is empty or holds characters a header cannot
   */
  public BearerToken(String token) {
    Objects.requireNonNull(token, "token");
    if (token.isEmpty()) {
      throw new IllegalArgumentException("the bearer token is empty");
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        // The message never quotes the token: it is a secret.
        throw new IllegalArgumentException(
            "the bearer token holds a character that is not printable ASCII (at index " + i + ")");
      }
    }
    this.header = "Bearer " + token;
  }

  @Override
  public void applyRequestMetadata(
      RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, header);
    applier.apply(headers);
  }

  @Override
  public void thisUsesUnstableApi() {}

  /** Never shows the token. */
  @Override
  public String toString() {
    return "BearerToken[***]";
  }
}
