// The training curves the ApplicationMaster keeps for its page, history.json and TensorBoard, in
// bounded memory for a run of any length. Pure: the AM feeds it points, it hands out the
// TrainingHistory of the status document.
//
// Downsampling: a series keeps at most `capacity` points. While fewer have come, every point is
// kept as it came. When the slots are full, neighbours are merged pairwise (halving the count) and
// from then on twice as many incoming points go into each slot. So the kept points always cover
// the whole run evenly, each standing for the same number of raw points (the newest slot may be
// partly filled), and memory never exceeds `capacity` points per series. A merged point carries
// the mean loss, accuracy and samples/s of the points it stands for (weighted by how many each
// stands for), the largest staleness, and the time, clock, epoch and learning rate of its last
// point, so the curve ends exactly where the run is.
import type { EpochPoint, StatusDocument, StepPoint, TrainingHistory } from '../protocol';

/** Default bounds: ~1,000 step points keep status.json around 100 KB; epochs are rarely merged. */
export const DEFAULT_STEP_CAPACITY = 1024;
export const DEFAULT_EPOCH_CAPACITY = 4096;

type Merge<P> = (a: P, weightA: number, b: P, weightB: number) => P;

/** One downsampled series (see the file comment). */
export class BoundedSeries<P> {
  private readonly kept: { point: P; weight: number }[] = [];
  private pending: { point: P; weight: number } | undefined;
  /** Raw points per full slot. */
  private stride = 1;
  private total = 0;

  constructor(
    readonly capacity: number,
    private readonly merge: Merge<P>,
  ) {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity % 2 !== 0) throw new RangeError(`series capacity must be an even integer ≥ 2, got ${capacity}`);
  }

  add(point: P): void {
    this.total++;
    this.pending = this.pending ? { point: this.merge(this.pending.point, this.pending.weight, point, 1), weight: this.pending.weight + 1 } : { point, weight: 1 };
    if (this.pending.weight < this.stride) return;
    this.kept.push(this.pending);
    this.pending = undefined;
    if (this.kept.length < this.capacity) return;
    const halved: { point: P; weight: number }[] = [];
    for (let i = 0; i < this.kept.length; i += 2) {
      const [a, b] = [this.kept[i]!, this.kept[i + 1]!];
      halved.push({ point: this.merge(a.point, a.weight, b.point, b.weight), weight: a.weight + b.weight });
    }
    this.kept.splice(0, this.kept.length, ...halved);
    this.stride *= 2;
  }

  /** The kept points, oldest first, with the partly filled newest slot last: at most `capacity`. */
  points(): P[] {
    const out = this.kept.map((k) => k.point);
    if (this.pending) out.push(this.pending.point);
    return out;
  }

  /** Raw points added over the run. */
  get added(): number {
    return this.total;
  }

  /** The newest raw point's slot (merged with the others of its slot). */
  get last(): P | undefined {
    return this.pending?.point ?? this.kept[this.kept.length - 1]?.point;
  }
}

/** Weighted mean of two optional values; one side missing: the other. */
function mean(a: number | undefined, wa: number, b: number | undefined, wb: number): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (a * wa + b * wb) / (wa + wb);
}

function max(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

export const mergeSteps: Merge<StepPoint> = (a, wa, b, wb) =>
  withoutUndefined({
    t: b.t,
    clock: b.clock,
    epoch: b.epoch,
    loss: mean(a.loss, wa, b.loss, wb)!,
    accuracy: mean(a.accuracy, wa, b.accuracy, wb)!,
    learningRate: b.learningRate ?? a.learningRate,
    samplesPerSecond: mean(a.samplesPerSecond, wa, b.samplesPerSecond, wb),
    staleness: max(a.staleness, b.staleness),
  });

export const mergeEpochs: Merge<EpochPoint> = (a, wa, b, wb) =>
  withoutUndefined({
    epoch: b.epoch,
    t: b.t,
    loss: mean(a.loss, wa, b.loss, wb)!,
    accuracy: mean(a.accuracy, wa, b.accuracy, wb)!,
    validationLoss: mean(a.validationLoss, wa, b.validationLoss, wb),
    validationAccuracy: mean(a.validationAccuracy, wa, b.validationAccuracy, wb),
    seconds: mean(a.seconds, wa, b.seconds, wb),
    stepMs: mean(a.stepMs, wa, b.stepMs, wb),
  });

/** JSON drops undefined anyway; dropping it here keeps points comparable with toEqual. */
function withoutUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export interface MetricHistoryOptions {
  readonly stepCapacity?: number;
  readonly epochCapacity?: number;
}

/** The run's step and epoch curves, each a BoundedSeries. */
export class MetricHistory {
  private readonly steps: BoundedSeries<StepPoint>;
  private readonly epochs: BoundedSeries<EpochPoint>;

  constructor(options: MetricHistoryOptions = {}) {
    this.steps = new BoundedSeries(options.stepCapacity ?? DEFAULT_STEP_CAPACITY, mergeSteps);
    this.epochs = new BoundedSeries(options.epochCapacity ?? DEFAULT_EPOCH_CAPACITY, mergeEpochs);
  }

  addStep(point: StepPoint): void {
    if (!Number.isFinite(point.loss) || !Number.isFinite(point.accuracy)) return; // a diverged step: nothing to plot
    this.steps.add(withoutUndefined({ ...point }));
  }

  addEpoch(point: EpochPoint): void {
    this.epochs.add(withoutUndefined({ ...point }));
  }

  /**
   * Records the document's current step, if its global clock moved past the last recorded one
   * and it has a loss: the AM can call this after every report. Staleness is the largest any
   * group has seen so far.
   */
  observe(doc: StatusDocument): boolean {
    if (doc.clock === undefined || doc.loss === undefined) return false;
    const last = this.steps.last;
    if (last && doc.clock <= last.clock) return false;
    const staleness = doc.groups.reduce<number | undefined>((m, g) => max(m, g.staleness?.max), undefined);
    this.addStep({
      t: doc.updatedAt - doc.startedAt,
      clock: doc.clock,
      epoch: doc.epoch ?? 1,
      loss: doc.loss,
      accuracy: doc.accuracy ?? 0,
      learningRate: doc.learningRate,
      samplesPerSecond: doc.samplesPerSecond,
      staleness,
    });
    return true;
  }

  /** Raw points recorded over the run (before downsampling). */
  get recorded(): { steps: number; epochs: number } {
    return { steps: this.steps.added, epochs: this.epochs.added };
  }

  history(): TrainingHistory {
    return { steps: this.steps.points(), epochs: this.epochs.points() };
  }
}
