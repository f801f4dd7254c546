// Equal work: every worker does the same number of steps per epoch, set by the largest split, so no
// barrier ever waits for a worker that ran out of data; smaller splits wrap around. Pure.

export function stepsPerEpoch(recordCounts: readonly number[], batchSize: number): number {
  const largest = Math.max(0, ...recordCounts);
  return Math.max(1, Math.ceil(largest / batchSize));
}

/** 0-based epoch of a 0-based clock (step). */
export function epochOfClock(clock: number, steps: number): number {
  return Math.floor(clock / steps);
}

/**
 * Indices of one worker's records for `steps` full batches of `batchSize`, drawn from shuffled
 * passes over its `count` records: a pass is used up before the next (reshuffled) one starts, so
 * every record is used as evenly as possible. `shuffle` permutes an array in place.
 */
export class WrappingOrder {
  private order: Int32Array;
  private position: number;

  constructor(private readonly count: number, private readonly shuffle: (a: Int32Array) => void) {
    if (count < 1) throw new RangeError('a worker needs at least one record');
    this.order = new Int32Array(count);
    this.position = count;
  }

  /** The next `n` record indices. */
  next(n: number, out: Int32Array = new Int32Array(n)): Int32Array {
    for (let i = 0; i < n; i++) {
      if (this.position === this.count) this.reshuffle();
      out[i] = this.order[this.position++]!;
    }
    return out;
  }

  /** Where it is, for checkpoints: the current permutation and the position in it. */
  get state(): { order: Int32Array; position: number } {
    return { order: this.order, position: this.position };
  }

  private reshuffle(): void {
    for (let i = 0; i < this.count; i++) this.order[i] = i;
    this.shuffle(this.order);
    this.position = 0;
  }
}
