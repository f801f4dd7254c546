// The training loop of one worker of a distributed job: the same number of steps per epoch on every
// worker (smaller splits wrap around their shuffled records), each step a gradient on the worker's
// own mini-batch followed by the group's exchange (all-reduce, and the servers when there are any).
// Epochs and the learning-rate schedule follow the clock. Time is split into compute,
// communication and waiting, which the job's result reports. The loop's own state (clock, data
// order, generators, the epoch's running sums) can be exported after any step and a loop started
// from it, so a restarted worker continues exactly where it was.
import { StateMismatchError } from '../common/errors';
import { blockFor, sleep } from '../common/sleep';
import { WrappingOrder, type OrderState } from '../cluster/schedule';
import { checkEpochSums, checkRngState, type Batch, type EpochSums, type Model, type RngState } from '../engine';
import { Rng, RngStream } from '../engine/rng';
import type { MemberPace } from '../cluster/balance';
import type { TimeShares, TrainingTotals } from '../protocol/status';

/** The group's side of a step (src/container/exchange.ts). */
export interface StepExchange {
  initialize(params: Float32Array): Promise<void>;
  /** `weight`: this member's share of the group's samples this step (absent: an equal share). */
  step(clock: number, grads: Float32Array, params: Float32Array, weight?: number): Promise<void>;
  /** Time this member spent blocked on others in its last step. */
  readonly lastWaitMs?: number;
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
  /**
   * Own time per step and compute per sample, medians of recent steps (not waiting for others):
   * what straggler balancing works from. Absent over the first steps of a session (warming up).
   */
  readonly pace?: MemberPace;
}

export interface DistributedEpoch {
  /** 1-based. */
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly samples: number;
  readonly seconds: number;
  /** Median wall time of the epoch's steps in this session (ms). */
  readonly stepMs?: number;
}

export interface DistributedSummary extends TrainingTotals {
  readonly clocks: number;
  readonly history: DistributedEpoch[];
}

/**
 * Where a worker's loop is between two steps, with the running sums of the epoch in progress. The
 * model's parameters and optimizer state are not in it: with servers they live in the servers'
 * shards (ShardState), which the exchange's initialize() reads back; without servers every member
 * of a group holds them in its model (Model.exportState), which the caller restores first.
 */
export interface DistributedWorkerState extends EpochSums {
  /** Steps done: the clock the loop runs next. */
  readonly clock: number;
  readonly stepsPerEpoch: number;
  readonly batchSize: number;
  /** The worker's data order over its records. */
  readonly order: OrderState;
  readonly shuffle: RngState;
  readonly dropout: RngState;
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
  /**
   * Called after each step (`clock` the step just done, after onProgress and, at an epoch's end,
   * after onEpochEnd); `state()` exports the loop's state then (copies), for a checkpoint.
   */
  readonly afterStep?: (clock: number, state: () => DistributedWorkerState) => void | Promise<void>;
  /**
   * Start from an exported state instead of clock 0: same records (data), batch size and steps per
   * epoch. The loop sets the model's dropout generator from it; the exchange must hold the
   * parameters and optimizer state of the same clock.
   */
  readonly resume?: DistributedWorkerState;
  /** Without a resume state: the clock to start from (a worker that replaced a lost one joins its group there). */
  readonly startClock?: number;
  /**
   * This worker's batch at a clock and its share of the group's samples (a group rebalancing
   * around a straggler); default `batchSize` and an equal share. At most twice `batchSize`.
   */
  readonly batchAt?: (clock: number) => { readonly size: number; readonly weight?: number };
  /** Test hook: the worker is `factor` times slower than its compute from clock `fromClock` until `untilClock` (it blocks for the difference after each gradient, as slower compute would). */
  readonly slow?: { readonly factor: number; readonly fromClock: number; readonly untilClock?: number };
  /** Test hook: a fixed sleep after each gradient, whatever the compute takes. */
  readonly stepDelayMs?: number;
  readonly now?: () => number;
}

/** Steps of a session left out of its pace, and the steps whose medians are its pace. */
const PACE_SKIP_STEPS = 5;
const PACE_WINDOW_STEPS = 15;
/** Progress this often (ms) while the group's batches are shared out by speed: a balance converges by these reports. */
const BALANCED_PROGRESS_EVERY_MS = 250;

export async function trainDistributed(run: DistributedRun): Promise<DistributedSummary> {
  const { model, data, batchSize: b, epochs, stepsPerEpoch: K, exchange, resume } = run;
  const now = run.now ?? (() => performance.now());
  const rng = new Rng(run.seed, RngStream.shuffle);
  if (resume) checkWorkerState(resume, run);
  const order = new WrappingOrder(data.count, (a) => rng.shuffle(a), resume?.order);
  if (resume) {
    rng.setState(resume.shuffle, 'worker.shuffle');
    model.setRandomState(resume.dropout);
  }
  const most = run.batchAt ? 2 * b : b;
  /** Wall time of each step of the epoch in progress (ms), for its median. */
  const stepTimes = new Float64Array(K);
  let timedSteps = 0;
  const indices = new Int32Array(most);
  /**
   * Own time per step and compute per sample (with any test slowdown) of the last steps: what the
   * coordinator balances batches by. Medians, not a running mean: on a shared machine a burst of
   * other load on one core would otherwise move a plan, and the next plan would move it back.
   */
  const recentStepMs = new Float64Array(PACE_WINDOW_STEPS);
  const recentPerSample = new Float64Array(PACE_WINDOW_STEPS);
  let paceSteps = 0;
  const history: DistributedEpoch[] = [];
  let computeMs = 0;
  const started = now();
  const shares = (): TimeShares => {
    const total = Math.max(1e-9, now() - started);
    return { compute: computeMs / total, communication: exchange.communicationMs / total, waiting: exchange.waitingMs / total };
  };
  await exchange.initialize(model.parameters());
  const firstClock = resume?.clock ?? run.startClock ?? 0;
  let totalSamples = 0;
  let lastReport = -Infinity;
  let samples = 0;
  let lossSum = 0;
  let correct = 0;
  let done = firstClock;
  const exportState = (): DistributedWorkerState => {
    // At an epoch's end the running sums belong to the finished epoch, not to the next one.
    const boundary = done % K === 0;
    return {
      clock: done, stepsPerEpoch: K, batchSize: b, order: order.exportState(), shuffle: rng.getState(), dropout: model.getRandomState(),
      samples: boundary ? 0 : samples, lossSum: boundary ? 0 : lossSum, correct: boundary ? 0 : correct,
    };
  };
  for (let epoch = Math.floor(firstClock / K); epoch < epochs; epoch++) {
    model.optimizer.epoch = epoch; // the learning rate reported; the update's own rate follows its clock
    const epochStart = now();
    const within = epoch * K < firstClock;
    const resumed = resume && within;
    samples = resumed ? resume.samples : 0;
    lossSum = resumed ? resume.lossSum : 0;
    correct = resumed ? resume.correct : 0;
    const sessionStart = samples;
    timedSteps = 0;
    for (let s = within ? firstClock - epoch * K : 0; s < K; s++) {
      const clock = epoch * K + s;
      await run.beforeStep?.(clock);
      const stepStart = now();
      const batch = run.batchAt?.(clock) ?? { size: b };
      const n = Math.max(1, Math.min(most, batch.size));
      order.next(n, indices);
      const t0 = now();
      const result = model.computeGradients(data.x, data.y, n, indices);
      const gradientMs = now() - t0;
      computeMs += gradientMs;
      if (run.slow && run.slow.factor > 1 && clock >= run.slow.fromClock && clock < (run.slow.untilClock ?? Infinity)) blockFor((run.slow.factor - 1) * gradientMs);
      // The slowed gradient as the test hook really blocked it: a straggler's compute.
      const computedMs = now() - t0;
      if (run.stepDelayMs) await sleep(run.stepDelayMs);
      await exchange.step(clock, model.gradients(), model.parameters(), batch.weight);
      // The first steps of a session are slow (first touches of memory, connections warming up): not a pace.
      if (++paceSteps > PACE_SKIP_STEPS) {
        const slot = (paceSteps - PACE_SKIP_STEPS - 1) % PACE_WINDOW_STEPS;
        recentStepMs[slot] = now() - stepStart - (exchange.lastWaitMs ?? 0);
        recentPerSample[slot] = computedMs / n;
      }
      samples += result.count;
      lossSum += result.loss * result.count;
      correct += result.correct;
      done = clock + 1;
      const t = now();
      stepTimes[timedSteps++] = t - stepStart;
      // Also as soon as the pace is known: a straggler is balanced that much sooner.
      const paceKnown = paceSteps === PACE_SKIP_STEPS + PACE_WINDOW_STEPS;
      const reportEveryMs = n === b ? (run.progressEveryMs ?? 1_000) : Math.min(BALANCED_PROGRESS_EVERY_MS, run.progressEveryMs ?? 1_000);
      if (run.onProgress && (t - lastReport >= reportEveryMs || s === K - 1 || paceKnown)) {
        lastReport = t;
        run.onProgress({
          clock: clock + 1,
          clocks: epochs * K,
          epoch: epoch + 1,
          epochs,
          loss: lossSum / samples,
          accuracy: correct / samples,
          samplesPerSecond: (totalSamples + samples - sessionStart) / Math.max(1e-9, (t - started) / 1000),
          learningRate: model.optimizer.learningRate,
          shares: shares(),
          ...(paceSteps >= PACE_SKIP_STEPS + PACE_WINDOW_STEPS ? { pace: { stepMs: median(recentStepMs), computeMsPerSample: median(recentPerSample) } } : {}),
        });
      }
      if (run.afterStep && s < K - 1) await run.afterStep(clock, exportState);
    }
    totalSamples += samples - sessionStart;
    const e: DistributedEpoch = { epoch: epoch + 1, loss: lossSum / samples, accuracy: correct / samples, samples, seconds: (now() - epochStart) / 1000, ...(timedSteps > 0 ? { stepMs: median(stepTimes.subarray(0, timedSteps)) } : {}) };
    history.push(e);
    await run.onEpochEnd?.(e);
    if (run.afterStep) await run.afterStep(done - 1, exportState);
  }
  const seconds = (now() - started) / 1000;
  // A loop resumed after its last step trains nothing and has no epoch to summarise.
  const last = history[history.length - 1];
  return { clocks: epochs * K, samples: totalSamples, seconds, samplesPerSecond: totalSamples / Math.max(1e-9, seconds), loss: last?.loss ?? 0, accuracy: last?.accuracy ?? 0, shares: shares(), history };
}

function median(values: Float64Array): number {
  const sorted = values.slice().sort();
  const h = sorted.length >> 1;
  return sorted.length % 2 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
}

/** A resume state must fit the run (its records, batch size, steps per epoch and length). */
function checkWorkerState(r: DistributedWorkerState, run: DistributedRun): void {
  const clocks = run.epochs * run.stepsPerEpoch;
  if (!Number.isInteger(r.clock) || r.clock < 0 || r.clock > clocks) throw new StateMismatchError('worker.clock', `a clock from 0 to ${clocks} (${run.epochs} epochs of ${run.stepsPerEpoch} steps)`, String(r.clock));
  if (r.stepsPerEpoch !== run.stepsPerEpoch) throw new StateMismatchError('worker.stepsPerEpoch', `the run's ${run.stepsPerEpoch}`, String(r.stepsPerEpoch));
  if (r.batchSize !== run.batchSize) throw new StateMismatchError('worker.batchSize', `the run's ${run.batchSize}`, String(r.batchSize));
  checkEpochSums(r, 'worker');
  checkRngState(r.shuffle, 'worker.shuffle');
  checkRngState(r.dropout, 'worker.dropout');
}
