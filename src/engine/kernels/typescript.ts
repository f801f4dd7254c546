import { ReferenceKernels } from './reference';
import type { ElementwiseActivation } from './types';

// The pure-TypeScript backend for runtimes without WebAssembly SIMD. Matrix products use a
// 4×4 register tile over A packed into 4-row strips and a packed 4-column panel of B: sixteen
// accumulators stay in registers, each loaded value is used four times, and the transposed
// variants run the same loop because the packing absorbs the transpose.
// Elementwise work inherits the reference loops (already memory-bound) except where a
// branch-free loop per activation kind matters.

const NR = 4;
const MR = 4;

export class TypeScriptKernels extends ReferenceKernels {
  private panel = new Float32Array(0);
  private packedA = new Float32Array(0);

  override matmul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false): void {
    this.gemm(false, false, a, b, c, m, k, n, accumulate);
  }

  override matmulTN(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false): void {
    this.gemm(true, false, a, b, c, m, k, n, accumulate);
  }

  override matmulNT(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false): void {
    this.gemm(false, true, a, b, c, m, k, n, accumulate);
  }

  override activate(kind: ElementwiseActivation, x: Float32Array, y: Float32Array, length: number, alpha = 0.01): void {
    switch (kind) {
      case 'identity':
        if (x !== y) y.set(x.subarray(0, length));
        return;
      case 'relu':
        // Branch-free ((v + |v|)/2 is exact in double): signs of activations are random,
        // and a mispredicted branch per element made this loop 6× slower.
        for (let i = 0; i < length; i++) {
          const v = x[i];
          y[i] = (v + Math.abs(v)) * 0.5;
        }
        return;
      case 'leakyRelu':
        for (let i = 0; i < length; i++) y[i] = x[i] > 0 ? x[i] : alpha * x[i];
        return;
      case 'sigmoid':
        for (let i = 0; i < length; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
        return;
      case 'tanh':
        for (let i = 0; i < length; i++) y[i] = Math.tanh(x[i]);
        return;
    }
  }

  override activateBackward(kind: ElementwiseActivation, y: Float32Array, dy: Float32Array, dx: Float32Array, length: number, alpha = 0.01): void {
    switch (kind) {
      case 'identity':
        if (dx !== dy) dx.set(dy.subarray(0, length));
        return;
      case 'relu':
        for (let i = 0; i < length; i++) dx[i] = dy[i] * +(y[i] > 0); // branch-free, as in activate
        return;
      case 'leakyRelu':
        for (let i = 0; i < length; i++) dx[i] = y[i] > 0 ? dy[i] : alpha * dy[i];
        return;
      case 'sigmoid':
        for (let i = 0; i < length; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
        return;
      case 'tanh':
        for (let i = 0; i < length; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
        return;
    }
  }

  /** C(m×n) (+)= op(A)·op(B); transA: A stored k×m, transB: B stored n×k. */
  private gemm(transA: boolean, transB: boolean, a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate: boolean): void {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
      if (!accumulate) c.fill(0, 0, m * n);
      return;
    }
    const strips = Math.ceil(m / MR);
    if (this.panel.length < k * NR) this.panel = new Float32Array(k * NR);
    if (this.packedA.length < strips * MR * k) this.packedA = new Float32Array(strips * MR * k);
    const panel = this.panel;
    const packedA = this.packedA;
    // Contiguous strips make the inner loop read A and B at one running index each, which is
    // what lets V8 keep sixteen accumulators in registers (strided reads ran at half speed).
    packStrips(transA, a, packedA, m, k);
    for (let j0 = 0; j0 < n; j0 += NR) {
      const cols = Math.min(NR, n - j0);
      packPanel(transB, b, panel, k, n, j0, cols);
      for (let s = 0; s < strips; s++) {
        const i0 = s * MR;
        const rows = Math.min(MR, m - i0);
        const base = s * MR * k;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let p = 0, q = 0; p < k; p++, q += 4) {
          const b0 = panel[q], b1 = panel[q + 1], b2 = panel[q + 2], b3 = panel[q + 3];
          let x = packedA[base + q];
          c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
          x = packedA[base + q + 1];
          c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
          x = packedA[base + q + 2];
          c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
          x = packedA[base + q + 3];
          c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
        }
        const at = i0 * n + j0;
        if (rows === MR && cols === NR) {
          storeRow(c, at, c00, c01, c02, c03, accumulate);
          storeRow(c, at + n, c10, c11, c12, c13, accumulate);
          storeRow(c, at + 2 * n, c20, c21, c22, c23, accumulate);
          storeRow(c, at + 3 * n, c30, c31, c32, c33, accumulate);
        } else {
          const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
          for (let r = 0; r < rows; r++) {
            for (let j = 0; j < cols; j++) {
              const o = at + r * n + j;
              c[o] = accumulate ? c[o] + tile[r * NR + j] : tile[r * NR + j];
            }
          }
        }
      }
    }
  }
}

/** op(A) (m×k) as 4-row strips of k groups of 4 floats; rows past m are zero. */
function packStrips(transA: boolean, a: Float32Array, dst: Float32Array, m: number, k: number): void {
  for (let i0 = 0, d = 0; i0 < m; i0 += MR, d += MR * k) {
    const rows = Math.min(MR, m - i0);
    if (rows < MR) dst.fill(0, d, d + MR * k);
    for (let r = 0; r < rows; r++) {
      const i = i0 + r;
      if (transA) for (let p = 0, q = d + r, s = i; p < k; p++, q += MR, s += m) dst[q] = a[s];
      else for (let p = 0, q = d + r, s = i * k; p < k; p++, q += MR, s++) dst[q] = a[s];
    }
  }
}

function storeRow(c: Float32Array, at: number, v0: number, v1: number, v2: number, v3: number, accumulate: boolean): void {
  if (accumulate) {
    c[at] += v0; c[at + 1] += v1; c[at + 2] += v2; c[at + 3] += v3;
  } else {
    c[at] = v0; c[at + 1] = v1; c[at + 2] = v2; c[at + 3] = v3;
  }
}

/** Columns j0..j0+cols of op(B) as k groups of NR floats, zero past `cols`. */
function packPanel(transB: boolean, b: Float32Array, panel: Float32Array, k: number, n: number, j0: number, cols: number): void {
  if (cols < NR) panel.fill(0, 0, k * NR);
  if (!transB) {
    for (let p = 0, q = 0, s = j0; p < k; p++, q += NR, s += n) {
      for (let j = 0; j < cols; j++) panel[q + j] = b[s + j];
    }
    return;
  }
  for (let j = 0; j < cols; j++) {
    const row = (j0 + j) * k;
    for (let p = 0, q = j; p < k; p++, q += NR) panel[q] = b[row + p];
  }
}
