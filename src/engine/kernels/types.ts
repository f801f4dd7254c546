// The numeric contract between the neural-network engine and its kernels. Every array is
// row-major fp32. Arrays passed to a Kernels instance must come from its own `alloc` (the
// WebAssembly backends compute on their linear memory without copying).

export type KernelBackendName = 'native-avx512' | 'native-avx2' | 'wasm-relaxed-simd' | 'wasm-simd' | 'typescript';

export interface Kernels {
  readonly backend: KernelBackendName;
  /**
   * Threads each call is split over (the calling thread is one of them), with a fixed partition
   * of the output: results do not depend on the thread count. 1 except for the native backends.
   */
  readonly threads: number;

  /** A zeroed array of `length` floats that these kernels can address directly. */
  alloc(length: number): Float32Array;
  /**
   * Returns an array from `alloc` (the whole array, not a subarray) for reuse. The WebAssembly
   * backends have a fixed-size memory; free what is allocated repeatedly. No-op in TypeScript.
   */
  free(array: Float32Array): void;

  /**
   * c(m×n) = a(m×k) · b(k×n); with `accumulate`, c += a · b.
   * `skipZeroColumnsOfA` (here and in matmulTN) says that `a` is a layer's input, whose columns
   * are often zero in every row of a batch (pixels that no image of it lights, features no sample
   * has). A backend may then leave those columns out; the result has the same bits (for finite b).
   * The native backends do; the others compute the whole product.
   */
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate?: boolean, skipZeroColumnsOfA?: boolean): void;
  /** c(m×n) = aᵀ · b with a stored k×m and b stored k×n (weight gradient Xᵀ·dY). */
  matmulTN(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate?: boolean, skipZeroColumnsOfA?: boolean): void;
  /** c(m×n) = a · bᵀ with a stored m×k and b stored n×k (input gradient dY·Wᵀ). */
  matmulNT(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate?: boolean): void;

  /**
   * dst = the first rows×cols floats of src, which may be any array (a batch the caller
   * assembled); with `order`, row i of dst is row order[i] of src (a shuffled batch gathered
   * straight from the data set; src must then not overlap dst). The native backends copy on
   * their threads, each the rows it then packs for the first layer's product.
   */
  loadRows(dst: Float32Array, src: Float32Array, rows: number, cols: number, order?: Int32Array): void;

  /** x[r, :] += bias for every row r of a rows×cols matrix. */
  addRowVector(x: Float32Array, bias: Float32Array, rows: number, cols: number): void;
  /** out[c] = Σ_r x[r, c] (bias gradient); with `accumulate`, out += that sum. */
  sumRows(x: Float32Array, out: Float32Array, rows: number, cols: number, accumulate?: boolean): void;

  /** y = activation(x) over the first `length` elements; y may be x. */
  activate(kind: ElementwiseActivation, x: Float32Array, y: Float32Array, length: number, alpha?: number): void;
  /** dx = dy · activation'(…), written from the activation's output y; dx may be dy. */
  activateBackward(kind: ElementwiseActivation, y: Float32Array, dy: Float32Array, dx: Float32Array, length: number, alpha?: number): void;

  /**
   * Row-wise softmax of logits(rows×cols) into probs, and the gradient of the summed
   * cross-entropy against `targets` (a probability row per sample, usually one-hot):
   * grad = (probs − targets) · gradScale. Returns Σ cross-entropy over the rows.
   */
  softmaxCrossEntropy(logits: Float32Array, targets: Float32Array, probs: Float32Array, grad: Float32Array, rows: number, cols: number, gradScale: number): number;

  /** y[i] *= x[i] (dropout masks). */
  multiply(x: Float32Array, y: Float32Array, length: number): void;
  /**
   * Inverted dropout: mask[i] = 1/keep with probability `keep`, else 0, decided by a hash of
   * (key0, key1, i) that every backend computes alike (./dropout.ts); y[i] = x[i] · mask[i]. y may be x.
   */
  dropout(x: Float32Array, y: Float32Array, mask: Float32Array, length: number, keep: number, key0: number, key1: number): void;
  /** y[i] += alpha · x[i]. */
  axpy(alpha: number, x: Float32Array, y: Float32Array, length: number): void;
  /** x[i] *= alpha. */
  scale(x: Float32Array, alpha: number, length: number): void;

  /** Momentum SGD with L2 decay: g' = g + wd·w; v = μ·v + g'; w -= lr·(nesterov ? g' + μ·v : v). μ = 0 is plain SGD. */
  sgdStep(w: Float32Array, g: Float32Array, v: Float32Array, length: number, lr: number, momentum: number, weightDecay: number, nesterov: boolean): void;
  /** Adam (with L2 decay folded into g); `step` counts from 1 for bias correction. */
  adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, length: number, lr: number, beta1: number, beta2: number, epsilon: number, weightDecay: number, step: number): void;
}

export type ElementwiseActivation = 'identity' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh';
