import { GroupClocks, type ConsistencyRule } from '../../../src/cluster/consistency';
import { Rng } from '../../../src/engine/rng';

/**
 * An event simulation of G groups against one shard: each group computes for a random time, pushes
 * its clock, then reads (waits until the shard may serve clock c + 1). Returns every read's
 * staleness and the clocks of all groups at the moment it was served.
 */
function simulate(rule: ConsistencyRule, groups: number, clocks: number, seed: number): { staleness: number[]; violations: number } {
  const rng = new Rng(seed);
  const speed = Array.from({ length: groups }, () => 0.2 + rng.next() * 3); // some groups up to 15x slower
  const shard = new GroupClocks(groups, rule);
  const events: Array<{ t: number; group: number }> = [];
  const waiting: Array<{ group: number; t: number }> = [];
  const clock = new Array<number>(groups).fill(0);
  for (let g = 0; g < groups; g++) events.push({ t: speed[g]! * rng.next(), group: g });
  const staleness: number[] = [];
  let violations = 0;
  const serve = (now: number) => {
    for (let i = 0; i < waiting.length; ) {
      const w = waiting[i]!;
      if (!shard.canServe(w.t)) {
        i++;
        continue;
      }
      waiting.splice(i, 1);
      const s = shard.stalenessOf(w.t);
      staleness.push(s);
      // What the read sees must hold every group's updates up to clock t − s − 1.
      for (let h = 0; h < groups; h++) if (rule.mode === 'ssp' && shard.pushedBy(h) < w.t - (rule.staleness ?? 0) - 1) violations++;
      if (w.t < clocks) events.push({ t: now + speed[w.group]! * (0.5 + rng.next()), group: w.group });
    }
  };
  while (events.length) {
    events.sort((a, b) => a.t - b.t);
    const e = events.shift()!;
    shard.markPushed(e.group, clock[e.group]!);
    clock[e.group]!++;
    waiting.push({ group: e.group, t: clock[e.group]! });
    serve(e.t);
  }
  expect(waiting).toEqual([]); // nobody is left waiting: no deadlock
  return { staleness, violations };
}

describe('clock rules across groups', () => {
  test('SSP: over many random schedules of group speeds, no read ever misses more than s clocks', () => {
    let maxSeen = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const s = seed % 4;
      const { staleness, violations } = simulate({ mode: 'ssp', staleness: s }, 2 + (seed % 4), 40, seed);
      expect(violations).toBe(0);
      expect(Math.max(...staleness)).toBeLessThanOrEqual(s);
      maxSeen = Math.max(maxSeen, Math.max(...staleness));
    }
    expect(maxSeen).toBe(3); // the bound is reached, so the test can tell a loose rule from a tight one
  });

  test('ASP does not wait, and its staleness goes past any small bound', () => {
    const { staleness } = simulate({ mode: 'asp' }, 3, 60, 5);
    expect(Math.max(...staleness)).toBeGreaterThan(3);
  });

  test('BSP serves clock t only after every group pushed t − 1', () => {
    const c = new GroupClocks(2, { mode: 'bsp' });
    expect(c.canServe(0)).toBe(true);
    c.markPushed(0, 0);
    expect(c.canServe(1)).toBe(false);
    expect(c.blocking(1)).toEqual([1]);
    c.markPushed(1, 0);
    expect(c.canServe(1)).toBe(true);
    expect(c.stalenessOf(1)).toBe(0);
  });

  test('pushes must come in clock order; ssp needs a staleness', () => {
    const c = new GroupClocks(2, { mode: 'ssp', staleness: 1 });
    expect(() => c.markPushed(0, 1)).toThrow(/pushed clock 1 after -1/);
    expect(() => new GroupClocks(2, { mode: 'ssp' })).toThrow(/staleness/);
  });
});

describe('a group that recovers', () => {
  test('under ssp it leaves the rule, so the others go on; it comes back at the clock it is given', () => {
    const c = new GroupClocks(2, { mode: 'ssp', staleness: 1 });
    for (let k = 0; k < 3; k++) c.markPushed(0, k);
    expect(c.canServe(3)).toBe(false); // group 1 has pushed nothing: a read for clock 3 needs clock 1
    c.suspend(1);
    expect(c.canServe(3)).toBe(true); // group 0 reads for its next clock without waiting
    expect(c.blocking(3)).toEqual([]);
    c.resume(1, 3);
    expect(c.pushedBy(1)).toBe(2);
    expect(c.canServe(4)).toBe(true);
    expect(c.canServe(5)).toBe(false); // back in the rule
    c.resume(1, 1); // never backwards
    expect(c.pushedBy(1)).toBe(2);
  });

  test('under bsp it stays in the rule: the others wait', () => {
    const c = new GroupClocks(2, { mode: 'bsp' });
    c.suspend(1);
    expect(c.isSuspended(1)).toBe(false);
    expect(c.canServe(1)).toBe(false);
    expect(c.checkpointReady(1)).toBe(false);
  });

  test('it does not hold back a checkpoint: the others pass it; back, it starts at or after it', () => {
    const c = new GroupClocks(2, { mode: 'ssp', staleness: 2 });
    for (let k = 0; k < 3; k++) for (const g of [0, 1]) c.markPushed(g, k);
    for (let k = 3; k < 5; k++) c.markPushed(0, k);
    expect(c.checkpointReady(5)).toBe(false); // group 1 has pushed up to clock 2 only
    c.suspend(1);
    expect(c.checkpointReady(5)).toBe(true);
    // The coordinator brings the group back at the slowest other group's clock + 1 (coordinator.ts tryRejoin).
    c.resume(1, c.pushedBy(0) + 1);
    expect(c.pushedBy(1)).toBe(4);
    expect(c.checkpointReady(5)).toBe(true);
    expect(c.checkpointReady(6)).toBe(false);
  });
});
