// Epoch loop over a batch source: shuffling with a seed, re-batching to the configured size, and
// progress reports. The local CLI uses it as is; a distributed worker passes its own `step`
// (compute gradients, exchange them, receive parameters).
import { BatchShapeError, ModelSpecError, StateMismatchError } from './errors';
import type { Batch, Evaluation, Model, StepResult } from './model';
import { Rng, RngStream, type RngState } from './rng';

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

/**
 * A shuffled training batch as row numbers of the data it comes from: sample i is row rows[i] of
 * `from.x` and `from.y`. The kernels gather the rows (Model.computeGradients' `order`), so a batch
 * is never first copied in JavaScript. `from` and `rows` are valid until the next batch.
 */
export interface BatchRows {
  readonly from: Batch;
  readonly rows: Int32Array;
  readonly count: number;
}

export type StepFunction = (model: Model, batch: BatchRows) => StepResult | Promise<StepResult>;

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
  /**
   * Continue a run from its exportState() (restore the model's own state with Model.importState
   * first): the epoch in progress is shuffled again from the generator state it started with and
   * its done batches are skipped, so the run goes on bit for bit as if never stopped. `epochs`
   * stays the run's total. The source must give the same records in the same order as before.
   */
  resume?: TrainerState;
}

/**
 * Where a Trainer is between two steps, with the running sums of `epoch` so far (its summary then
 * covers the whole epoch). With the model's state (Model.exportState) it is all a resumed run needs.
 */
export interface TrainerState extends EpochSums {
  /** 0-based epoch in progress, or the next one to start (then `step` is 0). */
  readonly epoch: number;
  /** Batches of `epoch` done. */
  readonly step: number;
  /** Batches done since training began. */
  readonly totalSteps: number;
  /** The batch size the steps count (a resumed run must use the same). */
  readonly batchSize: number;
  /** The shuffle generator at the start of `epoch`. */
  readonly shuffle: RngState;
}

export const defaultStep: StepFunction = (model, batch) => {
  const r = model.computeGradients(batch.from.x, batch.from.y, batch.count, batch.rows);
  model.applyGradients();
  return r;
};

type Position = { -readonly [K in keyof TrainerState]: TrainerState[K] };

export class Trainer {
  private readonly rng: Rng;
  private readonly now: () => number;
  private position: Position;

  constructor(readonly model: Model, readonly options: TrainerOptions) {
    for (const field of ['epochs', 'batchSize', 'progressEvery', 'shuffleBuffer'] as const) {
      const v = options[field];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new ModelSpecError(`trainer.${field}`, v, 'must be a positive integer');
    }
    this.rng = new Rng(options.seed ?? model.spec.seed ?? 1, RngStream.shuffle);
    this.now = options.now ?? (() => performance.now());
    const r = options.resume;
    if (r) {
      checkResume(r, options);
      this.rng.setState(r.shuffle, 'trainer.resume.shuffle');
    }
    this.position = r ? { ...r } : { epoch: 0, step: 0, totalSteps: 0, batchSize: options.batchSize, shuffle: this.rng.getState(), samples: 0, lossSum: 0, correct: 0 };
  }

  /**
   * Where training is, for a checkpoint: consistent between two steps (from onProgress or
   * onEpochEnd, or before or after train()), together with model.exportState().
   */
  exportState(): TrainerState {
    return { ...this.position, shuffle: [...this.position.shuffle] as [number, number, number, number] };
  }

  /** Trains from where the trainer is (epoch 0, or its resume state) to `epochs`; called again after that, it trains nothing. */
  async train(source: BatchSource): Promise<TrainingSummary> {
    const { epochs, onProgress, onEpochEnd, signal } = this.options;
    const step = this.options.step ?? defaultStep;
    const every = this.options.progressEvery ?? 20;
    const history: EpochSummary[] = [];
    const started = this.now();
    const from = this.position;
    let totalSteps = from.totalSteps;
    let totalSamples = 0;
    for (let epoch = from.epoch; epoch < epochs; epoch++) {
      this.model.optimizer.epoch = epoch;
      const epochStart = this.now();
      const resumed = epoch === from.epoch ? from : { step: 0, samples: 0, lossSum: 0, correct: 0 };
      // The generator as the epoch starts: a run resumed mid-epoch draws the same order from it.
      this.position = { epoch, step: resumed.step, totalSteps, batchSize: this.options.batchSize, shuffle: this.rng.getState(), samples: resumed.samples, lossSum: resumed.lossSum, correct: resumed.correct };
      const position = this.position;
      let { samples, lossSum, correct, step: stepInEpoch } = resumed;
      const sessionSamples = samples;
      const report = (): void => {
        const seconds = (this.now() - epochStart) / 1000;
        onProgress?.({
          epoch: epoch + 1, epochs, step: stepInEpoch, totalSteps, samples,
          loss: samples ? lossSum / samples : 0, accuracy: samples ? correct / samples : 0,
          samplesPerSecond: seconds > 0 ? (samples - sessionSamples) / seconds : 0, learningRate: this.model.optimizer.learningRate,
        });
      };
      for await (const batch of this.batches(source, resumed.step)) {
        if (signal?.aborted) throw signal.reason ?? new Error('training aborted');
        const r = await step(this.model, batch);
        stepInEpoch++;
        totalSteps++;
        samples += r.count;
        lossSum += r.loss * r.count;
        correct += r.correct;
        Object.assign(position, { step: stepInEpoch, totalSteps, samples, lossSum, correct });
        if (stepInEpoch % every === 0) report();
      }
      if (stepInEpoch % every !== 0) report();
      const seconds = (this.now() - epochStart) / 1000;
      totalSamples += samples - sessionSamples;
      const summary: EpochSummary = {
        epoch: epoch + 1, loss: samples ? lossSum / samples : 0, accuracy: samples ? correct / samples : 0,
        samples, seconds, samplesPerSecond: seconds > 0 ? (samples - sessionSamples) / seconds : 0,
      };
      this.position = { epoch: epoch + 1, step: 0, totalSteps, batchSize: this.options.batchSize, shuffle: this.rng.getState(), samples: 0, lossSum: 0, correct: 0 };
      if (this.options.validation) summary.validation = await this.model.evaluate(passOver(this.options.validation));
      history.push(summary);
      await onEpochEnd?.(summary);
    }
    const seconds = (this.now() - started) / 1000;
    // A run resumed after its last epoch trains nothing and has no epoch to summarise.
    const last = history[history.length - 1];
    return {
      epochs, samples: totalSamples, seconds, samplesPerSecond: seconds > 0 ? totalSamples / seconds : 0,
      loss: last?.loss ?? 0, accuracy: last?.accuracy ?? 0, history, validation: last?.validation,
    };
  }

  /**
   * One epoch of batches of exactly `batchSize` samples (the last may be smaller), shuffled with
   * the trainer's seed, without its first `skip` batches (a resumed epoch; the generator draws as
   * for the whole epoch).
   */
  async *batches(source: BatchSource, skip = 0): AsyncGenerator<BatchRows> {
    const inputSize = this.model.inputSize;
    const outputSize = this.model.outputSize;
    const { batchSize } = this.options;
    const shuffle = this.options.shuffle ?? true;
    if (typeof source !== 'function') {
      checkBatch(source, inputSize, outputSize);
      const order = identity(source.count);
      if (shuffle) this.rng.shuffle(order);
      const batchCount = Math.ceil(source.count / batchSize);
      if (skip > batchCount) throw pastTheEnd(skip, batchCount);
      yield* batchesOf(source, order, Math.min(source.count, skip * batchSize), source.count, batchSize);
      return;
    }
    let toSkip = skip;
    let seen = 0;
    // Streaming: fill a buffer, shuffle it, emit whole batches, carry the remainder forward.
    const capacity = Math.max(this.options.shuffleBuffer ?? 65536, batchSize);
    const buf: Batch = { x: new Float32Array(capacity * inputSize), y: new Float32Array(capacity * outputSize), count: 0 };
    const order = new Int32Array(capacity);
    const drain = async function* (this: Trainer, final: boolean): AsyncGenerator<BatchRows> {
      const n = buf.count;
      for (let i = 0; i < n; i++) order[i] = i;
      if (shuffle) this.rng.shuffle(order.subarray(0, n));
      const emit = final ? n : n - (n % batchSize);
      // Skipped batches are not copied out; the generator has drawn their order all the same.
      const batchCount = Math.ceil(emit / batchSize);
      const skipped = Math.min(toSkip, batchCount);
      toSkip -= skipped;
      seen += batchCount;
      yield* batchesOf(buf, order, Math.min(emit, skipped * batchSize), emit, batchSize);
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
    if (toSkip > 0) throw pastTheEnd(skip, seen);
  }
}

function pastTheEnd(skip: number, batchCount: number): ModelSpecError {
  return new ModelSpecError('trainer.resume.step', skip, `the epoch has only ${batchCount} batches; was the data or the batch size changed since the state was saved?`);
}

/** A resume state must fit the options (same batch size, a position within the run). */
function checkResume(r: TrainerState, o: TrainerOptions): void {
  const count = (field: keyof TrainerState, value: number, at: string): void => {
    if (!Number.isInteger(value) || value < 0) throw new StateMismatchError(`trainer.resume.${field}`, at, String(value));
  };
  count('epoch', r.epoch, `an epoch from 0 to ${o.epochs}`);
  if (r.epoch > o.epochs) throw new StateMismatchError('trainer.resume.epoch', `an epoch from 0 to ${o.epochs} (the run's epochs)`, String(r.epoch));
  count('step', r.step, 'a non-negative integer');
  if (r.epoch === o.epochs && r.step > 0) throw new StateMismatchError('trainer.resume.step', `0 after the last epoch`, String(r.step));
  count('totalSteps', r.totalSteps, `at least step (${r.step})`);
  if (r.totalSteps < r.step) throw new StateMismatchError('trainer.resume.totalSteps', `at least step (${r.step})`, String(r.totalSteps));
  if (r.batchSize !== o.batchSize) throw new StateMismatchError('trainer.resume.batchSize', `the run's batch size ${o.batchSize}`, String(r.batchSize));
  checkEpochSums(r, 'trainer.resume');
}

/** The running sums of an epoch in progress (samples, loss × samples, correct predictions). */
export interface EpochSums {
  readonly samples: number;
  readonly lossSum: number;
  readonly correct: number;
}

/** Throws StateMismatchError unless `s` holds running sums a run can continue. */
export function checkEpochSums(s: EpochSums, field: string): void {
  if (!Number.isInteger(s.samples) || s.samples < 0) throw new StateMismatchError(`${field}.samples`, 'a non-negative integer', String(s.samples));
  if (!Number.isInteger(s.correct) || s.correct < 0 || s.correct > s.samples) throw new StateMismatchError(`${field}.correct`, `an integer from 0 to samples (${s.samples})`, String(s.correct));
  if (typeof s.lossSum !== 'number') throw new StateMismatchError(`${field}.lossSum`, 'a number', String(s.lossSum));
}

function* batchesOf(src: Batch, order: Int32Array, from: number, to: number, batchSize: number): Generator<BatchRows> {
  for (let start = from; start < to; start += batchSize) {
    const count = Math.min(batchSize, to - start);
    yield { from: src, rows: order.subarray(start, start + count), count };
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
