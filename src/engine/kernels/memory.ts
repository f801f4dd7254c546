import { Arena } from './arena';
import { dropoutInto } from './dropout';
import { KernelArgumentError } from './errors';
import { checkRowOrder, copyRows } from './reference';
import type { ElementwiseActivation, KernelBackendName, Kernels } from './types';

// Kernels that compute on one fixed block of memory addressed by byte offsets: the WebAssembly
// modules (their linear memory) and the native addon (memory it maps and exposes as an
// ArrayBuffer). `alloc` hands out Float32Array views into that block and every call passes the
// views' byte offsets, so no data is copied between JavaScript and the kernels.

/** The kernel entry points of a backend, in byte offsets of its memory. */
export interface OffsetKernelFunctions {
  /** skipZeroColumnsOfA: Kernels.matmul's hint, 1 or 0 (the WebAssembly modules take no such argument and ignore it). */
  gemm(transA: number, transB: number, a: number, b: number, c: number, m: number, k: number, n: number, accumulate: number, scratch: number, skipZeroColumnsOfA: number): void;
  /** Floats of scratch memory gemm needs (0: the backend brings its own). */
  gemmScratchFloats(transA: number, m: number, k: number): number;
  /** src (and order) are arrays anywhere, not offsets. Absent from the WebAssembly modules: MemoryKernels then copies with TypedArray.set. */
  loadRows?(dst: number, src: Float32Array, rows: number, cols: number, order?: Int32Array): void;
  addRowVector(x: number, bias: number, rows: number, cols: number): void;
  sumRows(x: number, out: number, rows: number, cols: number, accumulate: number): void;
  activate(kind: number, x: number, y: number, length: number, alpha: number): void;
  activateBackward(kind: number, y: number, dy: number, dx: number, length: number, alpha: number): void;
  softmaxCrossEntropy(logits: number, targets: number, probs: number, grad: number, rows: number, cols: number, gradScale: number): number;
  multiply(x: number, y: number, length: number): void;
  /** Absent from the WebAssembly modules: MemoryKernels then computes the same masks in JavaScript. */
  dropout?(x: number, y: number, mask: number, length: number, keep: number, key0: number, key1: number): void;
  axpy(alpha: number, x: number, y: number, length: number): void;
  scale(x: number, alpha: number, length: number): void;
  sgdStep(w: number, g: number, v: number, length: number, lr: number, momentum: number, weightDecay: number, nesterov: number): void;
  adamStep(w: number, g: number, m: number, v: number, length: number, beta1: number, beta2: number, oneMinusBeta1: number, oneMinusBeta2: number, epsilon: number, weightDecay: number, lrOverC1: number, invC2: number): void;
}

/** Names of OffsetKernelFunctions, for checking a module's exports. */
export const OFFSET_KERNEL_FUNCTIONS: readonly (keyof OffsetKernelFunctions)[] = [
  'gemm', 'gemmScratchFloats', 'addRowVector', 'sumRows', 'activate', 'activateBackward', 'softmaxCrossEntropy',
  'multiply', 'axpy', 'scale', 'sgdStep', 'adamStep',
];

/** The activation codes both the WebAssembly and the native kernels use. */
const ACTIVATION_CODE: Record<ElementwiseActivation, number> = {
  identity: 0,
  relu: 1,
  leakyRelu: 2,
  sigmoid: 3,
  tanh: 4,
};

export class MemoryKernels implements Kernels {
  private scratchOffset = -1;
  private scratchBytes = 0;

  constructor(
    readonly backend: KernelBackendName,
    readonly threads: number,
    private readonly fn: OffsetKernelFunctions,
    private readonly buffer: ArrayBuffer,
    private readonly arena: Arena,
  ) {}

  get memoryCapacityBytes(): number {
    return this.arena.capacityBytes;
  }

  get memoryFreeBytes(): number {
    return this.arena.freeBytes;
  }

  alloc(length: number): Float32Array {
    if (!Number.isInteger(length) || length < 0) throw new KernelArgumentError('alloc', 'length', `must be a non-negative integer, got ${length}`);
    const offset = this.arena.allocate(length * 4);
    const view = new Float32Array(this.buffer, offset, length);
    // Released blocks come back dirty; the contract promises zeros.
    view.fill(0);
    return view;
  }

  free(array: Float32Array): void {
    if (array.buffer !== this.buffer) throw new KernelArgumentError('free', 'array', 'was not allocated by these kernels');
    this.arena.release(array.byteOffset);
  }

  matmul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false, skipZeroColumnsOfA = false): void {
    this.gemm('matmul', 0, 0, a, b, c, m, k, n, accumulate, skipZeroColumnsOfA);
  }

  matmulTN(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false, skipZeroColumnsOfA = false): void {
    this.gemm('matmulTN', 1, 0, a, b, c, m, k, n, accumulate, skipZeroColumnsOfA);
  }

  matmulNT(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false): void {
    this.gemm('matmulNT', 0, 1, a, b, c, m, k, n, accumulate, false);
  }

  loadRows(dst: Float32Array, src: Float32Array, rows: number, cols: number, order?: Int32Array): void {
    const op = 'loadRows';
    const length = rows * cols;
    const to = this.at(op, 'dst', dst, length);
    if (order) checkRowOrder(op, order, rows, src, cols);
    else if (src.length < length) throw new KernelArgumentError(op, 'src', `holds ${src.length} floats, the shape needs ${length}`);
    // A src in this memory may overlap dst: without order, TypedArray.set copies it as if through a buffer.
    if (this.fn.loadRows && src.buffer !== this.buffer) this.fn.loadRows(to, src, rows, cols, order);
    else copyRows(dst, src, rows, cols, order);
  }

  addRowVector(x: Float32Array, bias: Float32Array, rows: number, cols: number): void {
    const op = 'addRowVector';
    this.fn.addRowVector(this.at(op, 'x', x, rows * cols), this.at(op, 'bias', bias, cols), rows, cols);
  }

  sumRows(x: Float32Array, out: Float32Array, rows: number, cols: number, accumulate = false): void {
    const op = 'sumRows';
    this.fn.sumRows(this.at(op, 'x', x, rows * cols), this.at(op, 'out', out, cols), rows, cols, accumulate ? 1 : 0);
  }

  activate(kind: ElementwiseActivation, x: Float32Array, y: Float32Array, length: number, alpha = 0.01): void {
    const op = 'activate';
    this.fn.activate(ACTIVATION_CODE[kind], this.at(op, 'x', x, length), this.at(op, 'y', y, length), length, alpha);
  }

  activateBackward(kind: ElementwiseActivation, y: Float32Array, dy: Float32Array, dx: Float32Array, length: number, alpha = 0.01): void {
    const op = 'activateBackward';
    this.fn.activateBackward(ACTIVATION_CODE[kind], this.at(op, 'y', y, length), this.at(op, 'dy', dy, length), this.at(op, 'dx', dx, length), length, alpha);
  }

  softmaxCrossEntropy(logits: Float32Array, targets: Float32Array, probs: Float32Array, grad: Float32Array, rows: number, cols: number, gradScale: number): number {
    const op = 'softmaxCrossEntropy';
    const size = rows * cols;
    return this.fn.softmaxCrossEntropy(
      this.at(op, 'logits', logits, size), this.at(op, 'targets', targets, size),
      this.at(op, 'probs', probs, size), this.at(op, 'grad', grad, size), rows, cols, gradScale,
    );
  }

  multiply(x: Float32Array, y: Float32Array, length: number): void {
    this.fn.multiply(this.at('multiply', 'x', x, length), this.at('multiply', 'y', y, length), length);
  }

  dropout(x: Float32Array, y: Float32Array, mask: Float32Array, length: number, keep: number, key0: number, key1: number): void {
    const op = 'dropout';
    const [xo, yo, mo] = [this.at(op, 'x', x, length), this.at(op, 'y', y, length), this.at(op, 'mask', mask, length)];
    if (this.fn.dropout) this.fn.dropout(xo, yo, mo, length, keep, key0 >>> 0, key1 >>> 0);
    else dropoutInto(x, y, mask, length, keep, key0, key1);
  }

  axpy(alpha: number, x: Float32Array, y: Float32Array, length: number): void {
    this.fn.axpy(alpha, this.at('axpy', 'x', x, length), this.at('axpy', 'y', y, length), length);
  }

  scale(x: Float32Array, alpha: number, length: number): void {
    this.fn.scale(this.at('scale', 'x', x, length), alpha, length);
  }

  sgdStep(w: Float32Array, g: Float32Array, v: Float32Array, length: number, lr: number, momentum: number, weightDecay: number, nesterov: boolean): void {
    const op = 'sgdStep';
    this.fn.sgdStep(this.at(op, 'w', w, length), this.at(op, 'g', g, length), this.at(op, 'v', v, length), length, lr, momentum, weightDecay, nesterov ? 1 : 0);
  }

  adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, length: number, lr: number, beta1: number, beta2: number, epsilon: number, weightDecay: number, step: number): void {
    const op = 'adamStep';
    // In double precision here: in f32, 1 − 0.999 is off by 1e-5 relative.
    const c1 = 1 - Math.pow(beta1, step);
    const c2 = 1 - Math.pow(beta2, step);
    this.fn.adamStep(
      this.at(op, 'w', w, length), this.at(op, 'g', g, length), this.at(op, 'm', m, length), this.at(op, 'v', v, length),
      length, beta1, beta2, 1 - beta1, 1 - beta2, epsilon, weightDecay, lr / c1, 1 / c2,
    );
  }

  private gemm(op: string, transA: number, transB: number, a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate: boolean, skipZeroColumnsOfA: boolean): void {
    if (m <= 0 || n <= 0) return;
    const pa = this.at(op, 'a', a, m * k);
    const pb = this.at(op, 'b', b, k * n);
    const pc = this.at(op, 'c', c, m * n);
    const scratch = this.scratch(this.fn.gemmScratchFloats(transA, m, k) * 4);
    this.fn.gemm(transA, transB, pa, pb, pc, m, k, n, accumulate ? 1 : 0, scratch, skipZeroColumnsOfA ? 1 : 0);
  }

  /** A byte range for packed operands; kept between calls and only ever enlarged. */
  private scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchOffset >= 0) this.arena.release(this.scratchOffset);
      // Reset both first: if allocate throws, the next call must not reuse the released block.
      this.scratchOffset = -1;
      this.scratchBytes = 0;
      this.scratchOffset = this.arena.allocate(bytes);
      this.scratchBytes = bytes;
    }
    return this.scratchOffset;
  }

  /** The byte offset of `array`, after checking it lives in this memory and holds `needed` floats. */
  private at(op: string, name: string, array: Float32Array, needed: number): number {
    if (array.buffer !== this.buffer) throw new KernelArgumentError(op, name, 'is not an array from alloc() of these kernels');
    if (array.length < needed) throw new KernelArgumentError(op, name, `holds ${array.length} floats, the shape needs ${needed}`);
    return array.byteOffset;
  }
}
