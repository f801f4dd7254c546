// The Model: a stack of dense layers built from a validated ModelSpec, with forward, gradient
// computation and parameter access laid out for data-parallel training (flat parameter and
// gradient buffers that a worker can ship and a parameter server can update).
import { BatchShapeError, ModelSpecError, StateMismatchError } from './errors';
import { initWeights } from './init';
import type { Kernels } from './kernels/types';
import { applyDropout, DenseLayer, type LayerParameters } from './layer';
import { isNeuronClass, NeuronLayerRunner, type NeuronClass } from './neuron';
import { loadNeuronClass } from './neuron-loader';
import { Optimizer, type OptimizerState, type ParameterSegment } from './optimizer';
import { checkRngState, Rng, RngStream, type RngState } from './rng';
import { DEFAULT_OPTIMIZER, validateModelSpec, type LayerSpec, type ModelSpec } from './spec';

/** A mini-batch: `count` rows of features and targets (one-hot or regression targets), row-major. */
export interface Batch {
  x: Float32Array;
  y: Float32Array;
  count: number;
}

export interface StepResult {
  /** Mean loss over the batch (without the L2 term). */
  loss: number;
  /** Samples whose predicted class matched the target's. */
  correct: number;
  count: number;
}

export interface Evaluation {
  count: number;
  loss: number;
  accuracy: number;
  /** confusion[actual][predicted] counts. */
  confusion: number[][];
}

/** What a model carries between steps: its parameters, its optimizer's state and its dropout generator. Copies. */
export interface ModelState {
  readonly parameters: Float32Array;
  readonly optimizer: OptimizerState;
  readonly dropout: RngState;
}

export interface ModelOptions {
  /** Directory that `{ module }` neuron references are resolved against (default: cwd). */
  baseDir?: string;
  /** Free-form training metadata, saved in the model file. */
  metadata?: Record<string, unknown>;
}

export class Model {
  readonly spec: ModelSpec;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly parameterCount: number;
  /** Used by trainStep and applyGradients() without an argument. */
  optimizer: Optimizer;
  metadata: Record<string, unknown>;

  private readonly layers: DenseLayer[];
  private readonly params: Float32Array;
  private readonly grads: Float32Array;
  private readonly dropoutRng: Rng;
  private capacity = 0;
  private xBuf: Float32Array = new Float32Array(0);
  private inputMask: Float32Array = new Float32Array(0);
  private targets: Float32Array = new Float32Array(0);
  private dOut: Float32Array = new Float32Array(0);

  constructor(spec: ModelSpec, readonly kernels: Kernels, options: ModelOptions = {}) {
    validateModelSpec(spec);
    this.spec = spec;
    this.inputSize = spec.inputSize;
    this.outputSize = spec.layers[spec.layers.length - 1].size;
    this.metadata = { ...(options.metadata ?? {}) };
    const sizes = [spec.inputSize, ...spec.layers.map((l) => l.size)];
    this.parameterCount = spec.layers.reduce((t, l, i) => t + (sizes[i] + 1) * l.size, 0);
    this.params = kernels.alloc(this.parameterCount);
    this.grads = kernels.alloc(this.parameterCount);
    const initRng = new Rng(spec.seed ?? 1, RngStream.init);
    this.dropoutRng = new Rng(spec.seed ?? 1, RngStream.dropout);
    let off = 0;
    this.layers = spec.layers.map((l, i) => {
      const fanIn = sizes[i];
      const view = (n: number): [Float32Array, Float32Array] => {
        const v: [Float32Array, Float32Array] = [this.params.subarray(off, off + n), this.grads.subarray(off, off + n)];
        off += n;
        return v;
      };
      const [weights, gradWeights] = view(fanIn * l.size);
      const [bias, gradBias] = view(l.size);
      const neuronClass = resolveNeuron(l, i, options.baseDir);
      const init = l.init ?? spec.init ?? (l.activation === 'relu' || l.activation === 'leakyRelu' ? 'he' : 'xavier');
      initWeights(init, weights, fanIn, l.size, initRng);
      const runner = neuronClass ? new NeuronLayerRunner(neuronClass, i, fanIn, l.size) : null;
      return new DenseLayer(i, fanIn, l.size, neuronClass ? null : (l.activation ?? 'identity'), l.alpha ?? 0.01, l.dropout ?? 0, { weights, bias, gradWeights, gradBias }, runner);
    });
    this.optimizer = new Optimizer(spec.optimizer ?? DEFAULT_OPTIMIZER, kernels);
  }

  get layerCount(): number {
    return this.layers.length;
  }

  /** Outputs (count × outputSize) for a batch; a view valid until the next call. Inference mode unless `training`. */
  forward(x: Float32Array, count?: number, training = false): Float32Array {
    const rows = this.loadInputs(x, count);
    return this.forwardLoaded(rows, training).subarray(0, rows * this.outputSize);
  }

  /** A copy of the outputs (probabilities for softmax) for `count` samples. */
  predict(x: Float32Array, count?: number): Float32Array {
    return this.forward(x, count).slice();
  }

  /** Predicted class per sample (arg-max; for a single output, output ≥ 0.5). */
  classify(x: Float32Array, count?: number): Int32Array {
    const rows = this.loadInputs(x, count);
    const out = this.forwardLoaded(rows, false);
    const classes = new Int32Array(rows);
    for (let r = 0; r < rows; r++) classes[r] = classOf(out, r, this.outputSize);
    return classes;
  }

  /**
   * Forward and backward in training mode; gradients() then holds ∂(mean loss)/∂parameters.
   * With `order`, sample i of the batch is row order[i] of x and y (a shuffled batch taken
   * straight from the data set); count defaults to its length.
   */
  computeGradients(x: Float32Array, y: Float32Array, count?: number, order?: Int32Array): StepResult {
    const rows = this.loadInputs(x, count ?? order?.length, order);
    this.loadTargets(y, rows, order);
    this.forwardLoaded(rows, true, true);
    const loss = this.lossAndOutputGradient(rows);
    this.backward(rows);
    return { loss, correct: this.countCorrect(rows), count: rows };
  }

  /** One optimizer step with the current gradients. */
  applyGradients(optimizer: Optimizer = this.optimizer): void {
    optimizer.step(this.segments());
  }

  /** computeGradients + applyGradients; returns the mean loss of the batch. */
  trainStep(x: Float32Array, y: Float32Array, count?: number): number {
    const { loss } = this.computeGradients(x, y, count);
    this.applyGradients();
    return loss;
  }

  /** All parameters as one live flat view: per layer, weights (inputSize × size, row-major) then bias. */
  parameters(): Float32Array {
    return this.params;
  }

  /** All gradients, same layout as parameters(); live view. */
  gradients(): Float32Array {
    return this.grads;
  }

  /** Replace all parameters (e.g. received from a parameter server). */
  setParameters(values: Float32Array): void {
    if (values.length !== this.parameterCount) throw new BatchShapeError('parameters', this.parameterCount, values.length);
    this.params.set(values);
  }

  /** Replace all gradients (e.g. averaged across workers) before applyGradients. */
  setGradients(values: Float32Array): void {
    if (values.length !== this.parameterCount) throw new BatchShapeError('gradients', this.parameterCount, values.length);
    this.grads.set(values);
  }

  /** Live views of one layer's parameters and gradients. */
  /**
   * Live views of one layer's parameters and gradients: weights and bias separately, and `flat`
   * / `flatGradients` covering both (weights then bias) from float `offset` of parameters().
   */
  layerParameters(index: number): LayerParameters & { inputSize: number; outputSize: number; offset: number; flat: Float32Array; flatGradients: Float32Array } {
    const l = this.layers[index];
    if (!l) throw new ModelSpecError('layer', index, `the model has ${this.layers.length} layers`);
    const offset = (l.params.weights.byteOffset - this.params.byteOffset) / 4;
    const end = offset + (l.inputSize + 1) * l.size;
    return { ...l.params, inputSize: l.inputSize, outputSize: l.size, offset, flat: this.params.subarray(offset, end), flatGradients: this.grads.subarray(offset, end) };
  }

  /** The optimizer's view of the parameters: weights decay, biases do not. The views never change, so it is built once. */
  segments(): ParameterSegment[] {
    this.optimizerSegments ??= this.layers.flatMap((l) => [
      { values: l.params.weights, gradients: l.params.gradWeights, decay: true },
      { values: l.params.bias, gradients: l.params.gradBias, decay: false },
    ]);
    return this.optimizerSegments;
  }

  private optimizerSegments: ParameterSegment[] | undefined;

  /** State of the dropout generator, so a checkpointed run resumes bit for bit. */
  getRandomState(): [number, number, number, number] {
    return this.dropoutRng.getState();
  }

  setRandomState(state: RngState): void {
    this.dropoutRng.setState(state, 'dropout generator state');
  }

  /** Parameters, optimizer and dropout generator, copied, for a checkpoint. */
  exportState(): ModelState {
    return { parameters: this.params.slice(), optimizer: this.optimizer.exportState(), dropout: this.getRandomState() };
  }

  /** Restores exportState()'s result into a model of the same architecture; nothing changes if a part does not fit. */
  importState(state: ModelState): void {
    if (state.parameters.length !== this.parameterCount) throw new StateMismatchError('model.parameters', `${this.parameterCount} values`, String(state.parameters.length));
    checkRngState(state.dropout, 'model.dropout');
    this.optimizer.importState(state.optimizer, this.segments(), 'model.optimizer');
    this.params.set(state.parameters);
    this.setRandomState(state.dropout);
  }

  /** Layer descriptions (activation null for a user-neuron layer). */
  layerInfo(): { inputSize: number; size: number; activation: LayerSpec['activation'] | null; alpha: number; dropout: number; neuron: string | null }[] {
    return this.layers.map((l) => ({ inputSize: l.inputSize, size: l.size, activation: l.activation, alpha: l.alpha, dropout: l.dropout, neuron: l.runner ? l.runner.neuronClass.name : null }));
  }

  /** Accuracy, mean loss and confusion matrix over batches (inference mode). */
  async evaluate(batches: Iterable<Batch> | AsyncIterable<Batch>): Promise<Evaluation> {
    const acc = new EvaluationAccumulator(classCount(this.outputSize));
    for await (const b of batches) this.evaluateInto(b, acc);
    return acc.result();
  }

  /** Synchronous evaluation of one batch. */
  evaluateBatch(batch: Batch): Evaluation {
    const acc = new EvaluationAccumulator(classCount(this.outputSize));
    this.evaluateInto(batch, acc);
    return acc.result();
  }

  private evaluateInto(b: Batch, acc: EvaluationAccumulator): void {
    // Evaluate in chunks so one huge batch does not grow the workspace.
    const chunk = this.capacity || 256;
    for (let start = 0; start < b.count; start += chunk) {
      const rows = Math.min(chunk, b.count - start);
      this.loadInputs(b.x.subarray(start * this.inputSize, (start + rows) * this.inputSize), rows);
      this.loadTargets(b.y.subarray(start * this.outputSize, (start + rows) * this.outputSize), rows);
      const out = this.forwardLoaded(rows, false, true);
      const loss = this.lossAndOutputGradient(rows);
      for (let r = 0; r < rows; r++) acc.add(classOf(this.targets, r, this.outputSize), classOf(out, r, this.outputSize));
      acc.loss += loss * rows;
    }
  }

  /** `order`: as computeGradients'; the kernels check that its entries are rows of x. */
  private loadInputs(x: Float32Array, count: number | undefined, order?: Int32Array): number {
    const rows = count ?? x.length / this.inputSize;
    if (!Number.isInteger(rows) || rows <= 0) throw new BatchShapeError('count', Math.max(1, Math.round(x.length / this.inputSize)), rows);
    if (!order && x.length < rows * this.inputSize) throw new BatchShapeError('x', rows * this.inputSize, x.length);
    this.ensureCapacity(rows);
    this.kernels.loadRows(this.xBuf, x, rows, this.inputSize, order);
    return rows;
  }

  private loadTargets(y: Float32Array, rows: number, order?: Int32Array): void {
    if (!order && y.length < rows * this.outputSize) throw new BatchShapeError('y', rows * this.outputSize, y.length);
    this.kernels.loadRows(this.targets, y, rows, this.outputSize, order);
  }

  /**
   * `lossFollows`: lossAndOutputGradient comes next. For a softmax output under cross-entropy it
   * computes the probabilities itself, so the softmax in JavaScript would be wasted: 0.03 ms of
   * each step, on the calling thread alone.
   */
  private forwardLoaded(rows: number, training: boolean, lossFollows = false): Float32Array {
    const k = this.kernels;
    const p = this.spec.inputDropout ?? 0;
    if (training && p > 0) {
      applyDropout(k, this.xBuf, this.xBuf, this.inputMask, rows * this.inputSize, 1 - p, this.dropoutRng);
    }
    let x = this.xBuf;
    const last = this.layers[this.layers.length - 1];
    const probabilitiesFromLoss = lossFollows && this.softmaxCrossEntropy;
    for (const layer of this.layers) x = layer.forward(k, x, rows, training, this.dropoutRng, probabilitiesFromLoss && layer === last);
    return x;
  }

  /** Cross-entropy over a softmax output: one fused kernel computes the probabilities, the loss and dZ. */
  private get softmaxCrossEntropy(): boolean {
    return this.spec.cost === 'crossEntropy' && this.layers[this.layers.length - 1].activation === 'softmax';
  }

  /** Mean loss of the loaded batch; leaves the output layer's dZ (fused) or dOut. */
  private lossAndOutputGradient(rows: number): number {
    const last = this.layers[this.layers.length - 1];
    const n = rows * this.outputSize;
    const t = this.targets;
    if (this.softmaxCrossEntropy) {
      return this.kernels.softmaxCrossEntropy(last.z, t, last.a, last.dZ, rows, this.outputSize, 1 / rows) / rows;
    }
    if (this.spec.cost === 'crossEntropy') {
      // Binary cross-entropy from the logits: max(z,0) − z·t + log(1 + e^−|z|) is stable for any z.
      let loss = 0;
      for (let i = 0; i < n; i++) {
        const z = last.z[i];
        loss += Math.max(z, 0) - z * t[i] + Math.log1p(Math.exp(-Math.abs(z)));
        last.dZ[i] = (last.a[i] - t[i]) / rows;
      }
      return loss / rows;
    }
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const d = last.a[i] - t[i];
      loss += d * d;
      this.dOut[i] = d / rows;
    }
    return (0.5 * loss) / rows;
  }

  private backward(rows: number): void {
    const k = this.kernels;
    const L = this.layers.length - 1;
    for (let i = L; i >= 0; i--) {
      const layer = this.layers[i];
      const x = i === 0 ? this.xBuf : this.layers[i - 1].y;
      // The previous layer needs dX only if it is built in; a neuron layer reads dZ and W instead.
      const wantDX = i > 0 && this.layers[i - 1].runner === null;
      if (layer.runner) {
        const next = this.layers[i + 1];
        layer.backwardNeurons(k, x, i === L ? { kind: 'loss', dOut: this.dOut } : { kind: 'layer', dZ: next.dZ, weights: next.params.weights, nextSize: next.size, mask: layer.maskActive ? layer.mask : null }, rows, wantDX);
      } else if (i === L && this.spec.cost === 'crossEntropy') {
        layer.parameterGradients(k, x, rows, wantDX);
      } else {
        layer.backwardBuiltin(k, x, i === L ? this.dOut : this.layers[i + 1].dX, rows, wantDX);
      }
    }
  }

  private countCorrect(rows: number): number {
    const last = this.layers[this.layers.length - 1];
    let correct = 0;
    for (let r = 0; r < rows; r++) if (classOf(last.a, r, this.outputSize) === classOf(this.targets, r, this.outputSize)) correct++;
    return correct;
  }

  private workspace: Float32Array | undefined;

  private ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    // Grow geometrically and carve all workspace from one allocation of kernel memory.
    const capacity = Math.max(rows, this.capacity * 2);
    const perRow = this.layers.reduce((t, l) => t + l.workspacePerRow(), 0) + this.inputSize * 2 + this.outputSize * 2;
    // The old workspace goes back to the kernels' fixed-size memory before the larger one is taken.
    if (this.workspace) this.kernels.free(this.workspace);
    this.workspace = this.kernels.alloc(perRow * capacity);
    let buf = this.workspace;
    const take = (n: number): Float32Array => {
      const v = buf.subarray(0, n * capacity);
      buf = buf.subarray(n * capacity);
      return v;
    };
    this.xBuf = take(this.inputSize);
    this.inputMask = take(this.inputSize);
    this.targets = take(this.outputSize);
    this.dOut = take(this.outputSize);
    for (const l of this.layers) buf = l.bindWorkspace(buf, capacity);
    this.capacity = capacity;
  }
}

function resolveNeuron(l: LayerSpec, index: number, baseDir: string | undefined): NeuronClass | null {
  if (l.neuron === undefined) return null;
  if (typeof l.neuron === 'function') {
    if (!isNeuronClass(l.neuron)) throw new ModelSpecError(`layers[${index}].neuron`, l.neuron, 'the class does not extend Neuron');
    return l.neuron;
  }
  return loadNeuronClass(l.neuron.module, l.neuron.export, baseDir);
}

/** Number of classes a model with `outputSize` outputs distinguishes (one sigmoid output means two). */
export function classCount(outputSize: number): number {
  return outputSize === 1 ? 2 : outputSize;
}

export function classOf(values: Float32Array, row: number, cols: number): number {
  if (cols === 1) return values[row] >= 0.5 ? 1 : 0;
  const o = row * cols;
  let best = 0;
  for (let c = 1; c < cols; c++) if (values[o + c] > values[o + best]) best = c;
  return best;
}

class EvaluationAccumulator {
  loss = 0;
  private count = 0;
  private correct = 0;
  private readonly confusion: number[][];

  constructor(classes: number) {
    this.confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  }

  add(actual: number, predicted: number): void {
    this.count++;
    if (actual === predicted) this.correct++;
    this.confusion[actual][predicted]++;
  }

  result(): Evaluation {
    const n = this.count;
    return { count: n, loss: n ? this.loss / n : 0, accuracy: n ? this.correct / n : 0, confusion: this.confusion };
  }
}
