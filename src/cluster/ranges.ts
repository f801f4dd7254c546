// Ranges of the flat parameter vector: the shards parameter servers own, the chunks a group's ring
// reduces, and the pieces where the two meet. Pure.

/** A half-open interval [start, end) of parameter indices. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

export const length = (r: Range): number => r.end - r.start;

/** [0, total) cut into `parts` contiguous ranges whose lengths differ by at most one. */
export function partition(total: number, parts: number): Range[] {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`parts must be a positive integer, got ${parts}`);
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`total must be a non-negative integer, got ${total}`);
  const base = Math.floor(total / parts);
  const extra = total % parts;
  const out: Range[] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const end = start + base + (i < extra ? 1 : 0);
    out.push({ start, end });
    start = end;
  }
  return out;
}

export function intersect(a: Range, b: Range): Range | undefined {
  const start = Math.max(a.start, b.start);
  const end = Math.min(a.end, b.end);
  return start < end ? { start, end } : undefined;
}

/** Where a range falls in each of a list of ranges (e.g. a ring chunk across the shards). */
export function piecesOf(range: Range, among: readonly Range[]): Array<{ index: number; range: Range }> {
  const out: Array<{ index: number; range: Range }> = [];
  among.forEach((r, index) => {
    const i = intersect(range, r);
    if (i) out.push({ index, range: i });
  });
  return out;
}

/**
 * The chunk a ring member holds fully reduced after a ring reduce-scatter (src/cluster/allreduce.ts):
 * member r ends with chunk (r + 1) mod m.
 */
export function ownedChunk(rank: number, groupSize: number): number {
  return (rank + 1) % groupSize;
}

/**
 * A group member's place on the ring its data travels. Members pass chunks to their left
 * neighbour, so that each receives on the connection it opened itself (src/container/peers.ts):
 * the algorithm's ring runs in the reverse order of the group's ranks.
 */
export function ringPosition(rank: number, groupSize: number): number {
  return groupSize - 1 - rank;
}

/** The chunk group member `rank` holds reduced after a reduce-scatter, and pushes to the servers. */
export function memberChunk(rank: number, groupSize: number): number {
  return ownedChunk(ringPosition(rank, groupSize), groupSize);
}

/** A contiguous run of parameters and whether weight decay applies to it (weights yes, biases no). */
export interface DecaySegment {
  readonly start: number;
  readonly end: number;
  readonly decay: boolean;
}

/** The decay segments of a model, clipped to `range` and made relative to its start. */
export function segmentsWithin(range: Range, segments: readonly DecaySegment[]): DecaySegment[] {
  const out: DecaySegment[] = [];
  for (const s of segments) {
    const i = intersect(range, s);
    if (i) out.push({ start: i.start - range.start, end: i.end - range.start, decay: s.decay });
  }
  return out;
}
