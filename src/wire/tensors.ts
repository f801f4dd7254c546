// Tensor encodings on horn's wire: little-endian fp32 as is (views, no copies), or IEEE fp16 with
// round-to-nearest-even (half the bytes; BigDL's default, Horovod's option). Written by hand:
// Node 20 has no Float16Array and the conversion is a few lines.
import { endianness } from 'node:os';

/** How values travel: fp32 as is, fp16 halved. `round` makes local values what a receiver would see. */
export interface TensorCodec {
  readonly name: 'fp32' | 'fp16';
  readonly bytesPerValue: number;
  encode(values: Float32Array): Uint8Array;
  /** out[i] = decoded[i] */
  decodeInto(bytes: Uint8Array, out: Float32Array): void;
  /** out[i] += decoded[i] */
  decodeAdd(bytes: Uint8Array, out: Float32Array): void;
  /** values[i] = decode(encode(values[i])), in place. */
  round(values: Float32Array): void;
}

if (endianness() !== 'LE') throw new Error('horn’s wire format is little-endian; this machine is big-endian');

function bytesOf(values: Float32Array | Uint16Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** A Float32Array over `bytes`, viewing them when aligned and copying otherwise. */
export function floatsOf(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`${bytes.byteLength} bytes are not a whole number of fp32 values`);
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const copy = new Float32Array(bytes.byteLength / 4);
  bytesOf(copy).set(bytes);
  return copy;
}

export const fp32: TensorCodec = {
  name: 'fp32',
  bytesPerValue: 4,
  encode: (values) => bytesOf(values),
  decodeInto(bytes, out) {
    bytesOf(out).set(bytes);
  },
  decodeAdd(bytes, out) {
    const v = floatsOf(bytes);
    for (let i = 0; i < out.length; i++) out[i]! += v[i]!;
  },
  round() {},
};

/** fp32 bits → fp16 bits, round to nearest even; overflow becomes infinity, NaN stays NaN. */
export function halfBits(f32bits: number): number {
  const sign = (f32bits >>> 16) & 0x8000;
  const exp = (f32bits >>> 23) & 0xff;
  const mant = f32bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++;
    return sign | h;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry into the exponent is right
  return h;
}

let halfTable: Float32Array | undefined;
/** fp16 bits → value, for all 65,536 patterns (256 KiB, built on first use). */
function table(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? sign * m * 2 ** -24 : e === 0x1f ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (halfTable = t);
}

function halvesOf(bytes: Uint8Array): Uint16Array {
  if (bytes.byteLength % 2 !== 0) throw new RangeError(`${bytes.byteLength} bytes are not a whole number of fp16 values`);
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const copy = new Uint16Array(bytes.byteLength / 2);
  bytesOf(copy).set(bytes);
  return copy;
}

export const fp16: TensorCodec = {
  name: 'fp16',
  bytesPerValue: 2,
  encode(values) {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    const out = new Uint16Array(values.length);
    for (let i = 0; i < out.length; i++) out[i] = halfBits(bits[i]!);
    return bytesOf(out);
  },
  decodeInto(bytes, out) {
    const h = halvesOf(bytes);
    const t = table();
    for (let i = 0; i < out.length; i++) out[i] = t[h[i]!]!;
  },
  decodeAdd(bytes, out) {
    const h = halvesOf(bytes);
    const t = table();
    for (let i = 0; i < out.length; i++) out[i]! += t[h[i]!]!;
  },
  round(values) {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    const t = table();
    for (let i = 0; i < values.length; i++) values[i] = t[halfBits(bits[i]!)]!;
  },
};

export function codecFor(name: 'fp32' | 'fp16'): TensorCodec {
  return name === 'fp16' ? fp16 : fp32;
}
