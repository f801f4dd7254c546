// Epoch loop over a batch source: shuffling with a seed, re-batching to the configured size, and
// progress reports. The local CLI uses it as is; a distributed worker passes its own `step`
// (compute gradients, exchange them, receive parameters).
import { BatchShapeError, ModelSpecError } from './errors';
import type { Batch, Evaluation, Model, StepResult } from './model';
import { Rng, RngStream } from './rng';

/** A whole data set in memory, or a factory giving a fresh pass over the data for each epoch. */
export type BatchSource = Batch | (() => AsyncIterable<Batch> | Iterable<Batch>);

export interface TrainingProgress {
  /** 1-based */
  epoch: number;
  epochs: number;
  /** 1-based step within the epoch */
  step: number;
  /** steps since training began */
  totalSteps: number;
  /** samples seen in this epoch */
  samples: number;
  /** running mean loss over the epoch */
  loss: number;
  /** running training accuracy over the epoch */
  accuracy: number;
  samplesPerSecond: number;
  learningRate: number;
}

export interface EpochSummary {
  epoch: number;
  loss: number;
  accuracy: number;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
  validation?: Evaluation;
}

export interface TrainingSummary {
  epochs: number;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
  loss: number;
  accuracy: number;
  history: EpochSummary[];
  /** Validation of the last epoch, if a validation source was given. */
  validation?: Evaluation;
}

export type StepFunction = (model: Model, batch: Batch) => StepResult | Promise<StepResult>;

export interface TrainerOptions {
  epochs: number;
  batchSize: number;
  /** Shuffle seed; default the model's seed. */
  seed?: number;
  /** Default true. */
  shuffle?: boolean;
  /** Samples held for shuffling a streamed source (default 65,536; an in-memory Batch is fully shuffled). */
  shuffleBuffer?: number;
  /** Report progress every this many steps (default 20) and at the end of each epoch. */
  progressEvery?: number;
  onProgress?: (progress: TrainingProgress) => void;
  onEpochEnd?: (summary: EpochSummary) => void | Promise<void>;
  /** Evaluated after every epoch. */
  validation?: BatchSource;
  /** Default: model.computeGradients then model.applyGradients. */
  step?: StepFunction;
  signal?: AbortSignal;
  /** Clock in milliseconds (tests inject one). */
  now?: () => number;
}

export const defaultStep: StepFunction = (model, batch) => {
  const r = model.computeGradients(batch.x, batch.y, batch.count);
  model.applyGradients();
  return r;
};

export class Trainer {
  private readonly rng: Rng;
  private readonly now: () => number;

  constructor(readonly model: Model, readonly options: TrainerOptions) {
    for (const field of ['epochs', 'batchSize', 'progressEvery', 'shuffleBuffer'] as const) {
      const v = options[field];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new ModelSpecError(`trainer.${field}`, v, 'must be a positive integer');
    }
    this.rng = new Rng(options.seed ?? model.spec.seed ?? 1, RngStream.shuffle);
    this.now = options.now ?? (() => performance.now());
  }

  async train(source: BatchSource): Promise<TrainingSummary> {
    const { epochs, onProgress, onEpochEnd, signal } = this.options;
    const step = this.options.step ?? defaultStep;
    const every = this.options.progressEvery ?? 20;
    const history: EpochSummary[] = [];
    const started = this.now();
    let totalSteps = 0;
    let totalSamples = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      this.model.optimizer.epoch = epoch;
      const epochStart = this.now();
      let samples = 0;
      let lossSum = 0;
      let correct = 0;
      let stepInEpoch = 0;
      const report = (): void => {
        const seconds = (this.now() - epochStart) / 1000;
        onProgress?.({
          epoch: epoch + 1, epochs, step: stepInEpoch, totalSteps, samples,
          loss: samples ? lossSum / samples : 0, accuracy: samples ? correct / samples : 0,
          samplesPerSecond: seconds > 0 ? samples / seconds : 0, learningRate: this.model.optimizer.learningRate,
        });
      };
      for await (const batch of this.batches(source)) {
        if (signal?.aborted) throw signal.reason ?? new Error('training aborted');
        const r = await step(this.model, batch);
        stepInEpoch++;
        totalSteps++;
        samples += r.count;
        lossSum += r.loss * r.count;
        correct += r.correct;
        if (stepInEpoch % every === 0) report();
      }
      if (stepInEpoch % every !== 0) report();
      const seconds = (this.now() - epochStart) / 1000;
      totalSamples += samples;
      const summary: EpochSummary = {
        epoch: epoch + 1, loss: samples ? lossSum / samples : 0, accuracy: samples ? correct / samples : 0,
        samples, seconds, samplesPerSecond: seconds > 0 ? samples / seconds : 0,
      };
      if (this.options.validation) summary.validation = await this.model.evaluate(passOver(this.options.validation));
      history.push(summary);
      await onEpochEnd?.(summary);
    }
    const seconds = (this.now() - started) / 1000;
    const last = history[history.length - 1];
    return {
      epochs, samples: totalSamples, seconds, samplesPerSecond: seconds > 0 ? totalSamples / seconds : 0,
      loss: last.loss, accuracy: last.accuracy, history, validation: last.validation,
    };
  }

  /**
   * One epoch of batches of exactly `batchSize` samples (the last may be smaller), shuffled with
   * the trainer's seed. The yielded arrays are reused between batches.
   */
  async *batches(source: BatchSource): AsyncGenerator<Batch> {
    const inputSize = this.model.inputSize;
    const outputSize = this.model.outputSize;
    const { batchSize } = this.options;
    const shuffle = this.options.shuffle ?? true;
    const x = new Float32Array(batchSize * inputSize);
    const y = new Float32Array(batchSize * outputSize);
    if (typeof source !== 'function') {
      checkBatch(source, inputSize, outputSize);
      const order = identity(source.count);
      if (shuffle) this.rng.shuffle(order);
      yield* gather(source, order, 0, source.count, batchSize, x, y, inputSize, outputSize);
      return;
    }
    // Streaming: fill a buffer, shuffle it, emit whole batches, carry the remainder forward.
    const capacity = Math.max(this.options.shuffleBuffer ?? 65536, batchSize);
    const buf: Batch = { x: new Float32Array(capacity * inputSize), y: new Float32Array(capacity * outputSize), count: 0 };
    const order = new Int32Array(capacity);
    const drain = async function* (this: Trainer, final: boolean): AsyncGenerator<Batch> {
      const n = buf.count;
      for (let i = 0; i < n; i++) order[i] = i;
      if (shuffle) this.rng.shuffle(order.subarray(0, n));
      const emit = final ? n : n - (n % batchSize);
      yield* gather(buf, order, 0, emit, batchSize, x, y, inputSize, outputSize);
      // Keep the samples not emitted (already in shuffled order) at the front of the buffer.
      const rest = n - emit;
      const keptX = new Float32Array(rest * inputSize);
      const keptY = new Float32Array(rest * outputSize);
      for (let i = 0; i < rest; i++) {
        const s = order[emit + i];
        keptX.set(buf.x.subarray(s * inputSize, (s + 1) * inputSize), i * inputSize);
        keptY.set(buf.y.subarray(s * outputSize, (s + 1) * outputSize), i * outputSize);
      }
      buf.x.set(keptX);
      buf.y.set(keptY);
      buf.count = rest;
    };
    for await (const chunk of source()) {
      checkBatch(chunk, inputSize, outputSize);
      let taken = 0;
      while (taken < chunk.count) {
        const n = Math.min(capacity - buf.count, chunk.count - taken);
        buf.x.set(chunk.x.subarray(taken * inputSize, (taken + n) * inputSize), buf.count * inputSize);
        buf.y.set(chunk.y.subarray(taken * outputSize, (taken + n) * outputSize), buf.count * outputSize);
        buf.count += n;
        taken += n;
        if (buf.count === capacity) yield* drain.call(this, false);
      }
    }
    if (buf.count > 0) yield* drain.call(this, true);
  }
}

function* gather(src: Batch, order: Int32Array, from: number, to: number, batchSize: number, x: Float32Array, y: Float32Array, inputSize: number, outputSize: number): Generator<Batch> {
  for (let start = from; start < to; start += batchSize) {
    const count = Math.min(batchSize, to - start);
    for (let i = 0; i < count; i++) {
      const s = order[start + i];
      x.set(src.x.subarray(s * inputSize, (s + 1) * inputSize), i * inputSize);
      y.set(src.y.subarray(s * outputSize, (s + 1) * outputSize), i * outputSize);
    }
    yield { x, y, count };
  }
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function checkBatch(b: Batch, inputSize: number, outputSize: number): void {
  if (!Number.isInteger(b.count) || b.count < 0) throw new BatchShapeError('count', 0, b.count);
  if (b.x.length < b.count * inputSize) throw new BatchShapeError('x', b.count * inputSize, b.x.length);
  if (b.y.length < b.count * outputSize) throw new BatchShapeError('y', b.count * outputSize, b.y.length);
}

/** One pass over a source, as evaluate() wants it. */
export function passOver(source: BatchSource): AsyncIterable<Batch> | Iterable<Batch> {
  return typeof source === 'function' ? source() : [source];
}
