// Optimizers over flat parameter segments. They take raw gradients (never pre-scaled updates), so
// the same class serves a local model and a parameter-server shard.
import { StateMismatchError } from './errors';
import type { Kernels } from './kernels/types';
import { validateOptimizerSpec, type OptimizerSpec, type ScheduleSpec } from './spec';

/** A contiguous run of parameters with its gradient; `decay` says whether L2 applies (weights, not biases). */
export interface ParameterSegment {
  values: Float32Array;
  gradients: Float32Array;
  decay: boolean;
}

/** The learning rate at an epoch (0-based) under a schedule. Pure. */
export function scheduledLearningRate(base: number, schedule: ScheduleSpec | undefined, epoch: number): number {
  if (!schedule) return base;
  const warmup = schedule.warmupEpochs ?? 0;
  if (epoch < warmup) return (base * (epoch + 1)) / (warmup + 1);
  epoch -= warmup;
  if (schedule.kind === 'constant') return base;
  if (schedule.kind === 'step') return base * Math.pow(schedule.factor, Math.floor(epoch / schedule.every));
  const min = schedule.minLearningRate ?? 0;
  const t = Math.min(epoch, schedule.epochs) / schedule.epochs;
  return min + (base - min) * 0.5 * (1 + Math.cos(Math.PI * t));
}

/** How many moment buffers an optimizer kind keeps per parameter (plain SGD's velocity is rebuilt each step). */
export function momentCount(kind: OptimizerSpec['kind']): number {
  return kind === 'adam' ? 2 : kind === 'sgd' ? 0 : 1;
}

/**
 * Everything an optimizer carries from one step to the next, so a resumed run updates exactly as
 * the uninterrupted one would. Arrays are copies, safe to write out while training goes on.
 */
export interface OptimizerState {
  readonly kind: OptimizerSpec['kind'];
  /** Steps applied so far (Adam's bias correction). */
  readonly stepCount: number;
  /** The epoch the learning-rate schedule is at (0-based). */
  readonly epoch: number;
  /** Lengths of the segments the moments cover, in order; empty before the first step. */
  readonly segmentLengths: readonly number[];
  /**
   * momentCount(kind) buffers, each the segments' lengths summed, segments concatenated in order:
   * none for sgd, the velocity for momentum and nesterov, the first and second moments for Adam.
   * Empty (no buffers) before the first step.
   */
  readonly moments: readonly Float32Array[];
}

export class Optimizer {
  readonly spec: Readonly<OptimizerSpec>;
  /** Number of steps applied so far (Adam's bias correction uses it). */
  stepCount = 0;
  /** Current epoch (0-based); the trainer sets it so the schedule can move. */
  epoch = 0;
  private state1: Float32Array[] = [];
  private state2: Float32Array[] = [];
  /** The whole buffers state1 and state2 are views of (null until the first step; state2 for Adam only). */
  private buffers: [Float32Array | null, Float32Array | null] = [null, null];

  constructor(spec: OptimizerSpec, private readonly kernels: Kernels) {
    validateOptimizerSpec(spec);
    this.spec = { ...spec };
  }

  get learningRate(): number {
    return scheduledLearningRate(this.spec.learningRate, this.spec.schedule, this.epoch);
  }

  /** Apply one step to every segment. Segments must be the same (same order and lengths) on every call. */
  step(segments: readonly ParameterSegment[]): void {
    this.ensureState(segments);
    this.stepCount++;
    const lr = this.learningRate;
    const wd = this.spec.weightDecay ?? 0;
    const k = this.kernels;
    segments.forEach((s, i) => {
      const n = s.values.length;
      const decay = s.decay ? wd : 0;
      switch (this.spec.kind) {
        case 'sgd': k.sgdStep(s.values, s.gradients, this.state1[i], n, lr, 0, decay, false); break;
        case 'momentum': k.sgdStep(s.values, s.gradients, this.state1[i], n, lr, this.spec.momentum ?? 0.9, decay, false); break;
        case 'nesterov': k.sgdStep(s.values, s.gradients, this.state1[i], n, lr, this.spec.momentum ?? 0.9, decay, true); break;
        case 'adam': k.adamStep(s.values, s.gradients, this.state1[i], this.state2[i], n, lr, this.spec.beta1 ?? 0.9, this.spec.beta2 ?? 0.999, this.spec.epsilon ?? 1e-8, decay, this.stepCount); break;
      }
    });
  }

  /** The segment list the state was last checked against (a model passes the same one every step). */
  private stateFor: readonly ParameterSegment[] | undefined;

  private ensureState(segments: readonly ParameterSegment[]): void {
    if (segments === this.stateFor) return;
    this.stateFor = segments;
    if (this.state1.length === segments.length && segments.every((s, i) => this.state1[i].length === s.values.length)) return;
    // One allocation for all state keeps it contiguous in kernel memory.
    const total = segments.reduce((t, s) => t + s.values.length, 0);
    const buf1 = this.kernels.alloc(total);
    const buf2 = this.spec.kind === 'adam' ? this.kernels.alloc(total) : null;
    for (const old of this.buffers) if (old) this.kernels.free(old);
    this.buffers = [buf1, buf2];
    this.state1 = [];
    this.state2 = [];
    let off = 0;
    for (const s of segments) {
      this.state1.push(buf1.subarray(off, off + s.values.length));
      if (buf2) this.state2.push(buf2.subarray(off, off + s.values.length));
      off += s.values.length;
    }
  }

  /** A copy of the optimizer's state (see OptimizerState). */
  exportState(): OptimizerState {
    const lengths = this.state1.map((s) => s.length);
    const moments = this.buffers.slice(0, momentCount(this.spec.kind)).flatMap((b) => (b ? [b.slice()] : []));
    return { kind: this.spec.kind, stepCount: this.stepCount, epoch: this.epoch, segmentLengths: lengths, moments };
  }

  /**
   * Restores exportState()'s result for the segments the next steps will be given (the same ones,
   * in the same order). The kind and the shapes must match; the hyper-parameters are this
   * optimizer's own. Throws StateMismatchError naming the part that does not fit.
   */
  importState(state: OptimizerState, segments: readonly ParameterSegment[], field = 'optimizer'): void {
    if (state.kind !== this.spec.kind) throw new StateMismatchError(`${field}.kind`, `${this.spec.kind} (this optimizer's kind)`, state.kind);
    if (!Number.isInteger(state.stepCount) || state.stepCount < 0) throw new StateMismatchError(`${field}.stepCount`, 'a non-negative integer', String(state.stepCount));
    if (!Number.isInteger(state.epoch) || state.epoch < 0) throw new StateMismatchError(`${field}.epoch`, 'a non-negative integer', String(state.epoch));
    const fresh = state.segmentLengths.length === 0;
    if (fresh && state.stepCount > 0 && momentCount(state.kind) > 0) throw new StateMismatchError(`${field}.moments`, `the moments of ${state.stepCount} steps`, 'none');
    if (!fresh) {
      const lengths = segments.map((s) => s.values.length);
      if (state.segmentLengths.length !== lengths.length || state.segmentLengths.some((n, i) => n !== lengths[i])) {
        throw new StateMismatchError(`${field}.segmentLengths`, `${lengths.length} segments of lengths [${abbreviate(lengths)}]`, `${state.segmentLengths.length} of [${abbreviate(state.segmentLengths)}]`);
      }
      const total = lengths.reduce((t, n) => t + n, 0);
      const wanted = momentCount(state.kind);
      if (state.moments.length !== wanted) throw new StateMismatchError(`${field}.moments`, `${wanted} moment buffers for ${state.kind}`, String(state.moments.length));
      state.moments.forEach((m, i) => {
        if (m.length !== total) throw new StateMismatchError(`${field}.moments[${i}]`, `${total} values`, String(m.length));
      });
    }
    this.ensureState(segments);
    this.buffers.forEach((b, i) => {
      if (!b) return;
      const m = state.moments[i];
      if (m && !fresh) b.set(m);
      else b.fill(0);
    });
    this.stepCount = state.stepCount;
    this.epoch = state.epoch;
  }
}

function abbreviate(values: readonly number[]): string {
  return values.length <= 8 ? values.join(', ') : `${values.slice(0, 8).join(', ')}, …`;
}
