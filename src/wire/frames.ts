// horn's wire format between its own processes (ApplicationMaster, workers, parameter servers).
// A frame is: u32 big-endian length of what follows, u32 big-endian length of a UTF-8 JSON
// header, the header, then an optional binary body (tensors travel there, never as JSON).
// Hand-written because it is a few lines and no framing library adds anything here.

import { HornError } from '../common/errors';

export interface Message {
  /** The message type, e.g. "progress"; the rest of the header is the type's fields. */
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface Frame {
  readonly header: Message;
  readonly body?: Uint8Array;
}

/** Frames above this are refused: no message of horn's is near it, and a corrupt length is. */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

export class WireProtocolError extends HornError {
  constructor(message: string, context: Record<string, string | number> = {}) {
    super(message, 'internal', context);
  }
}

export function encodeFrame(frame: Frame): Buffer {
  const header = Buffer.from(JSON.stringify(frame.header), 'utf8');
  const bodyLength = frame.body?.byteLength ?? 0;
  const out = Buffer.allocUnsafe(8 + header.length + bodyLength);
  out.writeUInt32BE(4 + header.length + bodyLength, 0);
  out.writeUInt32BE(header.length, 4);
  header.copy(out, 8);
  if (frame.body) out.set(frame.body, 8 + header.length);
  return out;
}

/** Reassembles frames from socket chunks of any size. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds bytes and returns every frame they complete. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length < 4 || length > MAX_FRAME_BYTES) throw new WireProtocolError(`invalid frame length ${length}`, { length });
      if (this.buffered < 4 + length) break;
      const bytes = this.take(4 + length);
      const headerLength = bytes.readUInt32BE(4);
      if (headerLength > length - 4) throw new WireProtocolError(`header length ${headerLength} exceeds frame length ${length}`, { headerLength, length });
      let header: unknown;
      try {
        header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLength));
      } catch {
        throw new WireProtocolError('frame header is not JSON');
      }
      if (!header || typeof header !== 'object' || typeof (header as { type?: unknown }).type !== 'string') {
        throw new WireProtocolError('frame header has no type');
      }
      const bodyStart = 8 + headerLength;
      frames.push({ header: header as Message, body: bodyStart < bytes.length ? bytes.subarray(bodyStart) : undefined });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
