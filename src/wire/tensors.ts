// Tensor encodings on horn's wire: little-endian fp32 as is (views, no copies), or IEEE fp16 with
// round-to-nearest-even (half the bytes; BigDL's default, Horovod's option). Written by hand:
// Node 20 has no Float16Array and the conversion is a few lines.
import { endianness } from 'node:os';

/** How values travel: fp32 as is, fp16 halved. `round` makes local values what a receiver would see. */
export interface TensorCodec {
  readonly name: 'fp32' | 'fp16';
  readonly bytesPerValue: number;
  /**
   * The values' bytes on the wire: fp32 a view of `values`, fp16 written into `scratch` when it is
   * given and large enough (a sender reuses it once the previous send completed), else into new memory.
   */
  encode(values: Float32Array, scratch?: Uint8Array): Uint8Array;
  /** out[i] = decoded[i] */
  decodeInto(bytes: Uint8Array, out: Float32Array): void;
  /** out[i] += decoded[i] */
  decodeAdd(bytes: Uint8Array, out: Float32Array): void;
  /** values[i] = decode(encode(values[i])), in place (`scratch` as for encode). */
  round(values: Float32Array, scratch?: Uint8Array): void;
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

/**
 * fp32 → fp16 bits for a whole array, round to nearest even, without branches on the common path
 * (Fabian Giesen's float_to_half_fast3_rtne, on 32-bit views): ~10× the per-element `halfBits`.
 */
function encodeHalves(values: Float32Array, out: Uint16Array): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const scratch = new Float32Array(1);
  const scratchBits = new Uint32Array(scratch.buffer);
  const F16_MAX = (127 + 16) << 23;
  const F32_INF = 255 << 23;
  const DENORM_MAGIC = ((127 - 15) + (23 - 10) + 1) << 23;
  scratchBits[0] = DENORM_MAGIC;
  const denormMagic = scratch[0]!;
  for (let i = 0; i < out.length; i++) {
    let u = bits[i]!;
    const sign = (u >>> 16) & 0x8000;
    u = (u & 0x7fffffff) >>> 0;
    let h: number;
    if (u >= F16_MAX) h = u > F32_INF ? 0x7e00 : 0x7c00;
    else if (u < 113 << 23) {
      scratchBits[0] = u;
      scratch[0] = scratch[0]! + denormMagic;
      h = scratchBits[0]! - DENORM_MAGIC;
    } else h = ((u + ((15 - 127) << 23) + 0xfff + ((u >>> 13) & 1)) >>> 13) & 0xffff;
    out[i] = h | sign;
  }
}

/** fp16 bits → fp32, written as bits (half_to_float with a magic-number renormalisation). */
function decodeHalves(h: Uint16Array, out: Float32Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const scratch = new Float32Array(1);
  const scratchBits = new Uint32Array(scratch.buffer);
  const SHIFTED_EXP = 0x7c00 << 13;
  scratchBits[0] = 113 << 23;
  const magic = scratch[0]!;
  for (let i = 0; i < out.length; i++) {
    const x = h[i]!;
    let u = (x & 0x7fff) << 13;
    const exp = u & SHIFTED_EXP;
    u += (127 - 15) << 23;
    if (exp === SHIFTED_EXP) u += (128 - 16) << 23;
    else if (exp === 0) {
      scratchBits[0] = u + (1 << 23);
      scratch[0] = scratch[0]! - magic;
      u = scratchBits[0]!;
    }
    bits[i] = (u | ((x & 0x8000) << 16)) >>> 0;
  }
}

function halvesOf(bytes: Uint8Array): Uint16Array {
  if (bytes.byteLength % 2 !== 0) throw new RangeError(`${bytes.byteLength} bytes are not a whole number of fp16 values`);
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const copy = new Uint16Array(bytes.byteLength / 2);
  bytesOf(copy).set(bytes);
  return copy;
}

/**
 * fp32 ↔ fp16 of whole arrays. The JavaScript ones below always serve; the native addon's F16C
 * ones (src/engine/kernels/native.ts) give the same bits about 50× faster, NaN payloads aside.
 */
export interface HalfConversions {
  readonly name: string;
  encode(values: Float32Array, out: Uint16Array): void;
  /** out = decoded, or out += decoded with `accumulate`. */
  decode(halves: Uint16Array, out: Float32Array, accumulate: boolean): void;
}

export const javascriptHalves: HalfConversions = {
  name: 'javascript',
  encode: encodeHalves,
  decode(halves, out, accumulate) {
    if (!accumulate) return decodeHalves(halves, out);
    const tmp = new Float32Array(out.length);
    decodeHalves(halves, tmp);
    for (let i = 0; i < out.length; i++) out[i]! += tmp[i]!;
  },
};

/** `count` halves over `scratch` when it holds them (and is aligned), else fresh ones. */
function halvesIn(scratch: Uint8Array | undefined, count: number): Uint16Array {
  if (scratch && scratch.byteLength >= 2 * count && scratch.byteOffset % 2 === 0) return new Uint16Array(scratch.buffer, scratch.byteOffset, count);
  return new Uint16Array(count);
}

export function fp16Codec(halves: HalfConversions = javascriptHalves): TensorCodec {
  return {
    name: 'fp16',
    bytesPerValue: 2,
    encode(values, scratch) {
      const out = halvesIn(scratch, values.length);
      halves.encode(values, out);
      return bytesOf(out);
    },
    decodeInto(bytes, out) {
      halves.decode(halvesOf(bytes), out, false);
    },
    decodeAdd(bytes, out) {
      halves.decode(halvesOf(bytes), out, true);
    },
    round(values, scratch) {
      const h = halvesIn(scratch, values.length);
      halves.encode(values, h);
      halves.decode(h, values, false);
    },
  };
}

export const fp16 = fp16Codec();

/** The codec of a job's `training.wire`; fp16 converts with `halves` (the native ones where the caller has them). */
export function codecFor(name: 'fp32' | 'fp16', halves?: HalfConversions): TensorCodec {
  return name === 'fp16' ? fp16Codec(halves) : fp32;
}
