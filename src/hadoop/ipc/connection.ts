// One Hadoop IPC connection to one server for one protocol: preamble, optional SASL, connection
// context, then many concurrent calls matched by call id. Lost connections fail every pending
// call; the next call reconnects with exponential backoff. SASL itself is delegated to a
// ConnectionAuthenticator so this layer only moves bytes.
import { randomBytes } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { Socket, connect as netConnect } from 'node:net';
import {
  ConnectionClosedError,
  ConnectionError,
  FrameError,
  IpcError,
  RemoteException,
  RpcAuthenticationError,
  RpcTimeoutError,
  ServerUnreachableError,
} from './errors';
import { DEFAULT_MAX_FRAME_LENGTH, encodeFrame, FrameDecoder, splitDelimited } from './framing';
import { unwrapIncoming, wrapOutgoing, type WireSecurityLayer } from './wrap';
import { sleep } from '../../common/sleep';
import {
  CallId,
  connectionContextCodec,
  connectionPreamble,
  decodeResponseHeader,
  encodeRequestHeader,
  methodHeaderCodec,
  RpcResponseHeader,
} from './headers';

/**
 * Sends one serialized RpcSaslProto and resolves with the server's serialized RpcSaslProto reply.
 * Rejects with RemoteException when the server answers FATAL.
 */
export type SaslExchange = (saslMessage: Uint8Array) => Promise<Uint8Array>;

/**
 * Runs the SASL conversation over an exchange. Implemented by the sasl layer (TokenAuthenticator).
 * Resolves with the negotiated security layer when the server asked for integrity or privacy.
 */
export interface ConnectionAuthenticator {
  /** Token kind used in error messages, e.g. `YARN_AM_RM_TOKEN`. */
  readonly tokenKind: string | undefined;
  authenticate(exchange: SaslExchange, server: string): Promise<WireSecurityLayer | undefined | void>;
}

/** What a connection negotiated, for whoever listens on the `horn:ipc:authenticated` diagnostics channel. */
export interface RpcAuthenticatedEvent {
  readonly server: string;
  readonly protocol: string;
  readonly tokenKind: string | undefined;
  /** SASL qop: "auth" (no security layer), "auth-int" (integrity) or "auth-conf" (privacy). */
  readonly qop: string;
}
export const RPC_AUTHENTICATED_CHANNEL = 'horn:ipc:authenticated';

const QOP_NAMES: Record<string, string> = { auth: 'authentication', 'auth-int': 'integrity', 'auth-conf': 'privacy' };
/** One log line for an authenticated connection. */
export function describeRpcAuthentication(e: RpcAuthenticatedEvent): string {
  return `RPC to ${e.server} authenticated with ${e.tokenKind ?? 'SIMPLE'}; SASL qop ${e.qop} (${QOP_NAMES[e.qop] ?? e.qop})`;
}
const authenticatedChannel = channel(RPC_AUTHENTICATED_CHANNEL);

export interface RpcConnectionOptions {
  host: string;
  port: number;
  /** Protocol name used in RequestHeaderProto and the connection context, e.g. `org.apache.hadoop.yarn.api.ApplicationMasterProtocolPB`. */
  protocol: string;
  /** clientProtocolVersion; 1 for every YARN protocol. */
  protocolVersion?: number;
  /** SASL authenticator; without one the connection uses SIMPLE auth as `user`. */
  authenticator?: ConnectionAuthenticator;
  /** Effective user for SIMPLE auth (ignored with an authenticator: the token names the user). */
  user?: string;
  /** Per connect attempt, including SASL and the connection context. Default 10 s. */
  connectTimeoutMs?: number;
  /** Default per-call timeout. Default 60 s. */
  callTimeoutMs?: number;
  /** Connect attempts before ServerUnreachableError. Default 4. */
  maxConnectAttempts?: number;
  /** First backoff delay; doubles per attempt up to `maxRetryDelayMs`. Default 250 ms. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  maxResponseLength?: number;
}

export interface CallOptions {
  timeoutMs?: number;
}

interface PendingCall {
  method: string;
  resolve(body: Uint8Array): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

interface Live {
  socket: Socket;
  decoder: FrameDecoder;
  /** Waiter for the next SASL reply while authenticating. */
  saslWaiter?: { resolve(body: Uint8Array): void; reject(error: Error): void };
  /** Set once the connection context has been sent; calls may flow. */
  ready: boolean;
  failed?: Error;
  /** The SASL security layer (integrity or privacy), once negotiated: every byte after SASL goes through it. */
  security?: WireSecurityLayer;
  /** Frames inside the unwrapped stream, which need not align with the WRAP messages. */
  unwrapped?: FrameDecoder;
}


export class RpcConnection {
  readonly server: string;
  private readonly clientId: Uint8Array = randomBytes(16);
  private nextCallId = 0;
  private readonly pending = new Map<number, PendingCall>();
  private live: Live | undefined;
  private connecting: Promise<Live> | undefined;
  private closed = false;
  private authenticator: ConnectionAuthenticator | undefined;

  constructor(private readonly options: RpcConnectionOptions) {
    this.server = `${options.host}:${options.port}`;
    this.authenticator = options.authenticator;
  }

  /** Replaces the authenticator used for future connects (e.g. a rolled AMRMToken). The open connection stays. */
  setAuthenticator(authenticator: ConnectionAuthenticator | undefined): void {
    this.authenticator = authenticator;
  }

  get isConnected(): boolean {
    return this.live?.ready === true && !this.live.failed;
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  /** Calls `method` with a serialized request; resolves with the serialized response body. */
  async call(method: string, request: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    if (this.closed) throw new ConnectionClosedError(this.server, `connection closed; cannot call ${method}`);
    const live = await this.ensureConnected();
    const callId = this.nextCallId;
    this.nextCallId = (this.nextCallId + 1) & 0x7fffffff;
    const frame = encodeFrame([
      encodeRequestHeader(callId, this.clientId, 0),
      methodHeaderCodec.encode({
        methodName: method,
        declaringClassProtocolName: this.options.protocol,
        clientProtocolVersion: this.options.protocolVersion ?? 1,
      }),
      request,
    ]);
    const timeoutMs = options.timeoutMs ?? this.options.callTimeoutMs ?? 60_000;
    return new Promise<Uint8Array>((resolve, reject) => {
      const entry: PendingCall = { method, resolve, reject, timer: undefined };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        entry.timer = setTimeout(() => {
          if (this.pending.get(callId) === entry) {
            this.pending.delete(callId);
            reject(new RpcTimeoutError(this.server, method, callId, timeoutMs));
          }
        }, timeoutMs);
      }
      this.pending.set(callId, entry);
      this.send(live, frame);
    });
  }

  /** Closes the socket; pending calls fail with ConnectionClosedError. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const live = this.live;
    this.live = undefined;
    this.failAll(new ConnectionClosedError(this.server, 'connection closed by the client'));
    if (live && !live.socket.destroyed) {
      await new Promise<void>((resolve) => {
        live.socket.once('close', () => resolve());
        live.socket.end();
        setTimeout(() => {
          live.socket.destroy();
          resolve();
        }, 1000).unref();
      });
    }
  }

  private async ensureConnected(): Promise<Live> {
    if (this.live?.ready && !this.live.failed) return this.live;
    if (!this.connecting) {
      this.connecting = this.connectWithRetry().finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async connectWithRetry(): Promise<Live> {
    const attempts = Math.max(1, this.options.maxConnectAttempts ?? 4);
    let delay = this.options.retryDelayMs ?? 250;
    const maxDelay = this.options.maxRetryDelayMs ?? 4000;
    const started = Date.now();
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.closed) throw new ConnectionClosedError(this.server, 'connection closed while connecting');
      try {
        const live = await this.connectOnce();
        if (this.closed) {
          live.socket.destroy();
          throw new ConnectionClosedError(this.server, 'connection closed while connecting');
        }
        this.live = live;
        return live;
      } catch (e) {
        // A refused token or a protocol violation does not get better by retrying.
        if (e instanceof RpcAuthenticationError || e instanceof ConnectionClosedError || e instanceof RemoteException) throw e;
        lastError = e;
      }
      if (attempt < attempts) {
        await sleep(delay, { unref: true });
        delay = Math.min(maxDelay, delay * 2);
      }
    }
    throw new ServerUnreachableError(this.server, attempts, Date.now() - started, lastError);
  }

  private connectOnce(): Promise<Live> {
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    return new Promise<Live>((resolve, reject) => {
      const socket = netConnect({ host: this.options.host, port: this.options.port });
      socket.setNoDelay(true);
      const live: Live = { socket, decoder: new FrameDecoder(this.options.maxResponseLength ?? DEFAULT_MAX_FRAME_LENGTH), ready: false };
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new ConnectionError(this.server, `connect, authentication and handshake took longer than ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.on('data', (chunk) => this.onData(live, chunk));
      socket.on('error', (err) => this.onLost(live, new ConnectionError(this.server, `socket error: ${err.message}`, { cause: err })));
      socket.on('close', () => this.onLost(live, new ConnectionError(this.server, 'connection closed by the server')));
      socket.once('connect', () => {
        this.handshake(live)
          .then(() => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            live.ready = true;
            resolve(live);
          })
          .catch((e: Error) => fail(e));
      });
      // Before the handshake completes a lost socket must fail the connect attempt.
      socket.once('close', () => fail(live.failed ?? new ConnectionError(this.server, 'connection closed during the handshake')));
    });
  }

  private async handshake(live: Live): Promise<void> {
    const authenticator = this.authenticator;
    live.socket.write(connectionPreamble(authenticator !== undefined));
    if (authenticator) {
      const exchange: SaslExchange = (saslMessage) =>
        new Promise<Uint8Array>((resolve, reject) => {
          if (live.failed) return reject(live.failed);
          live.saslWaiter = { resolve, reject };
          live.socket.write(encodeFrame([encodeRequestHeader(CallId.SASL, new Uint8Array(0), -1), saslMessage]));
        });
      try {
        const security = await authenticator.authenticate(exchange, this.server);
        if (security) {
          live.security = security;
          live.unwrapped = new FrameDecoder(this.options.maxResponseLength ?? DEFAULT_MAX_FRAME_LENGTH);
        }
        if (authenticatedChannel.hasSubscribers) {
          authenticatedChannel.publish({ server: this.server, protocol: this.options.protocol, tokenKind: authenticator.tokenKind, qop: security?.qop ?? 'auth' } satisfies RpcAuthenticatedEvent);
        }
      } catch (e) {
        if (e instanceof RpcAuthenticationError) throw e;
        // The server refused the token (or dropped the connection) during SASL, whatever the mechanism.
        if (e instanceof RemoteException) throw new RpcAuthenticationError(this.server, authenticator.tokenKind, e.firstLine, e.javaClassName, { cause: e });
        if (e instanceof ConnectionError) throw new RpcAuthenticationError(this.server, authenticator.tokenKind, e.message, undefined, { cause: e });
        throw e;
      }
      live.saslWaiter = undefined;
    }
    // With token auth the token names the user; any userInfo content would be a doAs and is refused.
    const userInfo = authenticator ? {} : { effectiveUser: this.options.user ?? process.env.USER ?? 'horn' };
    this.send(
      live,
      encodeFrame([
        encodeRequestHeader(CallId.CONNECTION_CONTEXT, this.clientId, -1),
        connectionContextCodec.encode({ userInfo, protocol: this.options.protocol }),
      ]),
    );
  }

  /** Writes whole frames: as they are, or through the negotiated security layer. */
  private send(live: Live, frame: Buffer): void {
    if (!live.security) {
      live.socket.write(frame);
      return;
    }
    for (const packet of wrapOutgoing(live.security, frame)) live.socket.write(packet);
  }

  private onData(live: Live, chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = live.decoder.push(chunk);
    } catch (e) {
      this.onLost(live, e as Error);
      return;
    }
    for (const frame of frames) {
      try {
        this.onFrame(live, frame);
      } catch (e) {
        this.onLost(live, e instanceof IpcError ? e : new ConnectionError(this.server, `bad response: ${(e as Error).message}`, { cause: e }));
        return;
      }
    }
  }

  private onFrame(live: Live, frame: Buffer, insideWrap = false): void {
    const messages = splitDelimited(frame);
    if (messages.length === 0) throw new FrameError('empty response frame', 0, frame.length);
    const header = decodeResponseHeader(messages[0]!);
    const body = messages[1] ?? new Uint8Array(0);
    if (live.security && !insideWrap) {
      // Under integrity or privacy the server wraps every response; a plain one is refused as the Java client does.
      if (header.callId !== CallId.SASL || header.status !== 'SUCCESS') {
        throw new ConnectionError(this.server, `the server sent a response outside the negotiated SASL ${live.security.qop} layer`);
      }
      for (const inner of live.unwrapped!.push(unwrapIncoming(live.security, body))) this.onFrame(live, inner, true);
      return;
    }
    if (header.status !== 'SUCCESS') {
      this.onErrorResponse(live, header);
      return;
    }
    if (messages.length > 2) throw new FrameError(`response has ${messages.length} messages, expected at most 2`, 0, frame.length);
    if (header.callId === CallId.SASL) {
      const waiter = live.saslWaiter;
      live.saslWaiter = undefined;
      if (!waiter) throw new ConnectionError(this.server, 'unexpected SASL message from the server');
      waiter.resolve(body);
      return;
    }
    const call = this.pending.get(header.callId);
    if (!call) return; // timed out earlier; the late answer is dropped
    this.pending.delete(header.callId);
    if (call.timer) clearTimeout(call.timer);
    call.resolve(body);
  }

  private onErrorResponse(live: Live, header: RpcResponseHeader): void {
    const fatal = header.status === 'FATAL';
    const call = header.callId >= 0 ? this.pending.get(header.callId) : undefined;
    const error = new RemoteException(
      header.exceptionClassName ?? 'unknown',
      header.errorMsg ?? '',
      fatal,
      header.errorDetail,
      this.server,
      call?.method,
    );
    if (call) {
      this.pending.delete(header.callId);
      if (call.timer) clearTimeout(call.timer);
      call.reject(error);
    } else if (live.saslWaiter) {
      const waiter = live.saslWaiter;
      live.saslWaiter = undefined;
      waiter.reject(error);
    }
    if (fatal) {
      // The server closes the socket after a FATAL answer; everything still pending is lost with it.
      this.onLost(live, new ConnectionError(this.server, `server closed the connection after a fatal error: ${error.message}`, { cause: error }));
    }
  }

  private onLost(live: Live, error: Error): void {
    if (live.failed) return;
    live.failed = error;
    if (live.saslWaiter) {
      live.saslWaiter.reject(error);
      live.saslWaiter = undefined;
    }
    if (this.live === live) {
      this.live = undefined;
      this.failAll(error instanceof ConnectionError ? error : new ConnectionError(this.server, error.message, { cause: error }));
    }
    if (!live.socket.destroyed) live.socket.destroy();
  }

  private failAll(error: Error): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const c of calls) {
      if (c.timer) clearTimeout(c.timer);
      c.reject(error);
    }
  }
}
