// Optimizers over flat parameter segments. They take raw gradients (never pre-scaled updates), so
// the same class serves a local model and a parameter-server shard.
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

export class Optimizer {
  readonly spec: Readonly<OptimizerSpec>;
  /** Number of steps applied so far (Adam's bias correction uses it). */
  stepCount = 0;
  /** Current epoch (0-based); the trainer sets it so the schedule can move. */
  epoch = 0;
  private state1: Float32Array[] = [];
  private state2: Float32Array[] = [];

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
    this.state1 = [];
    this.state2 = [];
    let off = 0;
    for (const s of segments) {
      this.state1.push(buf1.subarray(off, off + s.values.length));
      if (buf2) this.state2.push(buf2.subarray(off, off + s.values.length));
      off += s.values.length;
    }
  }
}
