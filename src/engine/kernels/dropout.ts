// Inverted-dropout masks from a counter-based hash: element i is kept when 16 bits of
// hash(key, ⌊i/2⌋) fall below keep · 65536 (each 32-bit hash decides two elements). Every
// element depends only on (key, i), so a mask splits over threads and SIMD lanes with the same
// bits on every backend, and a generator's state moves on by the two words of the key per mask
// whatever its length (the model draws them from its dropout generator, so checkpoints resume
// bit for bit). The native kernels compute the same function (native/src/simd_impl.h).

/** murmur3's 32-bit finaliser: a bijection with full avalanche. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The 32 bits that decide elements 2·pair and 2·pair + 1 (low and high half). */
export function dropoutBits(key0: number, key1: number, pair: number): number {
  return mix32((mix32((pair ^ key0) >>> 0) + key1) >>> 0);
}

/** Elements whose 16 bits are below this are kept: `keep` rounded to a multiple of 1/65536. */
export function dropoutThreshold(keep: number): number {
  return Math.round(keep * 65536);
}

/** mask[i] = 1/keep for kept elements, else 0; y[i] = x[i] · mask[i] (y may be x). */
export function dropoutInto(x: Float32Array, y: Float32Array, mask: Float32Array, length: number, keep: number, key0: number, key1: number): void {
  const threshold = dropoutThreshold(keep);
  const scale = Math.fround(1 / keep);
  for (let i = 0; i < length; i += 2) {
    const h = dropoutBits(key0, key1, i >>> 1);
    const m0 = (h & 0xffff) < threshold ? scale : 0;
    mask[i] = m0;
    y[i] = x[i]! * m0;
    if (i + 1 < length) {
      const m1 = h >>> 16 < threshold ? scale : 0;
      mask[i + 1] = m1;
      y[i + 1] = x[i + 1]! * m1;
    }
  }
}
