// The addon's F16C conversions against the JavaScript ones: every fp16 decodes to the same fp32
// bits, and fp32 values spread over every exponent encode to the same fp16 bits (NaN payloads aside).
import { nativeHalfConversions, nativeKernelsStatus } from '../../../src/engine/kernels';
import { fp16Codec, javascriptHalves } from '../../../src/wire/tensors';

const native = nativeHalfConversions();

test('native conversions exist exactly where the addon loads on an F16C CPU', () => {
  const status = nativeKernelsStatus();
  if (!status.available) expect(native).toBeUndefined();
  else expect(native?.name ?? 'javascript').toBe(status.addon.cpu().f16c ? 'native-f16c' : 'javascript');
});

const describeNative = native ? describe : describe.skip;

describeNative('native F16C conversions', () => {
  const conv = native!;

  test('all 65,536 halves decode to the same bits, and accumulate alike', () => {
    const halves = new Uint16Array(65_536).map((_, i) => i);
    const a = new Float32Array(halves.length);
    const b = new Float32Array(halves.length);
    javascriptHalves.decode(halves, a, false);
    conv.decode(halves, b, false);
    const ab = new Uint32Array(a.buffer);
    const bb = new Uint32Array(b.buffer);
    let differ = 0;
    for (let i = 0; i < halves.length; i++) if (ab[i] !== bb[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) differ++;
    expect(differ).toBe(0);
    const base = new Float32Array(halves.length).map((_, i) => (i % 97) * 0.25);
    const x = base.slice();
    const y = base.slice();
    const finite = halves.filter((h) => (h & 0x7c00) !== 0x7c00);
    javascriptHalves.decode(finite, x.subarray(0, finite.length), true);
    conv.decode(finite, y.subarray(0, finite.length), true);
    expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer))).toBe(true);
  });

  test('fp32 values over every exponent, ties and overflow encode to the same halves', () => {
    const n = 1 << 20;
    const bits = new Uint32Array(n);
    let s = 12345;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      bits[i] = i < 4096 ? (((i >> 4) << 23) | ((i & 15) << 9) | (i & 1 ? 0x1000 : 0)) >>> 0 : s; // exponents 0–255 with ties at the rounding bit
    }
    bits.set([0x477fefff, 0x477ff000, 0x477fffff, 0x7f800000, 0xff800000, 0x33000000, 0x33000001, 0x387fe000, 0x38800000, 0], 4096);
    const values = new Float32Array(bits.buffer);
    const a = new Uint16Array(n);
    const b = new Uint16Array(n);
    javascriptHalves.encode(values, a);
    conv.encode(values, b);
    const nan = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    let differ = 0;
    for (let i = 0; i < n; i++) if (a[i] !== b[i] && !(nan(a[i]!) && nan(b[i]!))) differ++;
    expect(differ).toBe(0);
  });

  test('the codec rounds, encodes and decodes lengths that are not a multiple of 8', () => {
    const values = Float32Array.from({ length: 1003 }, (_, i) => Math.sin(i) * 1000);
    const js = fp16Codec(javascriptHalves);
    const nat = fp16Codec(conv);
    expect(Buffer.from(nat.encode(values)).equals(Buffer.from(js.encode(values)))).toBe(true);
    const r1 = values.slice();
    const r2 = values.slice();
    js.round(r1);
    nat.round(r2);
    expect(Buffer.from(r2.buffer).equals(Buffer.from(r1.buffer))).toBe(true);
  });

  test('a wrong array type is refused with a clear error', () => {
    expect(() => conv.encode(new Float64Array(4) as unknown as Float32Array, new Uint16Array(4))).toThrow(/Float32Array/);
  });
});
