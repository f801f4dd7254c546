// horn's wire format between its own processes (ApplicationMaster, workers, parameter servers).
// A frame is: u32 big-endian length of what follows, u32 big-endian length of a UTF-8 JSON
// header, the header (padded with spaces so the body starts 8-byte aligned), then an optional
// binary body (tensors travel there, never as JSON). Hand-written because it is a few lines and no
// framing library adds anything here.
//
// Copies: a sender writes the prefix and the body as two buffers (the body is never copied into a
// frame); a receiver copies a large frame once, from the socket's chunks into one buffer of its own
// whose body is aligned for a Float32Array view.

import { HornError } from '../common/errors';

export interface Message {
  /** The message type, e.g. "progress"; the rest of the header is the type's fields. */
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface Frame {
  readonly header: Message;
  readonly body?: Uint8Array;
  /**
   * Hands a large frame's buffer back for the next frame of the same size, once the body has been
   * consumed (tensors of a fixed size arrive every step; recycling spares the collector). Optional:
   * an unreleased frame is simply collected.
   */
  readonly release?: () => void;
}

/** Buffers of large frames for reuse, a few per size. */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();

  take(size: number): Buffer {
    return this.free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  give(buf: Buffer): void {
    const list = this.free.get(buf.length) ?? [];
    if (list.length < 8 && !list.includes(buf)) list.push(buf);
    this.free.set(buf.length, list);
  }
}

/** Frames above this are refused: no message of horn's is near it, and a corrupt length is. */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;
/** Frames at least this long get a buffer of their own on receipt (no pool, aligned body). */
const OWN_BUFFER_BYTES = 64 * 1024;

export class WireProtocolError extends HornError {
  constructor(message: string, context: Record<string, string | number> = {}) {
    super(message, 'internal', context);
  }
}

/** The length prefixes and (padded) header of a frame whose body of `bodyLength` bytes follows. */
export function framePrefix(header: Message, bodyLength: number): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  // After the two u32 lengths the body starts at 8 + header length: pad that to a multiple of 8.
  const padded = json.length + ((8 - ((8 + json.length) % 8)) % 8);
  const total = 4 + padded + bodyLength;
  if (total > MAX_FRAME_BYTES) throw new WireProtocolError(`frame of ${total} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`, { length: total });
  const out = Buffer.allocUnsafe(8 + padded);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(padded, 4);
  json.copy(out, 8);
  out.fill(0x20, 8 + json.length);
  return out;
}

/** A whole frame in one buffer (small messages, tests). */
export function encodeFrame(frame: Frame): Buffer {
  const prefix = framePrefix(frame.header, frame.body?.byteLength ?? 0);
  return frame.body ? Buffer.concat([prefix, frame.body]) : prefix;
}

/** Reassembles frames from socket chunks of any size. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** A large frame being filled in its own buffer (everything after the length prefix). */
  private big: { buf: Buffer; filled: number } | undefined;

  constructor(private readonly pool: BufferPool = new BufferPool()) {}

  /**
   * Adds bytes and returns every frame they complete. A `transient` chunk is a read buffer the
   * socket reuses after this call: what must outlive the call is copied out of it.
   */
  push(chunk: Buffer, transient = false): Frame[] {
    const frames: Frame[] = [];
    let input = chunk;
    for (;;) {
      if (this.big) {
        const n = Math.min(input.length, this.big.buf.length - this.big.filled);
        input.copy(this.big.buf, this.big.filled, 0, n);
        this.big.filled += n;
        input = input.subarray(n);
        if (this.big.filled < this.big.buf.length) return frames;
        const buf = this.big.buf;
        let released = false;
        frames.push({ ...parseFrame(buf), release: () => (released ? undefined : ((released = true), this.pool.give(buf))) });
        this.big = undefined;
        continue;
      }
      if (input.length) {
        this.chunks.push(transient ? Buffer.from(input) : input);
        this.buffered += input.length;
        input = Buffer.alloc(0);
      }
      if (this.buffered < 4) return frames;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const length = all.readUInt32BE(0);
      if (length < 4 || length > MAX_FRAME_BYTES) throw new WireProtocolError(`invalid frame length ${length}`, { length });
      if (length >= OWN_BUFFER_BYTES) {
        this.big = { buf: this.pool.take(length), filled: 0 };
        input = all.subarray(4);
        this.chunks = [];
        this.buffered = 0;
        continue;
      }
      if (all.length < 4 + length) {
        this.chunks = [all];
        return frames;
      }
      frames.push(parseFrame(all.subarray(4, 4 + length)));
      const rest = all.subarray(4 + length);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
    }
  }
}

/** A frame from the bytes after its length prefix: u32 header length, header, body. */
function parseFrame(bytes: Buffer): Frame {
  const headerLength = bytes.readUInt32BE(0);
  if (headerLength > bytes.length - 4) throw new WireProtocolError(`header length ${headerLength} exceeds frame length ${bytes.length}`, { headerLength, length: bytes.length });
  let header: unknown;
  try {
    header = JSON.parse(bytes.toString('utf8', 4, 4 + headerLength));
  } catch {
    throw new WireProtocolError('frame header is not JSON');
  }
  if (!header || typeof header !== 'object' || typeof (header as { type?: unknown }).type !== 'string') {
    throw new WireProtocolError('frame header has no type');
  }
  const bodyStart = 4 + headerLength;
  return { header: header as Message, body: bodyStart < bytes.length ? bytes.subarray(bodyStart) : undefined };
}
