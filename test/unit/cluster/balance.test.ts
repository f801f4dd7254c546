import { planBalance, type MemberPace } from '../../../src/cluster/balance';

/**
 * A member as the coordinator sees it: a fixed part per step (the exchange) and a compute part
 * that is slower per sample at small batches (matrix products lose efficiency), times its slowdown.
 */
interface SimMember {
  readonly fixedMs: number;
  readonly msPerSample: number;
  slowdown: number;
}

const computeMs = (m: SimMember, n: number): number => m.slowdown * m.msPerSample * n * (1 + 8 / n);
const pace = (m: SimMember, n: number): MemberPace => ({ stepMs: m.fixedMs + computeMs(m, n), computeMsPerSample: computeMs(m, n) / n });
/** The group's step: its slowest member's. */
const groupStep = (members: readonly SimMember[], sizes: readonly number[]): number => Math.max(...members.map((m, i) => pace(m, sizes[i]!).stepMs));

/** Plans as the coordinator does, each from paces measured at the sizes of the one before; returns the sizes after each plan. */
function run(members: SimMember[], batch: number, plans: number, between?: (plan: number) => void): number[][] {
  let balanced: readonly number[] | undefined;
  const seen: number[][] = [];
  for (let p = 0; p < plans; p++) {
    between?.(p);
    const sizes = balanced ?? members.map(() => batch);
    const d = planBalance(batch, members.map((m, i) => pace(m, sizes[i]!)), balanced);
    if (d.kind === 'even') balanced = undefined;
    if (d.kind === 'balance') balanced = d.sizes;
    seen.push([...(balanced ?? members.map(() => batch))]);
  }
  return seen;
}

describe('straggler balancing', () => {
  const batch = 64;
  for (const fixedMs of [1, 8, 20]) {
    test(`a member 3× slower, fixed part ${fixedMs} ms per step: the first plan brings the group's step from over 1.5× to within 1.3× of its fault-free one, the next within 1.15×`, () => {
      const members: SimMember[] = [
        { fixedMs, msPerSample: 0.5, slowdown: 1 },
        { fixedMs, msPerSample: 0.5, slowdown: 3 },
      ];
      const faultFree = groupStep([members[0]!, { ...members[0]! }], [batch, batch]);
      const seen = run(members, batch, 4);
      expect(groupStep(members, [batch, batch]) / faultFree).toBeGreaterThan(1.5);
      // The first plan cannot know how much less efficient the straggler's smaller batch is; the next one measures it.
      expect(groupStep(members, seen[0]!) / faultFree).toBeLessThanOrEqual(1.3);
      for (const sizes of seen.slice(1)) expect(groupStep(members, sizes) / faultFree).toBeLessThanOrEqual(1.15);
      // The fast member takes more, at most 1.2× the job's batch; the straggler less.
      expect(seen[3]![0]).toBeGreaterThan(batch);
      expect(seen[3]![0]).toBeLessThanOrEqual(Math.round(1.2 * batch));
      expect(seen[3]![1]).toBeLessThan(batch / 2);
    });
  }

  test('an even group is left alone, and sizes that are close enough are not churned', () => {
    const members: SimMember[] = [0, 1, 2].map(() => ({ fixedMs: 5, msPerSample: 0.5, slowdown: 1 }));
    members[2]!.slowdown = 1.3;
    expect(run(members, batch, 3)).toEqual([0, 1, 2].map(() => [batch, batch, batch]));
    members[2]!.slowdown = 4;
    const seen = run(members, batch, 5);
    expect(seen[4]).toEqual(seen[3]);
  });

  test('when the straggler recovers the group goes back to equal batches', () => {
    const members: SimMember[] = [
      { fixedMs: 8, msPerSample: 0.5, slowdown: 1 },
      { fixedMs: 8, msPerSample: 0.5, slowdown: 3 },
    ];
    const seen = run(members, batch, 5, (p) => {
      if (p === 2) members[1]!.slowdown = 1;
    });
    expect(seen[1]![1]).toBeLessThan(batch / 2);
    expect(seen[seen.length - 1]).toEqual([batch, batch]);
  });

  test('a straggler aims below the fault-free step, the fast members above it: the straggler\'s larger noise stays under the group\'s step', () => {
    const members: SimMember[] = [{ fixedMs: 8, msPerSample: 0.1, slowdown: 1 }, { fixedMs: 8, msPerSample: 0.1, slowdown: 3 }];
    const faultFree = groupStep(members.map((m) => ({ ...m, slowdown: 1 })), [256, 256]);
    const seen = run(members, 256, 6);
    const last = seen[seen.length - 1]!;
    const steps = members.map((m, i) => pace(m, last[i]!).stepMs / faultFree);
    expect(steps[0]).toBeGreaterThan(1);
    expect(steps[0]).toBeLessThanOrEqual(1.06);
    expect(steps[1]).toBeLessThan(1);
    expect(steps[1]).toBeGreaterThan(0.85);
  });

  test('a straggler keeps at least an eighth of the job\'s batch, however slow', () => {
    const members: SimMember[] = [
      { fixedMs: 8, msPerSample: 0.5, slowdown: 1 },
      { fixedMs: 8, msPerSample: 0.5, slowdown: 40 },
    ];
    const seen = run(members, batch, 4);
    expect(seen[3]![1]).toBe(batch / 8);
  });

  test('missing or unusable paces change nothing', () => {
    expect(planBalance(64, [{ stepMs: 10, computeMsPerSample: 0.1 }], undefined)).toEqual({ kind: 'keep' });
    expect(planBalance(64, [{ stepMs: 10, computeMsPerSample: 0.1 }, { stepMs: Number.NaN, computeMsPerSample: 1 }], undefined)).toEqual({ kind: 'keep' });
    expect(planBalance(64, [{ stepMs: 10, computeMsPerSample: 0.1 }, { stepMs: 40, computeMsPerSample: 0 }], undefined)).toEqual({ kind: 'keep' });
  });
});
