// Clock rules across groups, as a parameter-server shard enforces them where a read is served
// (Bösen's rule). Clocks count a group's steps from 0; a group that has pushed the update of its
// clock c and asks for weights is about to start clock c + 1. Pure.
//   bsp: one update per clock from all groups (averaged); a read for clock t waits for the update of
//        clock t − 1 (every group pushed it).
//   ssp(s): every push is applied on arrival; a read for clock t waits until every group has pushed
//        clock t − s − 1 (Petuum's rule), so what it sees misses at most s clocks of any group.
//   asp: no waiting (Downpour).

export type ConsistencyMode = 'bsp' | 'ssp' | 'asp';

export interface ConsistencyRule {
  readonly mode: ConsistencyMode;
  /** ssp only: the bound s. */
  readonly staleness?: number;
}

export class GroupClocks {
  /** Last clock whose update each group has fully pushed (−1: none yet). */
  private readonly pushed: number[];

  constructor(readonly groups: number, readonly rule: ConsistencyRule) {
    if (rule.mode === 'ssp' && !(Number.isInteger(rule.staleness) && (rule.staleness ?? -1) >= 0)) {
      throw new RangeError(`ssp needs an integer staleness ≥ 0, got ${rule.staleness}`);
    }
    this.pushed = new Array<number>(groups).fill(-1);
  }

  /** Records that group `group` has pushed (and the shard applied) the update of `clock`. */
  markPushed(group: number, clock: number): void {
    if (clock !== this.pushed[group]! + 1) throw new RangeError(`group ${group} pushed clock ${clock} after ${this.pushed[group]}`);
    this.pushed[group] = clock;
  }

  pushedBy(group: number): number {
    return this.pushed[group]!;
  }

  /** The slowest group's last pushed clock: every update up to it, from every group, is applied. */
  get minPushed(): number {
    return Math.min(...this.pushed);
  }

  /** The oldest clock that must be complete before a read for clock `t` may be served. */
  requiredFor(t: number): number {
    switch (this.rule.mode) {
      case 'asp':
        return -1;
      case 'bsp':
        return t - 1;
      case 'ssp':
        return t - (this.rule.staleness ?? 0) - 1;
    }
  }

  canServe(t: number): boolean {
    return this.minPushed >= this.requiredFor(t);
  }

  /** Clocks the slowest group's updates lag behind a read for clock t (0 when none is missing). */
  stalenessOf(t: number): number {
    return Math.max(0, t - 1 - this.minPushed);
  }

  /** Groups that hold back a read for clock t, for the stall inspector. */
  blocking(t: number): number[] {
    const need = this.requiredFor(t);
    return this.pushed.flatMap((c, g) => (c < need ? [g] : []));
  }
}
