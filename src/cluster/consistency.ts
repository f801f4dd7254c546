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
  /** Groups out of the rule while they recover (a member is being replaced): nobody waits for them. */
  private readonly suspended = new Set<number>();

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

  /** The slowest active group's last pushed clock (what reads wait for); Infinity when none is active. */
  get minActivePushed(): number {
    return Math.min(...this.pushed.filter((_, g) => !this.suspended.has(g)));
  }

  /**
   * A group leaves the rule while a member is replaced (ssp, asp: the others go on). Under bsp it
   * stays in: one update per clock needs every group, so the others wait for it.
   */
  suspend(group: number): void {
    if (this.rule.mode !== 'bsp') this.suspended.add(group);
  }

  /** Sets a group's last pushed clock outright (a rollback to a checkpoint), and back into the rule. */
  reset(group: number, lastPushed: number): void {
    this.suspended.delete(group);
    this.pushed[group] = lastPushed;
  }

  /** A recovered group comes back, its next push being the update of `nextClock` (never earlier than it has pushed). */
  resume(group: number, nextClock: number): void {
    this.suspended.delete(group);
    this.pushed[group] = Math.max(this.pushed[group]!, nextClock - 1);
  }

  isSuspended(group: number): boolean {
    return this.suspended.has(group);
  }

  /** A copy of every group's last pushed clock. */
  get all(): number[] {
    return [...this.pushed];
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
    return this.minActivePushed >= this.requiredFor(t);
  }

  /**
   * Whether a shard may snapshot its checkpoint at `clock`: every active group has pushed
   * clock − 1. A recovering group does not hold it back (nor, through the pushes held behind the
   * checkpoint, the other groups): it comes back at the slowest other group's clock + 1, at or
   * after `clock` once the snapshot is taken, so no update of an earlier clock follows it.
   */
  checkpointReady(clock: number): boolean {
    return this.minActivePushed >= clock - 1;
  }

  /** Clocks the slowest active group's updates lag behind a read for clock t (0 when none is missing). */
  stalenessOf(t: number): number {
    const min = this.minActivePushed;
    return Number.isFinite(min) ? Math.max(0, t - 1 - min) : 0;
  }

  /** Groups that hold back a read for clock t, for the stall inspector. */
  blocking(t: number): number[] {
    const need = this.requiredFor(t);
    return this.pushed.flatMap((c, g) => (c < need && !this.suspended.has(g) ? [g] : []));
  }
}
