// One range of the flat parameter vector with its own copy of the values and its optimizer state:
// what a parameter server holds for its shard. The optimizer's learning-rate schedule follows the
// clock of the update it applies. Its state can be exported and restored for checkpoints.
import { StateMismatchError } from '../common/errors';
import { segmentsWithin, type DecaySegment, type Range } from '../cluster/ranges';
import { epochOfClock } from '../cluster/schedule';
import { Optimizer, type Kernels, type Model, type OptimizerSpec, type OptimizerState, type ParameterSegment } from '../engine';

/** What a ShardState holds, copied: its range, values and optimizer state, and the updates applied. */
export interface ShardSnapshot {
  readonly start: number;
  readonly end: number;
  readonly values: Float32Array;
  readonly optimizer: OptimizerState;
  readonly updates: number;
}

export class ShardState {
  readonly values: Float32Array;
  private readonly gradients: Float32Array;
  private readonly segments: ParameterSegment[];
  private readonly optimizer: Optimizer;
  updates = 0;

  constructor(
    readonly range: Range,
    modelSegments: readonly DecaySegment[],
    optimizer: OptimizerSpec,
    private readonly kernels: Kernels,
    initial: Float32Array,
    private readonly stepsPerEpoch: number,
  ) {
    const n = range.end - range.start;
    if (initial.length !== n) throw new RangeError(`shard [${range.start}, ${range.end}) needs ${n} initial values, got ${initial.length}`);
    this.values = kernels.alloc(n);
    this.values.set(initial);
    this.gradients = kernels.alloc(n);
    this.segments = segmentsWithin(range, modelSegments).map((s) => ({ values: this.values.subarray(s.start, s.end), gradients: this.gradients.subarray(s.start, s.end), decay: s.decay }));
    this.optimizer = new Optimizer(optimizer, kernels);
  }

  /** The gradient buffer to fill before `apply` (the range's length). */
  get gradient(): Float32Array {
    return this.gradients;
  }

  /** One optimizer step with the gradient buffer, at the learning rate of `clock`'s epoch. */
  apply(clock: number): void {
    this.optimizer.epoch = epochOfClock(clock, this.stepsPerEpoch);
    this.optimizer.step(this.segments);
    this.updates++;
  }

  get learningRate(): number {
    return this.optimizer.learningRate;
  }

  /** A copy of the shard's state, for a checkpoint (between two apply() calls). */
  exportState(): ShardSnapshot {
    return { start: this.range.start, end: this.range.end, values: this.values.slice(), optimizer: this.optimizer.exportState(), updates: this.updates };
  }

  /** Restores exportState()'s result of a shard of the same range and optimizer; nothing changes if it does not fit. */
  importState(s: ShardSnapshot): void {
    const { start, end } = this.range;
    if (s.start !== start || s.end !== end) throw new StateMismatchError('shard.range', `[${start}, ${end})`, `[${s.start}, ${s.end})`);
    if (s.values.length !== end - start) throw new StateMismatchError('shard.values', `${end - start} values`, String(s.values.length));
    if (!Number.isInteger(s.updates) || s.updates < 0) throw new StateMismatchError('shard.updates', 'a non-negative integer', String(s.updates));
    this.optimizer.importState(s.optimizer, this.segments, 'shard.optimizer');
    this.values.set(s.values);
    this.updates = s.updates;
  }

  free(): void {
    this.kernels.free(this.values);
    this.kernels.free(this.gradients);
  }
}

/** A model's parameters as decay segments of the flat vector: weights decay, biases do not. */
export function decaySegments(model: Model): DecaySegment[] {
  const out: DecaySegment[] = [];
  for (let i = 0; i < model.layerCount; i++) {
    const l = model.layerParameters(i);
    const weights = l.inputSize * l.outputSize;
    out.push({ start: l.offset, end: l.offset + weights, decay: true });
    out.push({ start: l.offset + weights, end: l.offset + weights + l.outputSize, decay: false });
  }
  return out;
}
