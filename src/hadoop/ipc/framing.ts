// Hadoop IPC packet framing: every packet after the connection preamble is
//   uint32 big-endian length N | N bytes = a sequence of varint-length-delimited protobuf messages.
// This module is pure byte handling so it can be tested without sockets.
import { FrameError } from './errors';
import { decodeVarint32, encodeVarint32, varintLength } from './varint';

/** Default limit for a response frame; Hadoop's `ipc.maximum.response.length` is 128 MiB. */
export const DEFAULT_MAX_FRAME_LENGTH = 128 * 1024 * 1024;

/** Frames `messages` (already-serialized protobufs) as one packet: 4-byte length, then each message varint-delimited. */
export function encodeFrame(messages: readonly Uint8Array[]): Buffer {
  let bodyLength = 0;
  for (const m of messages) bodyLength += varintLength(m.length) + m.length;
  const out = Buffer.allocUnsafe(4 + bodyLength);
  out.writeUInt32BE(bodyLength, 0);
  let at = 4;
  for (const m of messages) {
    const prefix = encodeVarint32(m.length);
    out.set(prefix, at);
    at += prefix.length;
    out.set(m, at);
    at += m.length;
  }
  return out;
}

/** Splits a frame body into its delimited messages. Every byte must belong to a message. */
export function splitDelimited(frame: Uint8Array): Uint8Array[] {
  const messages: Uint8Array[] = [];
  let at = 0;
  while (at < frame.length) {
    const len = decodeVarint32(frame, at);
    if (!len) throw new FrameError('truncated length prefix of a delimited message', at, frame.length);
    const start = at + len.length;
    const end = start + len.value;
    if (end > frame.length) {
      throw new FrameError(`delimited message of ${len.value} bytes runs past the frame end`, at, frame.length);
    }
    messages.push(frame.subarray(start, end));
    at = end;
  }
  return messages;
}

/**
 * Reassembles frames from socket reads of arbitrary size: a read may hold part of a frame, several
 * frames, or end inside the 4-byte length.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameLength = DEFAULT_MAX_FRAME_LENGTH) {}

  /** Bytes received but not yet returned as a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Adds a socket read; returns every frame body it completed, in order. */
  push(chunk: Uint8Array): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.buffered += chunk.length;
    }
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const length = head.readInt32BE(0);
      if (length < 0 || length > this.maxFrameLength) {
        throw new FrameError(`frame length ${length} outside 0..${this.maxFrameLength}`, 0, length);
      }
      if (this.buffered < 4 + length) break;
      const whole = this.take(4 + length);
      frames.push(whole.subarray(4));
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0]!;
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}

/** One varint-length-delimited message without the 4-byte frame length (protobuf writeDelimitedTo). */
export function encodeDelimited(message: Uint8Array): Buffer {
  return Buffer.concat([encodeVarint32(message.length), message]);
}
