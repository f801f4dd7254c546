// Authenticated connections between horn's processes. Both sides hold the application's secret
// (from the YARN credentials, never argv or the environment) and prove it to each other with an
// HMAC challenge-response before any message is accepted:
//   server → client  {type: hello, nonce: Ns}
//   client → server  {type: auth, nonce: Nc, proof: HMAC(secret, "horn/1 client" Ns Nc), peer}
//   server → client  {type: welcome, proof: HMAC(secret, "horn/1 server" Ns Nc)}   or {type: denied}
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { HornError } from '../common/errors';
import { encodeFrame, FrameDecoder, framePrefix, type Frame, type Message } from './frames';

export const PROTOCOL = 'horn/1';
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Who is at the other end, as it introduced itself (after proving it holds the secret). */
export interface PeerIdentity {
  readonly role: string;
  readonly id: string;
}

export class WireAuthenticationError extends HornError {
  constructor(message: string, context: Record<string, string> = {}) {
    super(message, 'cluster', context);
  }
}

/** A send or a pending request on a connection that has closed (the peer went away, or this side closed it). */
export class WireClosedError extends HornError {
  constructor(message: string, context: Record<string, string> = {}) {
    super(message, 'cluster', context);
  }
}

export function handshakeProof(secret: Uint8Array, side: 'client' | 'server', serverNonce: Buffer, clientNonce: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${PROTOCOL} ${side}`).update(serverNonce).update(clientNonce).digest();
}

function proofMatches(expected: Buffer, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const bytes = Buffer.from(given, 'base64');
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
}

/** Client sockets read into one buffer of this size that is reused for every read. */
const READ_BUFFER_BYTES = 256 * 1024;

/**
 * Where a socket's bytes go: whoever reads now (the handshake, then the connection). Accepted
 * sockets deliver Node's 'data' chunks; client sockets read through `onread` into one reused
 * buffer, so a worker receiving megabytes of tensors every step allocates nothing per read and
 * its collector stays quiet (a chunk per 64 KiB read cost a full collection every few steps).
 */
export class SocketBytes {
  private handler: ((chunk: Buffer, transient: boolean) => void) | undefined;

  /** For an accepted socket: its 'data' events. */
  static of(socket: Socket): SocketBytes {
    const bytes = new SocketBytes();
    socket.on('data', (chunk: Buffer) => bytes.deliver(chunk, false));
    return bytes;
  }

  /** For a client socket: the `onread` option to connect with. */
  readOption(): { buffer: Buffer; callback: (bytes: number, buffer: Buffer) => boolean } {
    return { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: (n, buffer) => (this.deliver(buffer.subarray(0, n), true), true) };
  }

  /** `transient`: the chunk's memory is reused after the handler returns. Bytes that came with no handler set are handed to the next one. */
  onBytes(handler: ((chunk: Buffer, transient: boolean) => void) | undefined): void {
    this.handler = handler;
    if (handler) for (const chunk of this.held.splice(0)) handler(chunk, false);
  }

  private readonly held: Buffer[] = [];

  private deliver(chunk: Buffer, transient: boolean): void {
    if (this.handler) this.handler(chunk, transient);
    else this.held.push(transient ? Buffer.from(chunk) : chunk);
  }
}

/**
 * One authenticated connection. Emits 'message' (Frame), 'close' (Error | undefined).
 * `request` sends a message with an id and resolves with the frame whose `replyTo` names it.
 */
export class WireConnection extends EventEmitter {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (f: Frame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(private readonly socket: Socket, bytes: SocketBytes, decoder: FrameDecoder, readonly peer: PeerIdentity) {
    super();
    // 'newListener' comes before the listener is added: hand it what waited once it is.
    this.on('newListener', (event: string | symbol) => {
      if (event === 'message') queueMicrotask(() => this.drain());
    });
    bytes.onBytes((chunk, transient) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk, transient);
      } catch (err) {
        this.close(err as Error);
        return;
      }
      for (const f of frames) this.dispatch(f);
    });
    socket.on('error', (err) => this.close(err));
    socket.on('close', () => this.close(undefined));
  }

  /** Frames that arrived together with the handshake are delivered before any new data. */
  deliver(frames: Frame[]): void {
    for (const f of frames) this.dispatch(f);
  }

  /**
   * Sends a frame; the body's bytes are written as they are (no copy into the frame). Resolves once
   * the kernel has them, so the caller may then reuse the body's memory; awaiting it is also the
   * backpressure. Never rejects: a broken connection is reported through 'close'.
   */
  send(header: Message, body?: Uint8Array): Promise<void> {
    if (this.closed) throw new WireClosedError(`connection to ${this.peer.role} ${this.peer.id} is closed`, { peer: `${this.peer.role} ${this.peer.id}` });
    const prefix = framePrefix(header, body?.byteLength ?? 0);
    return new Promise<void>((resolve) => {
      const done = (): void => resolve();
      if (body && body.byteLength > 0) {
        this.socket.cork();
        this.socket.write(prefix);
        this.socket.write(body, done);
        this.socket.uncork();
      } else this.socket.write(prefix, done);
    });
  }

  request(header: Message, body?: Uint8Array, timeoutMs = 60_000): Promise<Frame> {
    const id = this.nextId++;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HornError(`no reply to ${header.type} from ${this.peer.role} ${this.peer.id} within ${timeoutMs} ms`, 'timeout', { type: header.type }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        void this.send({ ...header, id }, body);
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err as Error);
      }
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  reply(to: Frame, header: Message, body?: Uint8Array): Promise<void> {
    return this.send({ ...header, replyTo: to.header.id }, body);
  }

  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err ?? new WireClosedError(`connection to ${this.peer.role} ${this.peer.id} closed`, { peer: `${this.peer.role} ${this.peer.id}` }));
    }
    this.pending.clear();
    this.socket.destroy();
    this.emit('close', err);
  }

  /**
   * Messages wait here, in order, until a 'message' listener is attached: a peer may send as
   * soon as its end is up (a ring neighbour starts its collective), before this side has wired
   * the connection into its consumer, and an emitted message with no listener would be lost.
   */
  private readonly unclaimed: Frame[] = [];

  private dispatch(frame: Frame): void {
    const replyTo = frame.header.replyTo;
    if (typeof replyTo === 'number' && this.pending.has(replyTo)) {
      const p = this.pending.get(replyTo)!;
      this.pending.delete(replyTo);
      clearTimeout(p.timer);
      p.resolve(frame);
      return;
    }
    this.unclaimed.push(frame);
    this.drain();
  }

  private drain(): void {
    while (this.unclaimed.length > 0 && this.listenerCount('message') > 0) this.emit('message', this.unclaimed.shift()!);
  }
}

/** Accepts connections that prove the secret; `onConnection` sees only authenticated peers. */
export class WireServer {
  private readonly server: Server;
  private readonly connections = new Set<WireConnection>();

  constructor(private readonly secret: Uint8Array, onConnection: (connection: WireConnection) => void, private readonly onReject?: (reason: string) => void) {
    this.server = createServer((socket) => {
      socket.setNoDelay(true);
      this.handshake(socket)
        .then((connection) => {
          this.connections.add(connection);
          connection.on('close', () => this.connections.delete(connection));
          onConnection(connection);
        })
        .catch((err: Error) => {
          this.onReject?.(err.message);
          socket.destroy();
        });
    });
  }

  async listen(host: string, port = 0): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handshake(socket: Socket): Promise<WireConnection> {
    const serverNonce = randomBytes(32);
    const decoder = new FrameDecoder();
    const bytes = SocketBytes.of(socket);
    socket.write(encodeFrame({ header: { type: 'hello', protocol: PROTOCOL, nonce: serverNonce.toString('base64') } }));
    return firstFrame(socket, bytes, decoder, 'auth').then(({ frame, rest }) => {
      const h = frame.header;
      const clientNonce = Buffer.from(typeof h.nonce === 'string' ? h.nonce : '', 'base64');
      const peer = h.peer as PeerIdentity | undefined;
      if (clientNonce.length !== 32 || !proofMatches(handshakeProof(this.secret, 'client', serverNonce, clientNonce), h.proof) || !peer) {
        socket.end(encodeFrame({ header: { type: 'denied', reason: 'authentication failed' } }));
        throw new WireAuthenticationError(`peer ${socket.remoteAddress}:${socket.remotePort} failed authentication`);
      }
      socket.write(encodeFrame({ header: { type: 'welcome', proof: handshakeProof(this.secret, 'server', serverNonce, clientNonce).toString('base64') } }));
      const connection = new WireConnection(socket, bytes, decoder, { role: String(peer.role), id: String(peer.id) });
      queueMicrotask(() => connection.deliver(rest));
      return connection;
    });
  }
}

/** Connects to a WireServer at host:port, proving the secret and checking the server's proof. */
export async function connectWire(host: string, port: number, secret: Uint8Array, self: PeerIdentity, timeoutMs = HANDSHAKE_TIMEOUT_MS): Promise<WireConnection> {
  const bytes = new SocketBytes();
  const socket = connect({ host, port, onread: bytes.readOption() });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WireAuthenticationError(`could not connect to ${host}:${port} within ${timeoutMs} ms`, { host })), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new WireAuthenticationError(`could not connect to ${host}:${port}: ${err.message}`, { host }));
    });
  });
  const decoder = new FrameDecoder();
  try {
    const hello = await firstFrame(socket, bytes, decoder, 'hello', timeoutMs);
    const serverNonce = Buffer.from(String(hello.frame.header.nonce), 'base64');
    const clientNonce = randomBytes(32);
    socket.write(encodeFrame({ header: { type: 'auth', nonce: clientNonce.toString('base64'), proof: handshakeProof(secret, 'client', serverNonce, clientNonce).toString('base64'), peer: self } }));
    const welcome = await firstFrame(socket, bytes, decoder, 'welcome', timeoutMs, hello.rest);
    if (!proofMatches(handshakeProof(secret, 'server', serverNonce, clientNonce), welcome.frame.header.proof)) {
      throw new WireAuthenticationError(`server ${host}:${port} did not prove the application secret`, { host });
    }
    const connection = new WireConnection(socket, bytes, decoder, { role: 'server', id: `${host}:${port}` });
    queueMicrotask(() => connection.deliver(welcome.rest));
    return connection;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** Waits for the next frame, which must be of type `expected`; returns it and any frames after it. */
function firstFrame(socket: Socket, bytes: SocketBytes, decoder: FrameDecoder, expected: string, timeoutMs = HANDSHAKE_TIMEOUT_MS, already: Frame[] = []): Promise<{ frame: Frame; rest: Frame[] }> {
  return new Promise((resolve, reject) => {
    const settle = (frames: Frame[]): boolean => {
      if (frames.length === 0) return false;
      cleanup();
      const [frame, ...rest] = frames;
      if (frame.header.type === expected) resolve({ frame, rest });
      else if (frame.header.type === 'denied') reject(new WireAuthenticationError(`connection refused: ${String(frame.header.reason)} (is the application secret the same?)`));
      else reject(new WireAuthenticationError(`expected ${expected}, received ${frame.header.type}`));
      return true;
    };
    const onData = (chunk: Buffer, transient: boolean): void => {
      try {
        settle(decoder.push(chunk, transient));
      } catch (err) {
        cleanup();
        reject(err as Error);
      }
    };
    const onClose = (): void => {
      cleanup();
      reject(new WireAuthenticationError(`connection closed before ${expected}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new WireAuthenticationError(`no ${expected} within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      bytes.onBytes(undefined);
      socket.off('close', onClose);
    };
    bytes.onBytes(onData);
    socket.on('close', onClose);
    settle(already);
  });
}
