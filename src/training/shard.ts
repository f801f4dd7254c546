// One range of the flat parameter vector with its own copy of the values and its optimizer state:
// what a parameter server holds for its shard, and what an all-reduce member holds for the chunk
// it updates. The optimizer's learning-rate schedule follows the clock of the update it applies.
import { segmentsWithin, type DecaySegment, type Range } from '../cluster/ranges';
import { epochOfClock } from '../cluster/schedule';
import { Optimizer, type Kernels, type Model, type OptimizerSpec, type ParameterSegment } from '../engine';

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
