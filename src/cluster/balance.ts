// Straggler balancing inside a group: when one member computes much slower than the others, the
// group's batch is shared out by speed so that a step takes little more than a fault-free one
// (the gradient stays the mean over the group's samples: members weigh theirs by their share).
// Pure: the coordinator feeds it what members report and sends out the sizes it returns.
//
// A member's step is a fixed part (the exchange: the ring and the servers move the whole
// vector whatever the batch) plus a part per sample (the gradient). Sizing by time per step
// alone undershoots the straggler's fixed part, so a plan solves fixed + perSample · n = target
// for each member, and later plans correct it from what the members report at their new sizes.

/** What a member reported of its recent steps (medians), at the batch it was running. */
export interface MemberPace {
  /** Its own time per step: computing and exchanging, not waiting for others. */
  readonly stepMs: number;
  /** Its compute time per sample (the gradient, and a test hook's slowdown). */
  readonly computeMsPerSample: number;
}

export interface BalancePolicy {
  /** A member this many times slower per sample than the fastest starts a balance. */
  readonly startRatio: number;
  /**
   * A balanced group whose members are within this ratio goes back to equal batches. Just under
   * `startRatio`: between the two a member would not have started a balance, and a member at a
   * smaller batch measures slower per sample (a gradient's fixed cost spread over fewer samples),
   * so a group kept balanced there dithered around equal sizes on a noisy host.
   */
  readonly evenRatio: number;
  /** A balanced step aims at this multiple of the fault-free one (below the 1.2× promise: room for noise). */
  readonly targetRatio: number;
  /**
   * …and a straggler's (a member `startRatio` slower per sample) at this one: its compute, and the
   * noise in it, are its slowdown times larger, and the group's step is the slowest member's each
   * step, so its bursts and not only its median must stay under the others' step.
   */
  readonly stragglerTargetRatio: number;
  /** No member's batch grows beyond this multiple of the job's batch… */
  readonly maxBatchRatio: number;
  /** …nor shrinks below this one (a straggler keeps contributing; timings of tiny batches are mostly overhead). */
  readonly minBatchRatio: number;
  /** Sizes within this fraction of the current ones are kept (no churn). */
  readonly tolerance: number;
}

export const DEFAULT_BALANCE_POLICY: BalancePolicy = { startRatio: 1.5, evenRatio: 1.4, targetRatio: 1.05, stragglerTargetRatio: 0.95, maxBatchRatio: 1.2, minBatchRatio: 0.125, tolerance: 0.1 };

/** A group's batches: equal (the job's batch each), or shared out by speed. */
export type BalanceDecision = { readonly kind: 'keep' } | { readonly kind: 'even' } | { readonly kind: 'balance'; readonly sizes: readonly number[] };

/**
 * The group's next batches. `paces` were measured at `current` sizes (absent: the group is even,
 * the job's `batch` each). A member's fixed part is what its step takes beyond its samples; the
 * fault-free step is the fastest member's fixed part and the job's batch at its speed, measured
 * now, so it follows the machine (and a noisy first measure does not stay).
 */
export function planBalance(batch: number, paces: readonly MemberPace[], current: readonly number[] | undefined, policy: BalancePolicy = DEFAULT_BALANCE_POLICY): BalanceDecision {
  if (paces.length < 2 || paces.some((p) => !(p.stepMs > 0) || !(p.computeMsPerSample > 0))) return { kind: 'keep' };
  const perSample = paces.map((p) => p.computeMsPerSample);
  const fastest = Math.min(...perSample);
  const spread = Math.max(...perSample) / fastest;
  const sizes = current ?? paces.map(() => batch);
  if (!current && spread < policy.startRatio) return { kind: 'keep' };
  if (current && spread < policy.evenRatio) return { kind: 'even' };
  const fixed = paces.map((p, i) => Math.max(0, p.stepMs - p.computeMsPerSample * sizes[i]!));
  const f = perSample.indexOf(fastest);
  const faultFree = fixed[f]! + fastest * batch;
  const most = Math.round(policy.maxBatchRatio * batch);
  const least = Math.max(1, Math.ceil(policy.minBatchRatio * batch));
  const next = paces.map((p, i) => {
    const target = (p.computeMsPerSample >= policy.startRatio * fastest ? policy.stragglerTargetRatio : policy.targetRatio) * faultFree;
    return Math.max(least, Math.min(most, Math.floor((target - fixed[i]!) / p.computeMsPerSample)));
  });
  if (next.every((n, i) => Math.abs(n - sizes[i]!) <= policy.tolerance * sizes[i]!)) return { kind: 'keep' };
  return { kind: 'balance', sizes: next };
}
