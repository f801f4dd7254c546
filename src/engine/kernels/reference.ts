import type { ElementwiseActivation, Kernels } from './types';
import { dropoutInto } from './dropout';
import { KernelArgumentError } from './errors';

// Straight-line loops that define what every backend must compute. Tests compare the fast
// backends against these; the engine may use them where nothing faster is available.
export class ReferenceKernels implements Kernels {
  readonly backend = 'typescript' as const;
  readonly threads = 1;

  alloc(length: number): Float32Array {
    return new Float32Array(length);
  }

  free(_array: Float32Array): void {
    // Garbage-collected.
  }

  matmul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false): void {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
        c[i * n + j] = accumulate ? c[i * n + j] + s : s;
      }
    }
  }

  loadRows(dst: Float32Array, src: Float32Array, rows: number, cols: number, order?: Int32Array): void {
    // Checked here too, unlike the shapes: a wrong row number would otherwise train on zeros.
    if (order) checkRowOrder('loadRows', order, rows, src, cols);
    copyRows(dst, src, rows, cols, order);
  }

  matmulTN(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false): void {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[p * m + i] * b[p * n + j];
        c[i * n + j] = accumulate ? c[i * n + j] + s : s;
      }
    }
  }

  matmulNT(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false): void {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
        c[i * n + j] = accumulate ? c[i * n + j] + s : s;
      }
    }
  }

  addRowVector(x: Float32Array, bias: Float32Array, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) x[r * cols + c] += bias[c];
  }

  sumRows(x: Float32Array, out: Float32Array, rows: number, cols: number, accumulate = false): void {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += x[r * cols + c];
      out[c] = accumulate ? out[c] + s : s;
    }
  }

  activate(kind: ElementwiseActivation, x: Float32Array, y: Float32Array, length: number, alpha = 0.01): void {
    for (let i = 0; i < length; i++) y[i] = activation(kind, x[i], alpha);
  }

  activateBackward(kind: ElementwiseActivation, y: Float32Array, dy: Float32Array, dx: Float32Array, length: number, alpha = 0.01): void {
    for (let i = 0; i < length; i++) dx[i] = dy[i] * activationDerivativeFromOutput(kind, y[i], alpha);
  }

  softmaxCrossEntropy(logits: Float32Array, targets: Float32Array, probs: Float32Array, grad: Float32Array, rows: number, cols: number, gradScale: number): number {
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, logits[o + c]);
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += Math.exp(logits[o + c] - max);
      const logSum = Math.log(sum);
      for (let c = 0; c < cols; c++) {
        const logP = logits[o + c] - max - logSum;
        const p = Math.exp(logP);
        probs[o + c] = p;
        if (targets[o + c] !== 0) loss -= targets[o + c] * logP;
        grad[o + c] = (p - targets[o + c]) * gradScale;
      }
    }
    return loss;
  }

  multiply(x: Float32Array, y: Float32Array, length: number): void {
    for (let i = 0; i < length; i++) y[i] *= x[i];
  }
  dropout(x: Float32Array, y: Float32Array, mask: Float32Array, length: number, keep: number, key0: number, key1: number): void {
    dropoutInto(x, y, mask, length, keep, key0, key1);
  }


  axpy(alpha: number, x: Float32Array, y: Float32Array, length: number): void {
    for (let i = 0; i < length; i++) y[i] += alpha * x[i];
  }

  scale(x: Float32Array, alpha: number, length: number): void {
    for (let i = 0; i < length; i++) x[i] *= alpha;
  }

  sgdStep(w: Float32Array, g: Float32Array, v: Float32Array, length: number, lr: number, momentum: number, weightDecay: number, nesterov: boolean): void {
    for (let i = 0; i < length; i++) {
      const gi = g[i] + weightDecay * w[i];
      const vi = momentum * v[i] + gi;
      v[i] = vi;
      w[i] -= lr * (nesterov ? gi + momentum * vi : vi);
    }
  }

  adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, length: number, lr: number, beta1: number, beta2: number, epsilon: number, weightDecay: number, step: number): void {
    const c1 = 1 - Math.pow(beta1, step);
    const c2 = 1 - Math.pow(beta2, step);
    for (let i = 0; i < length; i++) {
      const gi = g[i] + weightDecay * w[i];
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + epsilon);
    }
  }
}

export function activation(kind: ElementwiseActivation, x: number, alpha: number): number {
  switch (kind) {
    case 'identity': return x;
    case 'relu': return x > 0 ? x : 0;
    case 'leakyRelu': return x > 0 ? x : alpha * x;
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'tanh': return Math.tanh(x);
  }
}

/** The derivative expressed through the activation's output, which is what backward passes keep. */
export function activationDerivativeFromOutput(kind: ElementwiseActivation, y: number, alpha: number): number {
  switch (kind) {
    case 'identity': return 1;
    case 'relu': return y > 0 ? 1 : 0;
    case 'leakyRelu': return y > 0 ? 1 : alpha;
    case 'sigmoid': return y * (1 - y);
    case 'tanh': return 1 - y * y;
  }
}

/** Kernels.loadRows in JavaScript; without `order`, TypedArray.set also handles a src that overlaps dst. */
export function copyRows(dst: Float32Array, src: Float32Array, rows: number, cols: number, order?: Int32Array): void {
  if (!order) {
    dst.set(src.subarray(0, rows * cols));
    return;
  }
  for (let i = 0; i < rows; i++) {
    const r = order[i]!;
    dst.set(src.subarray(r * cols, (r + 1) * cols), i * cols);
  }
}

/** Every one of the first `rows` entries of `order` is a row of src, whose rows are `cols` wide. */
export function checkRowOrder(op: string, order: Int32Array, rows: number, src: Float32Array, cols: number): void {
  const sourceRows = Math.floor(src.length / cols);
  if (order.length < rows) throw new KernelArgumentError(op, 'order', `holds ${order.length} row numbers, the batch has ${rows} rows`);
  for (let i = 0; i < rows; i++) {
    const r = order[i]!;
    if (r < 0 || r >= sourceRows) throw new KernelArgumentError(op, 'order', `order[${i}] = ${r} is not a row of src (it has ${sourceRows})`);
  }
}
