import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESOURCE } from '../../../src/protocol';
import { Model } from '../../../src/engine/model';
import type { ModelSpec } from '../../../src/engine/spec';
import {
  NATIVE_KERNELS_FILE,
  nativeKernelsCandidates,
  describeKernels,
  KernelArgumentError,
  KernelBackendUnavailableError,
  KernelConfigError,
  nativeKernelsStatus,
  enableBehindFlag,
  KernelMemoryExhaustedError,
  loadKernels,
  ReferenceKernels,
  supportedKernelBackends,
  type ElementwiseActivation,
  type KernelBackendName,
  type Kernels,
} from '../../../src/engine/kernels';

// Every backend must compute what reference.ts defines, on shapes that exercise the tile edges.

const reference = new ReferenceKernels();
/** Every backend this machine runs: the suite below runs on each of them. */
const BACKENDS: KernelBackendName[] = supportedKernelBackends();
const NATIVE_BACKENDS = BACKENDS.filter((b) => b.startsWith('native-'));
const MEMORY = 64 * 1024 * 1024;

/**
 * Whether set-up must have built native kernels that load here: Linux on x86-64 with AVX2 and
 * FMA, a C compiler on PATH, and HORN_NATIVE_KERNELS not pointing elsewhere (which is how the
 * suite is run without them).
 */
function nativeExpected(): boolean {
  if (process.env.HORN_NATIVE_KERNELS) return false;
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
  if (!flags.includes('avx2') || !flags.includes('fma')) return false;
  try {
    execFileSync('sh', ['-c', 'command -v gcc || command -v cc || command -v clang'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function filled(kernels: Kernels, length: number, random: () => number, lo = -1, hi = 1): Float32Array {
  const x = kernels.alloc(length);
  for (let i = 0; i < length; i++) x[i] = lo + (hi - lo) * random();
  return x;
}

function copyOf(x: Float32Array): Float32Array {
  return Float32Array.from(x);
}

/** Two arrays from alloc, each a copy of `start` (the outputs of two ways to one product). */
function twoCopies(kernels: Kernels, start: Float32Array): [Float32Array, Float32Array] {
  const copies = [kernels.alloc(start.length), kernels.alloc(start.length)] as [Float32Array, Float32Array];
  for (const c of copies) c.set(start);
  return copies;
}

/** Fails, naming the first differing element, unless `b` has the bits of `a` (±0 equal unless `signedZeros`). */
function expectSameBits(context: string, a: Float32Array, b: Float32Array, signedZeros: boolean): void {
  const first = a.findIndex((v, i) => (signedZeros ? !Object.is(v, b[i]) : v !== b[i]));
  expect(`${context}: ${first < 0 ? 'same bits' : `element ${first}: ${a[first]} vs ${b[first]}`}`).toBe(`${context}: same bits`);
}

/** Fails with the first index where |actual − expected| > abs + rel·|expected|. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, length: number, abs: number, rel: number): void {
  for (let i = 0; i < length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= abs + rel * Math.abs(expected[i]))) {
      throw new Error(`index ${i}: got ${actual[i]}, expected ${expected[i]} (diff ${diff})`);
    }
  }
}

test('this runtime runs the WebAssembly and TypeScript backends, and the native ones where set-up could build them', () => {
  expect(BACKENDS.filter((b) => !b.startsWith('native-'))).toEqual(['wasm-relaxed-simd', 'wasm-simd', 'typescript']);
  const status = nativeKernelsStatus();
  if (nativeExpected()) {
    expect(status).toMatchObject({ available: true });
    expect(NATIVE_BACKENDS).toContain('native-avx2');
  } else {
    expect(status.available).toBe(false);
    expect(NATIVE_BACKENDS).toEqual([]);
  }
});

test('loadKernels picks the fastest backend by default and honours HORN_KERNELS', async () => {
  // Where this run finds native kernels (or is told not to use them) stays as it is.
  const native = { HORN_NATIVE_KERNELS: process.env.HORN_NATIVE_KERNELS };
  expect((await loadKernels({ env: native, memoryBytes: MEMORY, notice: () => undefined })).backend).toBe(BACKENDS[0]);
  for (const backend of BACKENDS) {
    expect((await loadKernels({ env: { ...native, HORN_KERNELS: backend }, memoryBytes: MEMORY })).backend).toBe(backend);
  }
  await expect(loadKernels({ env: { HORN_KERNELS: 'cuda' } })).rejects.toThrow(KernelConfigError);
  await expect(loadKernels({ env: { HORN_KERNEL_MEMORY_MB: 'lots' } })).rejects.toThrow(KernelConfigError);
  await expect(loadKernels({ backend: 'cuda' as KernelBackendName })).rejects.toThrow(/loadKernels\(\{ backend \}\)="cuda"/);
  await expect(loadKernels({ backend: 'wasm-simd', memoryBytes: 0 })).rejects.toThrow(KernelConfigError);
  for (const threads of [0, 1.5, 257, Number.NaN]) {
    await expect(loadKernels({ backend: 'typescript', threads })).rejects.toThrow(/loadKernels\(\{ threads \}\)=.*expected an integer from 1 to 256/);
  }
});

test('without loadable native kernels, auto falls back to WebAssembly and says so once, with the reason', async () => {
  const notice = jest.fn();
  const env = { HORN_NATIVE_KERNELS: '/nonexistent/horn-kernels.node' };
  for (let i = 0; i < 3; i++) {
    const kernels = await loadKernels({ env, notice, memoryBytes: MEMORY, threads: 2 });
    expect(describeKernels(kernels)).toBe('wasm-relaxed-simd on 1 thread');
  }
  expect(notice).toHaveBeenCalledTimes(1);
  expect(notice.mock.calls[0][0]).toMatch(/^native kernels unavailable: horn-kernels.node was not found \(looked in \/nonexistent\/horn-kernels.node\).*using the wasm-relaxed-simd kernels on one thread$/);
  await expect(loadKernels({ env, backend: 'native-avx2' })).rejects.toThrow(KernelBackendUnavailableError);
  const off = jest.fn();
  await loadKernels({ env: { HORN_NATIVE_KERNELS: 'off' }, notice: off, memoryBytes: MEMORY });
  expect(off).toHaveBeenCalledWith(expect.stringMatching(/disabled \(HORN_NATIVE_KERNELS=off\)/));
  const notAddon = jest.fn();
  await loadKernels({ env: { HORN_NATIVE_KERNELS: __filename }, notice: notAddon, memoryBytes: MEMORY });
  expect(notAddon).toHaveBeenCalledWith(expect.stringContaining(`${__filename} could not be loaded`));
});

/** Each backend on one thread, and the native ones (the only ones that split calls) on two as well. */
const CONFIGURATIONS: [KernelBackendName, number][] = [...BACKENDS.map((b): [KernelBackendName, number] => [b, 1]), ...NATIVE_BACKENDS.map((b): [KernelBackendName, number] => [b, 2])];

describe.each(CONFIGURATIONS)('%s kernels on %i thread(s)', (backend, threads) => {
  let kernels: Kernels;
  beforeAll(async () => {
    kernels = await loadKernels({ backend, memoryBytes: MEMORY, threads });
    expect(kernels.backend).toBe(backend);
    expect(kernels.threads).toBe(backend.startsWith('native-') ? threads : 1);
  });

  const shapes: [number, number, number][] = [
    [1, 1, 1], [7, 13, 5], [13, 7, 1], [1, 9, 13], [7, 1, 13], [4, 8, 8], [5, 3, 9],
    [9, 17, 15], [33, 65, 17], [64, 31, 24], [3, 2, 10], [128, 21, 10], [127, 501, 10], [2, 500, 12], [128, 500, 13], [6, 6, 6], [12, 3, 4], [18, 9, 20], [25, 4, 3],
    // Wider than one packed block of B (256 columns), over several blocks of K: the native kernels pack op(A) once for all of them.
    [13, 200, 300], [37, 230, 530],
    // The output layer's weight gradient, Aᵀ·B 500×128·128×10: narrower than a register tile.
    [500, 128, 10],
  ];
  const products = ['matmul', 'matmulTN', 'matmulNT'] as const;

  describe.each(products)('%s', (product) => {
    test.each(shapes)('%i×%i×%i (m×k×n) with and without accumulate', (m, k, n) => {
      const random = rng(m * 1000 + k * 10 + n);
      const a = filled(kernels, m * k, random);
      const b = filled(kernels, k * n, random);
      for (const accumulate of [false, true]) {
        const c = filled(kernels, m * n, random);
        const expected = copyOf(c);
        kernels[product](a, b, c, m, k, n, accumulate);
        reference[product](a, b, expected, m, k, n, accumulate);
        expectClose(c, expected, m * n, 1e-5, 1e-5);
      }
    });

    test('60 random shapes up to 40×40×40 match the reference', () => {
      const random = rng(4242);
      const size = (): number => 1 + Math.floor(random() * 40);
      for (let t = 0; t < 60; t++) {
        const [m, k, n] = [size(), size(), size()];
        const a = filled(kernels, m * k, random);
        const b = filled(kernels, k * n, random);
        const c = filled(kernels, m * n, random);
        const expected = copyOf(c);
        const accumulate = random() < 0.5;
        kernels[product](a, b, c, m, k, n, accumulate);
        reference[product](a, b, expected, m, k, n, accumulate);
        try {
          expectClose(c, expected, m * n, 1e-5, 1e-5);
        } catch (error) {
          throw new Error(`${m}×${k}×${n} accumulate=${accumulate}: ${(error as Error).message}`);
        }
        for (const x of [a, b, c]) kernels.free(x);
      }
    });

    test('operands may be subarrays at any float offset, and k = 0 gives zeros', () => {
      const random = rng(7);
      const [m, k, n] = [6, 11, 9];
      const pool = filled(kernels, 3 + m * k + 1 + k * n + 2 + m * n, random);
      const a = pool.subarray(3, 3 + m * k);
      const b = pool.subarray(4 + m * k, 4 + m * k + k * n);
      const c = pool.subarray(6 + m * k + k * n);
      const expected = copyOf(c);
      kernels[product](a, b, c, m, k, n);
      reference[product](a, b, expected, m, k, n);
      expectClose(c, expected, m * n, 1e-5, 1e-5);
      kernels[product](a, b, c, m, 0, n);
      expect(Array.from(c.subarray(0, m * n)).every((v) => v === 0)).toBe(true);
    });

    test('the product at a 784-500-500-10 layer shape matches the reference', () => {
      const random = rng(784);
      const [m, k, n] = product === 'matmulTN' ? [784, 128, 50] : [128, 784, 50];
      const a = filled(kernels, m * k, random);
      const b = filled(kernels, k * n, random);
      const c = kernels.alloc(m * n);
      const expected = new Float32Array(m * n);
      kernels[product](a, b, c, m, k, n);
      reference[product](a, b, expected, m, k, n);
      expectClose(c, expected, m * n, 1e-4, 1e-5);
    });
  });

  test('loadRows copies a batch from any array into these kernels\' memory, and checks both lengths', () => {
    const random = rng(1234);
    for (const [rows, cols] of [[3, 5], [128, 784], [37, 500]] as const) {
      const src = new Float32Array(rows * cols + 9).map(() => random() - 0.5);
      const dst = kernels.alloc(rows * cols + 4);
      dst.fill(7);
      kernels.loadRows(dst, src.subarray(2), rows, cols);
      expect(Array.from(dst.subarray(0, rows * cols))).toEqual(Array.from(src.subarray(2, 2 + rows * cols)));
      expect(Array.from(dst.subarray(rows * cols))).toEqual([7, 7, 7, 7]);
      // From an array in the same memory that overlaps dst.
      const inside = dst.subarray(1, 1 + rows * cols);
      const expected = Array.from(inside);
      kernels.loadRows(dst, inside, rows, cols);
      expect(Array.from(dst.subarray(0, rows * cols))).toEqual(expected);
      kernels.free(dst);
    }
    if (kernels.backend !== 'typescript') {
      const dst = kernels.alloc(12);
      expect(() => kernels.loadRows(dst, new Float32Array(11), 3, 4)).toThrow(KernelArgumentError);
      expect(() => kernels.loadRows(dst, new Float32Array(12), 3, 4)).not.toThrow();
      expect(() => kernels.loadRows(new Float32Array(12), new Float32Array(12), 3, 4)).toThrow(KernelArgumentError);
      kernels.free(dst);
    }
  });

  test('loadRows with an order gathers those rows of any array, and checks every row number', () => {
    const random = rng(4321);
    for (const [rows, cols, sourceRows] of [[3, 5, 7], [128, 784, 1000], [37, 500, 40], [1, 10, 1]] as const) {
      const src = new Float32Array(sourceRows * cols).map(() => random() - 0.5);
      // Any rows, in any order, some twice; the order array longer than the batch.
      const order = new Int32Array(rows + 3).map(() => Math.floor(random() * sourceRows));
      order[0] = sourceRows - 1;
      const dst = kernels.alloc(rows * cols + 4);
      dst.fill(7);
      kernels.loadRows(dst, src, rows, cols, order);
      const expected = new Float32Array(rows * cols);
      for (let i = 0; i < rows; i++) expected.set(src.subarray(order[i] * cols, (order[i] + 1) * cols), i * cols);
      expectSameBits(`${rows} rows of ${cols}`, dst.subarray(0, rows * cols), expected, true);
      expect(Array.from(dst.subarray(rows * cols))).toEqual([7, 7, 7, 7]);
      kernels.free(dst);
    }
    {
      // Every backend checks the row numbers (a wrong one would train on zeros), the reference too.
      const dst = kernels.alloc(12);
      const src = new Float32Array(5 * 4);
      expect(() => kernels.loadRows(dst, src, 3, 4, new Int32Array([0, 4, 2]))).not.toThrow();
      expect(() => kernels.loadRows(dst, src, 3, 4, new Int32Array([0, 5, 2]))).toThrow(/order\[1\] = 5 is not a row of src \(it has 5\)/);
      expect(() => kernels.loadRows(dst, src, 3, 4, new Int32Array([0, -1, 2]))).toThrow(KernelArgumentError);
      expect(() => kernels.loadRows(dst, src, 3, 4, new Int32Array([0, 1]))).toThrow(/order: holds 2 row numbers, the batch has 3 rows/);
      kernels.free(dst);
    }
  });

  test.each(['matmul', 'matmulTN'] as const)('%s told that a is a layer input gives the bits of the whole product, whichever columns of a are zero', (product) => {
    const random = rng(31);
    const shapes: [number, number, number][] = [[5, 7, 3], [13, 200, 300], [37, 230, 530], [128, 784, 60]];
    for (const [m, k, n] of shapes) {
      // a as stored: m×k for matmul, k×m for matmulTN; its columns are k or m.
      const [aRows, aCols] = product === 'matmul' ? [m, k] : [k, m];
      for (const zeroShare of [0, 0.33, 1]) {
        const zero = Array.from({ length: aCols }, () => random() < zeroShare);
        const a = kernels.alloc(m * k);
        // Sparse like pixels: most entries zero, and the chosen columns zero in every row.
        for (let r = 0; r < aRows; r++) for (let j = 0; j < aCols; j++) a[r * aCols + j] = zero[j] || random() < 0.7 ? 0 : random() - 0.5;
        if (zeroShare === 0) for (let j = 0; j < aCols; j++) a[j] = 0.25;
        const b = filled(kernels, k * n, random);
        for (const accumulate of [false, true]) {
          const start = filled(kernels, m * n, random);
          const [whole, skipping] = twoCopies(kernels, start);
          kernels[product](a, b, whole, m, k, n, accumulate);
          kernels[product](a, b, skipping, m, k, n, accumulate, true);
          // ±0 compare equal: a sum of nothing but zero products may differ in the sign of its zero.
          expectSameBits(`${m}×${k}×${n}, ${zeroShare} of a's columns zero, accumulate=${accumulate}`, whole, skipping, false);
          const expected = copyOf(start);
          reference[product](a, b, expected, m, k, n, accumulate);
          expectClose(skipping, expected, m * n, 1e-4, 1e-5);
          for (const x of [start, whole, skipping]) kernels.free(x);
        }
        kernels.free(a);
        kernels.free(b);
      }
    }
  });

  const activations: ElementwiseActivation[] = ['identity', 'relu', 'leakyRelu', 'sigmoid', 'tanh'];
  const special = [0, 1e-4, -1e-4, 0.2499, 0.25, -0.2501, 1e-30, 30, -30, 88.5, -88.5, 100, -100, 1000, -1000];

  test.each(activations)('activate %s and its backward pass, in place and not, on odd lengths', (kind) => {
    for (const length of [1, 3, 7, 37, special.length]) {
      const random = rng(length);
      const x = filled(kernels, length, random, -10, 10);
      if (length === special.length) x.set(special);
      const y = kernels.alloc(length);
      const expected = new Float32Array(length);
      kernels.activate(kind, x, y, length, 0.05);
      reference.activate(kind, x, expected, length, 0.05);
      expectClose(y, expected, length, 2e-7, 2e-6);
      const inPlace = copyOf(x);
      const xs = kernels.alloc(length);
      xs.set(inPlace);
      kernels.activate(kind, xs, xs, length, 0.05);
      expectClose(xs, expected, length, 2e-7, 2e-6);

      const dy = filled(kernels, length, random);
      const dx = kernels.alloc(length);
      const expectedDx = new Float32Array(length);
      kernels.activateBackward(kind, y, dy, dx, length, 0.05);
      reference.activateBackward(kind, y, dy, expectedDx, length, 0.05);
      expectClose(dx, expectedDx, length, 1e-7, 1e-6);
      kernels.activateBackward(kind, y, dy, dy, length, 0.05);
      expectClose(dy, expectedDx, length, 1e-7, 1e-6);
    }
  });

  test.each([[1, 1], [3, 10], [5, 7], [128, 10], [2, 13]])('softmaxCrossEntropy on %i×%i', (rows, cols) => {
    const random = rng(rows * cols);
    const logits = filled(kernels, rows * cols, random, -20, 20);
    if (rows * cols >= 4) logits.set([1000, -1000, 80, -80].slice(0, Math.min(4, cols)));
    const targets = kernels.alloc(rows * cols);
    for (let r = 0; r < rows; r++) {
      if (r % 2 === 0) targets[r * cols + Math.floor(random() * cols)] = 1;
      else for (let c = 0; c < cols; c++) targets[r * cols + c] = 1 / cols; // soft targets
    }
    const probs = kernels.alloc(rows * cols);
    const grad = kernels.alloc(rows * cols);
    const expectedProbs = new Float32Array(rows * cols);
    const expectedGrad = new Float32Array(rows * cols);
    const loss = kernels.softmaxCrossEntropy(logits, targets, probs, grad, rows, cols, 1 / rows);
    const expectedLoss = reference.softmaxCrossEntropy(logits, targets, expectedProbs, expectedGrad, rows, cols, 1 / rows);
    expect(Number.isFinite(loss)).toBe(true);
    expect(Math.abs(loss - expectedLoss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expectedLoss)));
    expectClose(probs, expectedProbs, rows * cols, 1e-7, 1e-5);
    expectClose(grad, expectedGrad, rows * cols, 1e-7, 1e-5);
  });

  test.each([[1, 1], [7, 13], [4, 8], [3, 5]])('addRowVector and sumRows on %i×%i', (rows, cols) => {
    const random = rng(rows + cols);
    const x = filled(kernels, rows * cols, random);
    const bias = filled(kernels, cols, random);
    const expected = copyOf(x);
    kernels.addRowVector(x, bias, rows, cols);
    reference.addRowVector(expected, bias, rows, cols);
    expectClose(x, expected, rows * cols, 1e-7, 1e-6);
    for (const accumulate of [false, true]) {
      const out = filled(kernels, cols, random);
      const expectedOut = copyOf(out);
      kernels.sumRows(x, out, rows, cols, accumulate);
      reference.sumRows(x, expectedOut, rows, cols, accumulate);
      expectClose(out, expectedOut, cols, 1e-6, 1e-5);
    }
  });

  test.each([1, 6, 13, 64])('multiply, axpy and scale on length %i', (length) => {
    const random = rng(length);
    const x = filled(kernels, length, random);
    const y = filled(kernels, length, random);
    const expected = copyOf(y);
    kernels.multiply(x, y, length);
    reference.multiply(x, expected, length);
    expectClose(y, expected, length, 0, 1e-7);
    kernels.axpy(-0.3, x, y, length);
    reference.axpy(-0.3, x, expected, length);
    expectClose(y, expected, length, 1e-7, 1e-6);
    kernels.scale(y, 1.7, length);
    reference.scale(expected, 1.7, length);
    expectClose(y, expected, length, 1e-7, 1e-6);
  });

  test.each([1, 2, 15, 16, 17, 33, 64000, 100001])('dropout on length %i: the reference\'s masks and products, bit for bit, in place too', (length) => {
    const random = rng(length + 1);
    const x = filled(kernels, length, random);
    const y = kernels.alloc(length);
    const mask = kernels.alloc(length);
    const expectedY = new Float32Array(length);
    const expectedMask = new Float32Array(length);
    for (const [keep, key0, key1] of [[0.8, 1, 2], [0.5, 0xffffffff, 0x80000000], [0.9, 3735928559, 0]] as const) {
      kernels.dropout(x, y, mask, length, keep, key0, key1);
      reference.dropout(x, expectedY, expectedMask, length, keep, key0, key1);
      expect(Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength).equals(Buffer.from(expectedMask.buffer))).toBe(true);
      expect(Buffer.from(y.buffer, y.byteOffset, y.byteLength).equals(Buffer.from(expectedY.buffer))).toBe(true);
    }
    const inPlace = copyOf(x);
    reference.dropout(inPlace, inPlace, expectedMask, length, 0.8, 1, 2);
    kernels.dropout(x, x, mask, length, 0.8, 1, 2);
    expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(inPlace.buffer))).toBe(true);
  });

  test.each([[false, 0], [false, 0.9], [true, 0.9]])('sgdStep (nesterov %s, momentum %f) over several steps', (nesterov, momentum) => {
    const length = 23;
    const random = rng(23);
    const w = filled(kernels, length, random);
    const v = kernels.alloc(length);
    const ew = copyOf(w);
    const ev = new Float32Array(length);
    for (let step = 0; step < 5; step++) {
      const g = filled(kernels, length, random);
      kernels.sgdStep(w, g, v, length, 0.1, momentum, 1e-3, nesterov);
      reference.sgdStep(ew, g, ev, length, 0.1, momentum, 1e-3, nesterov);
    }
    expectClose(w, ew, length, 1e-6, 1e-5);
    expectClose(v, ev, length, 1e-6, 1e-5);
  });

  test('adamStep over several steps', () => {
    const length = 29;
    const random = rng(29);
    const w = filled(kernels, length, random);
    const m = kernels.alloc(length);
    const v = kernels.alloc(length);
    const [ew, em, ev] = [copyOf(w), new Float32Array(length), new Float32Array(length)];
    for (let step = 1; step <= 5; step++) {
      const g = filled(kernels, length, random);
      kernels.adamStep(w, g, m, v, length, 1e-3, 0.9, 0.999, 1e-8, 1e-4, step);
      reference.adamStep(ew, g, em, ev, length, 1e-3, 0.9, 0.999, 1e-8, 1e-4, step);
    }
    expectClose(w, ew, length, 1e-6, 1e-5);
    expectClose(m, em, length, 1e-7, 1e-5); // m sums terms of ~0.1 that cancel: absolute error is the scale
    expectClose(v, ev, length, 1e-9, 1e-5);
  });

  test('alloc returns zeroed arrays, also after free', () => {
    const x = kernels.alloc(100);
    expect(x.length).toBe(100);
    x.fill(3);
    kernels.free(x);
    const y = kernels.alloc(100);
    expect(Array.from(y).every((v) => v === 0)).toBe(true);
    expect(kernels.alloc(0).length).toBe(0);
  });
});

describe.each(BACKENDS.filter((b) => b !== 'typescript'))('%s memory', (backend) => {
  test('arrays not from alloc, and arrays too short for the shape, are rejected with context', async () => {
    const kernels = await loadKernels({ backend, memoryBytes: MEMORY });
    const a = kernels.alloc(6);
    const c = kernels.alloc(4);
    expect(() => kernels.matmul(new Float32Array(6), a, c, 2, 3, 2)).toThrow(KernelArgumentError);
    expect(() => kernels.matmul(a, a, c, 2, 3, 2)).not.toThrow();
    expect(() => kernels.matmul(a, a, c, 2, 3, 3)).toThrow(/matmul: argument b: holds 6 floats, the shape needs 9/);
    expect(() => kernels.free(new Float32Array(2))).toThrow(KernelArgumentError);
    expect(() => kernels.free(a.subarray(1))).toThrow(KernelArgumentError);
  });

  test('memory never grows: exhaustion is a typed error, and freed memory is reused', async () => {
    const kernels = await loadKernels({ backend, memoryBytes: 1024 * 1024 });
    const first = kernels.alloc(128 * 1024); // half the memory
    const view = first;
    expect(() => kernels.alloc(200 * 1024)).toThrow(KernelMemoryExhaustedError);
    kernels.free(first);
    const again = kernels.alloc(200 * 1024);
    expect(again.length).toBe(200 * 1024);
    expect(view.length).toBe(128 * 1024); // still attached
  });
});

// A loop, not describe.each: without native kernels there is no table, and the suite above covers WebAssembly.
for (const backend of NATIVE_BACKENDS) {
  describe(`${backend} on 1, 2 and 3 threads`, () => {
  // Above the sizes where calls are split (products of ≥ 200,000 multiply-adds, ≥ 65,536 elements).
  test('gives bit-identical results: each output element is computed the same way on any thread', async () => {
    const runs = await Promise.all([1, 2, 3].map((threads) => loadKernels({ backend, threads, memoryBytes: MEMORY })));
    const outputs = runs.map((kernels) => {
      const random = rng(99);
      const results: Float32Array[] = [];
      for (const [product, m, k, n] of [['matmul', 128, 784, 500], ['matmulTN', 784, 128, 500], ['matmulNT', 128, 500, 784], ['matmul', 500, 128, 10], ['matmulTN', 500, 128, 10], ['matmulNT', 133, 37, 61]] as const) {
        const a = filled(kernels, m * k, random);
        const b = filled(kernels, k * n, random);
        const c = filled(kernels, m * n, random);
        kernels[product](a, b, c, m, k, n, true);
        results.push(copyOf(c));
      }
      const length = 200_003;
      const x = filled(kernels, length, random, -5, 5);
      const y = kernels.alloc(length);
      kernels.activate('tanh', x, y, length);
      const g = filled(kernels, length, random);
      const v = kernels.alloc(length);
      kernels.sgdStep(x, g, v, length, 0.1, 0.9, 1e-4, true);
      const rows = 399;
      const cols = 500;
      const out = kernels.alloc(cols);
      kernels.sumRows(x.subarray(0, rows * cols), out, rows, cols);
      kernels.addRowVector(x, out, rows, cols);
      results.push(copyOf(y), copyOf(x), copyOf(v), copyOf(out));
      return results;
    });
    for (const other of outputs.slice(1)) {
      other.forEach((result, i) => expect(Buffer.from(result.buffer).equals(Buffer.from(outputs[0][i].buffer))).toBe(true));
    }
    const random = rng(5);
    const [m, k, n] = [128, 784, 500];
    const kernels = runs[1];
    const a = filled(kernels, m * k, random);
    const b = filled(kernels, k * n, random);
    const c = kernels.alloc(m * n);
    const expected = new Float32Array(m * n);
    kernels.matmul(a, b, c, m, k, n);
    reference.matmul(a, b, expected, m, k, n);
    expectClose(c, expected, m * n, 1e-4, 1e-5);
  });

    // Eight threads on this machine's few cores: many calls end before some threads start, which
    // then skip them (pool.c), and the threads that ran must have done every unit between them.
    test('on more threads than cores, calls that some threads join late or never give the bits of one thread, call after call', async () => {
      const [one, many] = await Promise.all([1, 8].map((threads) => loadKernels({ backend, threads, memoryBytes: MEMORY })));
      const run = (kernels: Kernels, round: number): Float32Array[] => {
        const random = rng(1000 + round);
        const [m, k, n] = [128, 300, 200];
        const x = kernels.alloc(m * k);
        const data = filled(kernels, 1000 * k, random);
        const order = Int32Array.from({ length: m }, () => Math.floor(random() * 1000));
        kernels.loadRows(x, data, m, k, order);
        for (let r = 0; r < m; r++) for (let j = 0; j < 40; j++) x[r * k + j] = 0; // columns for the products to skip
        const w = filled(kernels, k * n, random);
        const z = kernels.alloc(m * n);
        kernels.matmul(x, w, z, m, k, n, false, true);
        const bias = filled(kernels, n, random);
        kernels.addRowVector(z, bias, m, n);
        const mask = kernels.alloc(m * n);
        kernels.dropout(z, z, mask, m * n, 0.8, round, 7);
        const dw = kernels.alloc(k * n);
        kernels.matmulTN(x, z, dw, k, m, n, false, true);
        const dx = kernels.alloc(m * k);
        kernels.matmulNT(z, w, dx, m, n, k);
        const sums = kernels.alloc(n);
        kernels.sumRows(z, sums, m, n);
        const v = kernels.alloc(k * n);
        kernels.sgdStep(w, dw, v, k * n, 0.05, 0.9, 1e-4, true);
        const out = [x, z, mask, dw, dx, sums, w, v].map(copyOf);
        for (const a of [x, data, w, z, mask, dw, dx, sums, v, bias]) kernels.free(a);
        return out;
      };
      for (let round = 0; round < 60; round++) {
        const expected = run(one!, round);
        const got = run(many!, round);
        got.forEach((g, i) => expect(Buffer.from(g.buffer).equals(Buffer.from(expected[i]!.buffer))).toBe(true));
      }
    });

    test('computes with denormals flushed to zero on every thread, and leaves JavaScript\'s IEEE denormals alone', async () => {
      const denormal = 1e-39; // below 2^-126 as a float
      for (const threads of [1, 2]) {
        const kernels = await loadKernels({ backend, threads, memoryBytes: MEMORY });
        const length = 100_000; // split over the threads
        const x = kernels.alloc(length);
        x.fill(denormal);
        expect(x[0]).toBeGreaterThan(0);
        kernels.scale(x, 1, length);
        expect(x.every((v) => v === 0)).toBe(true);
        const y = kernels.alloc(length);
        y.fill(2e-38);
        kernels.scale(y, 0.25, length); // 5e-39: a denormal result
        expect(y.every((v) => v === 0)).toBe(true);
      }
      // The calling thread's flags are restored: JavaScript still computes with denormals.
      const tiny = Number('4e-320');
      expect(tiny * 2).toBe(8e-320);
      expect(Math.fround(1e-39)).toBeGreaterThan(0);
    });

    test('a narrow Aᵀ·B (the output layer\'s weight gradient, computed as its transpose) has the bits of A·B with the transpose of a written out', async () => {
      for (const threads of [1, 2]) {
        const kernels = await loadKernels({ backend, threads, memoryBytes: MEMORY });
        const random = rng(510);
        for (const [m, k, n] of [[500, 128, 10], [300, 37, 1], [256, 64, 31]] as const) {
          const a = filled(kernels, k * m, random);
          const b = filled(kernels, k * n, random);
          const aT = kernels.alloc(m * k);
          for (let p = 0; p < k; p++) for (let i = 0; i < m; i++) aT[i * k + p] = a[p * m + i];
          for (const accumulate of [false, true]) {
            const start = filled(kernels, m * n, random);
            const [viaTN, viaNN] = twoCopies(kernels, start);
            kernels.matmulTN(a, b, viaTN, m, k, n, accumulate);
            kernels.matmul(aT, b, viaNN, m, k, n, accumulate);
            expectSameBits(`${threads} thread(s), ${m}×${k}×${n}, accumulate=${accumulate}`, viaNN, viaTN, true);
            for (const x of [start, viaTN, viaNN]) kernels.free(x);
          }
          for (const x of [a, b, aT]) kernels.free(x);
        }
      }
    });

    test('the addon itself refuses a row number outside src, on one thread and two (no read past the array)', () => {
      const status = nativeKernelsStatus();
      if (!status.available) throw new Error(`native kernels expected: ${status.reason}`);
      const isa = backend === 'native-avx512' ? 'avx512' : 'avx2';
      for (const threads of [1, 2]) {
        const [handle] = status.addon.create(1 << 20, threads, isa);
        const src = new Float32Array(200 * 100);
        const order = new Int32Array(200).map((_, i) => 199 - i);
        expect(() => status.addon.loadRows(handle, 0, src, 200, 100, order)).not.toThrow();
        for (const bad of [200, -1, 1 << 30]) {
          order[150] = bad;
          expect(() => status.addon.loadRows(handle, 0, src, 200, 100, order)).toThrow(/loadRows: an entry of order is not a row of src/);
        }
        expect(() => status.addon.loadRows(handle, 0, src, 200, 100, order.subarray(0, 199))).toThrow(/order holds fewer than rows entries/);
        expect(() => status.addon.loadRows(handle, 0, src, 200, 100, new Float32Array(200) as unknown as Int32Array)).toThrow(/expected an Int32Array/);
      }
    });

    test('leaves out the columns of a layer input that are zero in every row (a NaN they would meet in b does not reach c)', async () => {
      // The one observable difference from the whole product: here, that the columns are skipped.
      const kernels = await loadKernels({ backend, threads: 2, memoryBytes: MEMORY });
      const [m, k, n] = [128, 784, 64];
      const random = rng(8);
      const x = filled(kernels, m * k, random);
      for (let r = 0; r < m; r++) x[r * k + 5] = 0;
      const w = filled(kernels, k * n, random);
      w[5 * n + 3] = Number.NaN;
      const z = kernels.alloc(m * n);
      kernels.matmul(x, w, z, m, k, n, false, true);
      expect(z.every(Number.isFinite)).toBe(true);
      kernels.matmul(x, w, z, m, k, n);
      expect(Number.isNaN(z[3])).toBe(true);
      // xᵀ·dZ: the weight gradient's row 5 is zero, not NaN, and the others are computed.
      const dZ = filled(kernels, m * n, random);
      dZ[7 * n] = Number.NaN;
      const g = filled(kernels, k * n, random);
      x[7 * k + 9] = 0.5;
      for (let r = 0; r < m; r++) if (r !== 7) x[r * k + 9] = 0;
      kernels.matmulTN(x, dZ, g, k, m, n, false, true);
      expect(Array.from(g.subarray(5 * n, 6 * n)).every((v) => v === 0)).toBe(true);
      expect(Number.isNaN(g[9 * n])).toBe(true);
      expect(Number.isNaN(g[0])).toBe(true);
    });

    test('the same seed trains the same model, bit for bit, on 1 and 2 threads', async () => {
      const spec: ModelSpec = {
        inputSize: 300,
        layers: [{ size: 256, activation: 'relu', dropout: 0.1 }, { size: 10, activation: 'softmax' }],
        cost: 'crossEntropy',
        seed: 3,
        optimizer: { kind: 'momentum', learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4 },
      };
      const random = rng(11);
      // A third of the input's columns zero in every sample, as pixels are: the first layer skips them.
      const x = Float32Array.from({ length: 64 * 300 }, (_, i) => (i % 3 === 0 ? 0 : random()));
      const y = new Float32Array(64 * 10);
      for (let r = 0; r < 64; r++) y[r * 10 + (r % 10)] = 1;
      const trained = await Promise.all([1, 2].map(async (threads) => {
        const model = new Model(spec, await loadKernels({ backend, threads, memoryBytes: MEMORY }));
        for (let step = 0; step < 5; step++) model.trainStep(x, y, 64);
        return Buffer.from(model.parameters().slice().buffer);
      }));
      expect(trained[0].equals(trained[1])).toBe(true);
    });
});
}

test('the addon is looked for in the build output and, for YARN containers, in the working directory under its localized name', () => {
  expect(RESOURCE.nativeKernels).toBe(NATIVE_KERNELS_FILE);
  const candidates = nativeKernelsCandidates({}, '/container/work');
  expect(candidates[candidates.length - 1]).toBe(`/container/work/${NATIVE_KERNELS_FILE}`);
  expect(candidates).toContain(join(__dirname, '../../../dist', NATIVE_KERNELS_FILE));
  expect(nativeKernelsCandidates({ HORN_NATIVE_KERNELS: 'lib/k.node' }, '/w')).toEqual(['/w/lib/k.node']);
  expect(nativeKernelsCandidates({ HORN_NATIVE_KERNELS: 'off' }, '/w')).toEqual([]);
});

describe('enabling relaxed SIMD behind a V8 flag', () => {
  test('a runtime that validates already is not touched', () => {
    const setFlag = jest.fn();
    expect(enableBehindFlag(() => true, setFlag, '--x')).toBe(true);
    expect(setFlag).not.toHaveBeenCalled();
  });

  test('the flag is set once and the answer after it counts', () => {
    let enabled = false;
    const setFlag = jest.fn((flag: string) => {
      enabled = flag === '--experimental-wasm-relaxed-simd';
    });
    expect(enableBehindFlag(() => enabled, setFlag, '--experimental-wasm-relaxed-simd')).toBe(true);
    expect(setFlag).toHaveBeenCalledTimes(1);
    expect(enableBehindFlag(() => false, () => undefined, '--x')).toBe(false);
  });

  test('a runtime that rejects the flag has no relaxed SIMD', () => {
    expect(enableBehindFlag(() => false, () => { throw new Error('unknown flag'); }, '--x')).toBe(false);
  });
});
