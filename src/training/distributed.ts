// The training loop of one worker of a distributed job: the same number of steps per epoch on every
// worker (smaller splits wrap around their shuffled records), each step a gradient on the worker's
// own mini-batch followed by the group's exchange (all-reduce, and the servers when there are any).
// Epochs and the learning-rate schedule follow the clock. Time is split into compute,
// communication and waiting, which the job's result reports.
import { WrappingOrder } from '../cluster/schedule';
import type { Batch, Model } from '../engine';
import { Rng, RngStream } from '../engine/rng';
import type { TimeShares } from '../protocol/status';

/** The group's side of a step (src/container/exchange.ts). */
export interface StepExchange {
  initialize(params: Float32Array): Promise<void>;
  step(clock: number, grads: Float32Array, params: Float32Array): Promise<void>;
  finalize(params: Float32Array): Promise<void>;
  readonly waitingMs: number;
  readonly communicationMs: number;
}

export interface DistributedProgress {
  readonly clock: number;
  readonly clocks: number;
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  /** Running means over the epoch so far. */
  readonly loss: number;
  readonly accuracy: number;
  readonly samplesPerSecond: number;
  readonly learningRate: number;
  readonly shares: TimeShares;
}

export interface DistributedEpoch {
  /** 1-based. */
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly samples: number;
  readonly seconds: number;
}

export interface DistributedSummary {
  readonly clocks: number;
  readonly samples: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly shares: TimeShares;
  readonly history: DistributedEpoch[];
}

export interface DistributedRun {
  readonly model: Model;
  /** This worker's records. */
  readonly data: Batch;
  readonly batchSize: number;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  /** Shuffle seed of this worker (its index mixed in, so workers draw different orders). */
  readonly seed: number;
  readonly exchange: StepExchange;
  readonly onProgress?: (p: DistributedProgress) => void;
  readonly onEpochEnd?: (e: DistributedEpoch) => void | Promise<void>;
  /** Progress at most this often (ms); always at an epoch's end. */
  readonly progressEveryMs?: number;
  /** Called before each step (test hooks: a slowed worker). */
  readonly beforeStep?: (clock: number) => void | Promise<void>;
  readonly now?: () => number;
}

export async function trainDistributed(run: DistributedRun): Promise<DistributedSummary> {
  const { model, data, batchSize: b, epochs, stepsPerEpoch: K, exchange } = run;
  const now = run.now ?? (() => performance.now());
  const inputs = model.inputSize;
  const outputs = model.outputSize;
  const rng = new Rng(run.seed, RngStream.shuffle);
  const order = new WrappingOrder(data.count, (a) => rng.shuffle(a));
  const indices = new Int32Array(b);
  const x = new Float32Array(b * inputs);
  const y = new Float32Array(b * outputs);
  const history: DistributedEpoch[] = [];
  let computeMs = 0;
  const started = now();
  const shares = (): TimeShares => {
    const total = Math.max(1e-9, now() - started);
    return { compute: computeMs / total, communication: exchange.communicationMs / total, waiting: exchange.waitingMs / total };
  };
  await exchange.initialize(model.parameters());
  let totalSamples = 0;
  let lastReport = -Infinity;
  for (let epoch = 0; epoch < epochs; epoch++) {
    model.optimizer.epoch = epoch; // the learning rate reported; the update's own rate follows its clock
    const epochStart = now();
    let samples = 0;
    let lossSum = 0;
    let correct = 0;
    for (let s = 0; s < K; s++) {
      const clock = epoch * K + s;
      await run.beforeStep?.(clock);
      order.next(b, indices);
      for (let i = 0; i < b; i++) {
        const r = indices[i]!;
        x.set(data.x.subarray(r * inputs, (r + 1) * inputs), i * inputs);
        y.set(data.y.subarray(r * outputs, (r + 1) * outputs), i * outputs);
      }
      const t0 = now();
      const result = model.computeGradients(x, y, b);
      computeMs += now() - t0;
      await exchange.step(clock, model.gradients(), model.parameters());
      samples += result.count;
      lossSum += result.loss * result.count;
      correct += result.correct;
      const t = now();
      if (run.onProgress && (t - lastReport >= (run.progressEveryMs ?? 1_000) || s === K - 1)) {
        lastReport = t;
        run.onProgress({
          clock: clock + 1,
          clocks: epochs * K,
          epoch: epoch + 1,
          epochs,
          loss: lossSum / samples,
          accuracy: correct / samples,
          samplesPerSecond: (totalSamples + samples) / Math.max(1e-9, (t - started) / 1000),
          learningRate: model.optimizer.learningRate,
          shares: shares(),
        });
      }
    }
    totalSamples += samples;
    const e: DistributedEpoch = { epoch: epoch + 1, loss: lossSum / samples, accuracy: correct / samples, samples, seconds: (now() - epochStart) / 1000 };
    history.push(e);
    await run.onEpochEnd?.(e);
  }
  const seconds = (now() - started) / 1000;
  const last = history[history.length - 1]!;
  return { clocks: epochs * K, samples: totalSamples, seconds, samplesPerSecond: totalSamples / Math.max(1e-9, seconds), loss: last.loss, accuracy: last.accuracy, shares: shares(), history };
}
