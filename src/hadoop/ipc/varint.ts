// Protobuf base-128 varints as used by Hadoop IPC for length-delimited messages, and the zigzag
// mapping that `sint32` fields (the request call id) use. Values are limited to 32 bits because
// IPC only ever delimits messages and carries call ids with them.
import { VarintError } from './errors';

/** Bytes needed to encode `value` (treated as uint32) as a varint. */
export function varintLength(value: number): number {
  let v = value >>> 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

/** Encodes `value` as an unsigned 32-bit varint. Negative numbers are encoded as their uint32 bit pattern. */
export function encodeVarint32(value: number): Uint8Array {
  let v = value >>> 0;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Uint8Array.from(out);
}

export interface DecodedVarint {
  /** The value as uint32. */
  value: number;
  /** Bytes consumed. */
  length: number;
}

/**
 * Decodes a varint at `offset`. Returns `undefined` when the buffer ends before the varint does,
 * so a stream reader can wait for more bytes. Up to 10 bytes are accepted (protobuf writers emit
 * 10-byte varints for negative int32), the value keeps the low 32 bits.
 */
export function decodeVarint32(buf: Uint8Array, offset = 0): DecodedVarint | undefined {
  let result = 0;
  for (let i = 0; i < 10; i++) {
    const at = offset + i;
    if (at >= buf.length) return undefined;
    const b = buf[at]!;
    if (i < 5) result |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) === 0) return { value: result >>> 0, length: i + 1 };
  }
  throw new VarintError('varint longer than 10 bytes', offset);
}

/** Zigzag mapping used by sint32: 0→0, -1→1, 1→2, -33→65. */
export function zigzagEncode32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

export function zigzagDecode32(value: number): number {
  return (value >>> 1) ^ -(value & 1);
}
