/**
 * `connect()`: one grpc-js channel to a telgate gateway with a promise-based
 * client per service, the bearer token on every call, TLS when a CA is given.
 * The clients are built at run time from the generated service definitions
 * (`CallControlServiceDefinition`, ...), so they follow the proto exactly.
 */
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import type { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { BackendServiceDefinition } from "./gen/telgate/v1/backends";
import { CallControlServiceDefinition } from "./gen/telgate/v1/calls";
import { CdrServiceDefinition } from "./gen/telgate/v1/cdrs";
import { EventServiceDefinition } from "./gen/telgate/v1/events";
import { PlaybackServiceDefinition } from "./gen/telgate/v1/playback";
import { QueueServiceDefinition } from "./gen/telgate/v1/queues";
import { CallRoutingServiceDefinition } from "./gen/telgate/v1/routing";
import { SupervisionServiceDefinition } from "./gen/telgate/v1/supervision";

/** A message type as ts-proto generates it. */
export interface MessageType<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array, length?: number): T;
  fromPartial(object: any): T;
}

/** One RPC of a generated `...ServiceDefinition`. */
export interface MethodDefinition {
  readonly name: string;
  readonly requestType: MessageType<any>;
  readonly requestStream: boolean;
  readonly responseType: MessageType<any>;
  readonly responseStream: boolean;
}

/** A generated `...ServiceDefinition` (ts-proto `outputServices=generic-definitions`). */
export interface ServiceDefinition {
  readonly name: string;
  readonly fullName: string;
  readonly methods: { readonly [method: string]: MethodDefinition };
}

type Builtin = Date | Function | Uint8Array | string | number | boolean | bigint | undefined;

/**
 * A message with every field optional (what `Message.fromPartial` takes):
 * unset fields get their proto3 defaults. 64-bit integers may be given as
 * bigint, number or decimal string.
 */
export type PartialMessage<T> = T extends bigint
  ? string | number | bigint
  : T extends Builtin
    ? T
    : T extends Array<infer U>
      ? Array<PartialMessage<U>>
      : T extends ReadonlyArray<infer U>
        ? ReadonlyArray<PartialMessage<U>>
        : T extends { $case: string; value: unknown }
          ? { $case: T["$case"]; value?: PartialMessage<T["value"]> }
          : T extends {}
            ? { [K in keyof T]?: PartialMessage<T[K]> }
            : Partial<T>;

/** Per-call options of the promise clients. */
export interface CallOptions {
  /** When the call fails with DEADLINE_EXCEEDED. */
  deadline?: Date;
  /** Milliseconds from now until DEADLINE_EXCEEDED (instead of `deadline`). */
  timeoutMs?: number;
  /** Aborting it cancels the call (a unary call then rejects with CANCELLED; a stream just ends). */
  signal?: AbortSignal;
  /** Extra metadata for this call (the token is added by the client). */
  metadata?: grpc.Metadata;
}

/** A server stream: iterate it with `for await`; leaving the loop early cancels the call. */
export interface ResponseStream<T> extends AsyncIterable<T> {
  /** Ends the call now; an iteration in progress then ends without an error. */
  cancel(): void;
  /** The underlying grpc-js call (its `metadata` and `status` events). */
  readonly call: grpc.ClientReadableStream<T>;
}

type Message<M> = M extends { decode(input: any, length?: number): infer T } ? T : never;

/** A unary RPC: the request (fields optional), then a promise of the response. */
export type UnaryMethod<Req, Res> = (request?: PartialMessage<Req>, options?: CallOptions) => Promise<Res>;
/** A server-streaming RPC: the request (fields optional), then an async iterable of responses. */
export type ServerStreamMethod<Req, Res> = (request?: PartialMessage<Req>, options?: CallOptions) => ResponseStream<Res>;
/** A bidirectional RPC: the grpc-js duplex stream (write full messages, e.g. `RouteRequest.fromPartial(...)`). */
export type BidiStreamMethod<Req, Res> = (options?: CallOptions) => grpc.ClientDuplexStream<Req, Res>;

type MethodOf<M extends MethodDefinition> = M extends { requestStream: false; responseStream: false }
  ? UnaryMethod<Message<M["requestType"]>, Message<M["responseType"]>>
  : M extends { requestStream: false; responseStream: true }
    ? ServerStreamMethod<Message<M["requestType"]>, Message<M["responseType"]>>
    : M extends { requestStream: true; responseStream: true }
      ? BidiStreamMethod<Message<M["requestType"]>, Message<M["responseType"]>>
      : never;

/** The promise client of one service: one method per RPC, named as in the proto (lower camel case). */
export type PromiseClient<S extends ServiceDefinition> = { readonly [K in keyof S["methods"]]: MethodOf<S["methods"][K]> };

/** How `connect()` reaches and authenticates to the gateway. */
export interface ConnectOptions {
  /** Bearer token, sent in the `authorization` metadata (scheme Bearer) on every call. */
  token?: string;
  /**
   * PEM file of the CA that signed the gateway's certificate: the connection
   * uses TLS trusting it. Without `caFile`, `ca` or `tls` it is plaintext.
   */
  caFile?: string;
  /** The CA certificate(s) as PEM bytes (instead of `caFile`). */
  ca?: Buffer;
  /** TLS trusting the system's root CAs (when the gateway has a public certificate). */
  tls?: boolean;
  /** grpc-js channel options, e.g. `{"grpc.keepalive_time_ms": 30000}`. */
  channelOptions?: grpc.ChannelOptions;
}

/** A connection to one gateway: a promise client per telgate.v1 service on one shared channel. */
export interface TelgateClient {
  /** CallControlService: originate, hang up, transfer, list channels, DTMF. */
  readonly calls: PromiseClient<typeof CallControlServiceDefinition>;
  /** EventService: the live event stream (subscribe, resume from a position). */
  readonly events: PromiseClient<typeof EventServiceDefinition>;
  /** CdrService: stored CDRs, paged or streamed from a cursor. */
  readonly cdrs: PromiseClient<typeof CdrServiceDefinition>;
  /** BackendService: configured PBX backends and their link state. */
  readonly backends: PromiseClient<typeof BackendServiceDefinition>;
  /** QueueService: call queues and their members. */
  readonly queues: PromiseClient<typeof QueueServiceDefinition>;
  /** PlaybackService: sound playback on channels. */
  readonly playback: PromiseClient<typeof PlaybackServiceDefinition>;
  /** SupervisionService: listen, whisper, barge. */
  readonly supervision: PromiseClient<typeof SupervisionServiceDefinition>;
  /** CallRoutingService: answer the gateway's routing queries live. */
  readonly routing: PromiseClient<typeof CallRoutingServiceDefinition>;
  /** The grpc-js client all services share (e.g. for `waitForReady`). */
  readonly grpcClient: grpc.Client;
  /** Closes the channel; calls in progress fail with CANCELLED or UNAVAILABLE. */
  close(): void;
}

/**
 * A grpc-js interceptor that adds the token to the `authorization` metadata
 * (scheme Bearer) of every call. Works on plaintext channels too (unlike call credentials, which
 * grpc-js sends only over TLS).
 *
 * @example
 * new CallControlServiceClient(target, credentials.createInsecure(), { interceptors: [bearerToken(token)] })
 */
export function bearerToken(token: string): grpc.Interceptor {
  checkToken(token);
  const value = `Bearer ${token}`;
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", value);
        next(metadata, listener);
      },
    });
}

/** The channel credentials `connect()` uses for these options: TLS with the given CA, TLS with system roots, or plaintext. */
export function channelCredentials(options: Pick<ConnectOptions, "caFile" | "ca" | "tls"> = {}): grpc.ChannelCredentials {
  if (options.caFile !== undefined && options.ca !== undefined) {
    throw new TypeError("give the CA as caFile or as ca, not both");
  }
  const ca = options.caFile !== undefined ? readFileSync(options.caFile) : options.ca;
  if (ca !== undefined) {
    return grpc.credentials.createSsl(ca);
  }
  return options.tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
}

/**
 * Connects to a telgate gateway (lazily: the first call opens the channel).
 *
 * @param target - `host:port` of the gateway's gRPC port, e.g. `127.0.0.1:50051`.
 * @param options - the bearer token and, for TLS, the CA.
 *
 * @example
 * const gw = connect("127.0.0.1:50051", { token: process.env.TELGATE_TOKEN });
 * const { call } = await gw.calls.originate({ endpoint: "Local/201@phones", ... });
 * gw.close();
 */
export function connect(target: string, options: ConnectOptions = {}): TelgateClient {
  const interceptors = options.token !== undefined ? [bearerToken(options.token)] : [];
  const client = new grpc.Client(target, channelCredentials(options), {
    ...options.channelOptions,
    interceptors,
  });
  return {
    calls: promiseClient(client, CallControlServiceDefinition),
    events: promiseClient(client, EventServiceDefinition),
    cdrs: promiseClient(client, CdrServiceDefinition),
    backends: promiseClient(client, BackendServiceDefinition),
    queues: promiseClient(client, QueueServiceDefinition),
    playback: promiseClient(client, PlaybackServiceDefinition),
    supervision: promiseClient(client, SupervisionServiceDefinition),
    routing: promiseClient(client, CallRoutingServiceDefinition),
    grpcClient: client,
    close: () => client.close(),
  };
}

/** Builds the promise client of one service on an existing grpc-js client (its channel, credentials and interceptors). */
export function promiseClient<S extends ServiceDefinition>(client: grpc.Client, service: S): PromiseClient<S> {
  const methods: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(service.methods)) {
    const path = `/${service.fullName}/${method.name}`;
    const serialize = (value: unknown): Buffer => Buffer.from(method.requestType.encode(value).finish());
    const deserialize = (bytes: Buffer): unknown => method.responseType.decode(bytes);
    if (!method.requestStream && !method.responseStream) {
      methods[key] = (request?: unknown, options?: CallOptions) =>
        new Promise((resolve, reject) => {
          const call = client.makeUnaryRequest(
            path,
            serialize,
            deserialize,
            method.requestType.fromPartial(request ?? {}),
            callMetadata(options),
            grpcCallOptions(options),
            (error, response) => (error ? reject(error) : resolve(response)),
          );
          onAbort(options?.signal, () => call.cancel());
        });
    } else if (!method.requestStream) {
      methods[key] = (request?: unknown, options?: CallOptions) => {
        const call = client.makeServerStreamRequest(
          path,
          serialize,
          deserialize,
          method.requestType.fromPartial(request ?? {}),
          callMetadata(options),
          grpcCallOptions(options),
        );
        const stream = responseStream(call);
        onAbort(options?.signal, () => stream.cancel());
        return stream;
      };
    } else if (method.responseStream) {
      methods[key] = (options?: CallOptions) => {
        const call = client.makeBidiStreamRequest(
          path,
          serialize,
          deserialize,
          callMetadata(options),
          grpcCallOptions(options),
        );
        onAbort(options?.signal, () => call.cancel());
        return call;
      };
    } else {
      // No telgate.v1 RPC streams only requests; refuse rather than guess a shape.
      methods[key] = () => {
        throw new Error(`${service.fullName}/${method.name}: client-streaming RPCs are not supported by promiseClient`);
      };
    }
  }
  return methods as PromiseClient<S>;
}

function responseStream<T>(call: grpc.ClientReadableStream<T>): ResponseStream<T> {
  let cancelled = false;
  const cancel = (): void => {
    if (cancelled) return;
    cancelled = true;
    // The CANCELLED status that follows is expected: keep it from being an unhandled 'error'.
    call.on("error", () => {});
    call.cancel();
  };
  async function* iterate(): AsyncGenerator<T> {
    try {
      for await (const message of call) {
        if (cancelled) return; // nothing after cancel(), even what was already received
        yield message as T;
      }
    } catch (error) {
      if (cancelled && (error as grpc.ServiceError).code === grpc.status.CANCELLED) return;
      throw error;
    } finally {
      cancel(); // leaving the loop early ends the call on the server too
    }
  }
  return { cancel, call, [Symbol.asyncIterator]: iterate };
}

function callMetadata(options: CallOptions | undefined): grpc.Metadata {
  // A copy: the token interceptor adds to it, and the caller's object stays theirs.
  return options?.metadata?.clone() ?? new grpc.Metadata();
}

function grpcCallOptions(options: CallOptions | undefined): grpc.CallOptions {
  if (options?.timeoutMs !== undefined) return { deadline: Date.now() + options.timeoutMs };
  if (options?.deadline !== undefined) return { deadline: options.deadline };
  return {};
}

function onAbort(signal: AbortSignal | undefined, cancel: () => void): void {
  if (signal === undefined) return;
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
}

function checkToken(token: string): void {
  // Checked here so grpc-js never echoes a bad token in its own error message.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new TypeError(
      token === "" ? "the token is empty" : "the token must be printable ASCII without spaces or line breaks",
    );
  }
}
