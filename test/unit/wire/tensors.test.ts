import { fp16, fp32, halfBits } from '../../../src/wire/tensors';

/** The value of fp16 bits, straight from the IEEE definition. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  return e === 0 ? sign * m * 2 ** -24 : e === 0x1f ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
}

describe('tensor codecs', () => {
  test('fp16 decodes every one of the 65,536 bit patterns as IEEE defines them', () => {
    const h = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const out = new Float32Array(65536);
    fp16.decodeInto(new Uint8Array(h.buffer), out);
    const wrong: number[] = [];
    for (let i = 0; i < 65536; i++) {
      const want = halfValue(i);
      if (Number.isNaN(want) ? !Number.isNaN(out[i]!) : !Object.is(out[i], Math.fround(want))) wrong.push(i);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  test('fp16 encodes with round-to-nearest-even like the per-value reference, specials included', () => {
    const values = new Float32Array(200_000);
    const bits = new Uint32Array(values.buffer);
    let seed = 12345;
    for (let i = 0; i < values.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      bits[i] = seed; // every exponent, sign and mantissa, NaN and infinity included
    }
    values.set([0, -0, 65504, 65519.99, 65520, 1e-8, 5.96e-8, 6.1e-5, -2.5e-6, Infinity, -Infinity, NaN], 0);
    const encoded = new Uint16Array(fp16.encode(values).buffer);
    const wrong: string[] = [];
    for (let i = 0; i < values.length; i++) {
      const want = halfBits(bits[i]!);
      const isNaN = (want & 0x7c00) === 0x7c00 && (want & 0x3ff) !== 0;
      if (isNaN ? (encoded[i]! & 0x7c00) !== 0x7c00 || (encoded[i]! & 0x3ff) === 0 : encoded[i] !== want) wrong.push(`${values[i]} -> ${encoded[i]}, expected ${want}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  test('round makes local values what a receiver decodes; fp32 is lossless', () => {
    const v = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 100);
    const r = v.slice();
    fp16.round(r);
    const out = new Float32Array(v.length);
    fp16.decodeInto(fp16.encode(v), out);
    expect(Buffer.from(r.buffer).equals(Buffer.from(out.buffer))).toBe(true);
    const o32 = new Float32Array(v.length);
    fp32.decodeInto(fp32.encode(v), o32);
    expect(Buffer.from(o32.buffer).equals(Buffer.from(v.buffer))).toBe(true);
  });
});
