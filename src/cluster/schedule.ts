// Equal work: every worker does the same number of steps per epoch, set by the largest split, so no
// barrier ever waits for a worker that ran out of data; smaller splits wrap around. Pure.
import { StateMismatchError } from '../common/errors';

export function stepsPerEpoch(recordCounts: readonly number[], batchSize: number): number {
  const largest = Math.max(0, ...recordCounts);
  return Math.max(1, Math.ceil(largest / batchSize));
}

/** 0-based epoch of a 0-based clock (step). */
export function epochOfClock(clock: number, steps: number): number {
  return Math.floor(clock / steps);
}

/** Where a WrappingOrder is: the pass in progress (a permutation of the records) and how far it is used. */
export interface OrderState {
  readonly order: Int32Array;
  /** Records of `order` used; `order.length` when the next draw starts a new pass. */
  readonly position: number;
}

/**
 * Indices of one worker's records for `steps` full batches of `batchSize`, drawn from shuffled
 * passes over its `count` records: a pass is used up before the next (reshuffled) one starts, so
 * every record is used as evenly as possible. `shuffle` permutes an array in place.
 */
export class WrappingOrder {
  private order: Int32Array;
  private position: number;

  /** `resume` (an exportState() of an order over the same records) continues where it was. */
  constructor(private readonly count: number, private readonly shuffle: (a: Int32Array) => void, resume?: OrderState) {
    if (count < 1) throw new RangeError('a worker needs at least one record');
    this.order = new Int32Array(count);
    this.position = count;
    if (resume) {
      checkOrderState(resume, count, 'order');
      this.order.set(resume.order);
      this.position = resume.position;
    }
  }

  /** The next `n` record indices. */
  next(n: number, out: Int32Array = new Int32Array(n)): Int32Array {
    for (let i = 0; i < n; i++) {
      if (this.position === this.count) this.reshuffle();
      out[i] = this.order[this.position++]!;
    }
    return out;
  }

  /** Where it is: the current permutation (a live view) and the position in it. */
  get state(): OrderState {
    return { order: this.order, position: this.position };
  }

  /** A copy of `state`, for a checkpoint. */
  exportState(): OrderState {
    return { order: this.order.slice(), position: this.position };
  }

  private reshuffle(): void {
    for (let i = 0; i < this.count; i++) this.order[i] = i;
    this.shuffle(this.order);
    this.position = 0;
  }
}

/** Throws StateMismatchError unless `s` is a position in a permutation of `count` records. */
export function checkOrderState(s: OrderState, count: number, field: string): void {
  if (s.order.length !== count) throw new StateMismatchError(`${field}.order`, `a permutation of ${count} records`, `${s.order.length} entries`);
  if (!Number.isInteger(s.position) || s.position < 0 || s.position > count) throw new StateMismatchError(`${field}.position`, `an integer from 0 to ${count}`, String(s.position));
  // Before the first pass (position = count) the array is not drawn yet and is not used.
  if (s.position === count) return;
  const seen = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const r = s.order[i]!;
    if (r < 0 || r >= count || seen[r]) throw new StateMismatchError(`${field}.order[${i}]`, `a permutation of 0..${count - 1}`, r < 0 || r >= count ? `record ${r}` : `record ${r} a second time`);
    seen[r] = 1;
  }
}
