// One dense layer: parameters (views into the model's flat buffers), per-batch workspace, and the
// forward/backward math as whole-matrix kernel calls (or, for a user neuron class, per neuron).
import type { Kernels } from './kernels/types';
import { NeuronLayerRunner, type Downstream } from './neuron';
import type { Rng } from './rng';
import type { Activation } from './spec';

export interface LayerParameters {
  /** inputSize × outputSize, row-major (x · W). Live view. */
  weights: Float32Array;
  bias: Float32Array;
  gradWeights: Float32Array;
  gradBias: Float32Array;
}

export class DenseLayer {
  // Workspace views, valid for `rows` ≤ capacity; (re)bound by bindWorkspace.
  z: Float32Array = new Float32Array(0);
  a: Float32Array = new Float32Array(0);
  /** Output after dropout (aliases `a` when dropout is off or at inference). */
  y: Float32Array = new Float32Array(0);
  dropped: Float32Array = new Float32Array(0);
  mask: Float32Array = new Float32Array(0);
  dZ: Float32Array = new Float32Array(0);
  /** ∂loss/∂input, filled for the previous layer. */
  dX: Float32Array = new Float32Array(0);
  /** Whether `mask` was applied in the last forward. */
  maskActive = false;

  /**
   * The first layer reads the data, where a feature is often zero in every sample of a batch:
   * its products may skip those columns (Kernels.matmul). A hidden layer's input is rarely zero
   * for a whole batch, and looking would cost a pass over it.
   */
  private get readsModelInput(): boolean {
    return this.index === 0;
  }

  constructor(
    readonly index: number,
    readonly inputSize: number,
    readonly size: number,
    /** null for a user-neuron layer */
    readonly activation: Activation | null,
    readonly alpha: number,
    readonly dropout: number,
    readonly params: LayerParameters,
    readonly runner: NeuronLayerRunner | null,
  ) {}

  /** Floats of workspace this layer needs per sample. */
  workspacePerRow(): number {
    const dropout = this.dropout > 0 ? 2 * this.size : 0;
    return 3 * this.size + dropout + (this.index > 0 ? this.inputSize : 0);
  }

  bindWorkspace(buf: Float32Array, capacity: number): Float32Array {
    let off = 0;
    const take = (n: number): Float32Array => {
      const v = buf.subarray(off, off + n * capacity);
      off += n * capacity;
      return v;
    };
    this.z = take(this.size);
    this.a = take(this.size);
    this.dZ = take(this.size);
    if (this.dropout > 0) {
      this.dropped = take(this.size);
      this.mask = take(this.size);
    }
    if (this.index > 0) this.dX = take(this.inputSize);
    return buf.subarray(off);
  }

  /** `probabilitiesFromLoss`: a softmax layer leaves `a` to the fused loss that follows (Kernels.softmaxCrossEntropy writes the probabilities there). */
  forward(k: Kernels, x: Float32Array, rows: number, training: boolean, rng: Rng, probabilitiesFromLoss = false): Float32Array {
    const n = rows * this.size;
    const { weights, bias } = this.params;
    if (this.runner) {
      this.runner.forward({ x, weights, bias, out: this.a }, rows, training);
    } else {
      k.matmul(x, weights, this.z, rows, this.inputSize, this.size, false, this.readsModelInput);
      k.addRowVector(this.z, bias, rows, this.size);
      if (this.activation === 'softmax') {
        if (!probabilitiesFromLoss) softmaxRows(this.z, this.a, rows, this.size);
      }
      else k.activate(this.activation ?? 'identity', this.z, this.a, n, this.alpha);
    }
    this.maskActive = training && this.dropout > 0;
    if (this.maskActive) {
      applyDropout(k, this.a, this.dropped, this.mask, n, 1 - this.dropout, rng);
      this.y = this.dropped;
    } else {
      this.y = this.a;
    }
    return this.y;
  }

  /**
   * Built-in layers: `dY` is ∂loss/∂(this layer's output after dropout), and may be overwritten.
   * Sets dZ, the parameter gradients, and (if wanted) dX.
   */
  backwardBuiltin(k: Kernels, x: Float32Array, dY: Float32Array, rows: number, wantInputGradient: boolean): void {
    const n = rows * this.size;
    if (this.maskActive) k.multiply(this.mask, dY, n);
    if (this.activation === 'softmax') softmaxBackwardRows(this.a, dY, this.dZ, rows, this.size);
    else k.activateBackward(this.activation ?? 'identity', this.a, dY, this.dZ, n, this.alpha);
    this.parameterGradients(k, x, rows, wantInputGradient);
  }

  /** After dZ is known (fused loss or above): dW = Xᵀ·dZ, db = Σ rows dZ, dX = dZ·Wᵀ. */
  parameterGradients(k: Kernels, x: Float32Array, rows: number, wantInputGradient: boolean): void {
    const { weights, gradWeights, gradBias } = this.params;
    k.matmulTN(x, this.dZ, gradWeights, this.inputSize, rows, this.size, false, this.readsModelInput);
    k.sumRows(this.dZ, gradBias, rows, this.size);
    if (wantInputGradient) k.matmulNT(this.dZ, weights, this.dX, rows, this.size, this.inputSize);
  }

  backwardNeurons(k: Kernels, x: Float32Array, down: Downstream, rows: number, wantInputGradient: boolean): void {
    const runner = this.runner as NeuronLayerRunner;
    const { weights, bias, gradWeights, gradBias } = this.params;
    runner.backward({ x, weights, bias, out: this.a }, rows, down, this.dZ, gradWeights, gradBias);
    if (wantInputGradient) k.matmulNT(this.dZ, weights, this.dX, rows, this.size, this.inputSize);
  }
}

/** y = x with inverted dropout (mask: 1/keep or 0); the mask's key is two words of the model's dropout generator. */
export function applyDropout(k: Kernels, x: Float32Array, y: Float32Array, mask: Float32Array, n: number, keep: number, rng: Rng): void {
  const key0 = rng.nextUint32();
  const key1 = rng.nextUint32();
  k.dropout(x, y, mask, n, keep, key0, key1);
}

/** Numerically stable row-wise softmax (max subtracted). */
export function softmaxRows(z: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) if (z[o + c] > max) max = z[o + c];
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp(z[o + c] - max);
      out[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < cols; c++) out[o + c] /= sum;
  }
}

/** dz = p ⊙ (dp − (dp·p)), the softmax Jacobian-vector product per row. */
export function softmaxBackwardRows(p: Float32Array, dp: Float32Array, dz: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dp[o + c] * p[o + c];
    for (let c = 0; c < cols; c++) dz[o + c] = p[o + c] * (dp[o + c] - dot);
  }
}
