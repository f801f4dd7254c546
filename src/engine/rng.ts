// A small seeded PRNG (xoshiro128**). All arithmetic is 32-bit integer math, so a seed gives the
// same stream on every run; Math.random is never used by the engine.
import { StateMismatchError } from './errors';

/** The four state words of a generator (unsigned 32-bit integers, not all zero). */
export type RngState = readonly [number, number, number, number];

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  /** `stream` derives independent generators from one seed (init, dropout, shuffling). */
  constructor(seed: number, stream = 0) {
    let x = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      // splitmix32 expands the seed into the four state words.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(values: Int32Array | Uint32Array | T[]): void {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
  }

  /**
   * The generator state, so a run can be checkpointed and resumed bit for bit. The spare value of
   * normal() is not part of it: the generators a run checkpoints (dropout, shuffling) never draw
   * normals.
   */
  getState(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Restores getState()'s words; `field` names the state in the error when they are not valid. */
  setState(state: RngState, field = 'random generator state'): void {
    checkRngState(state, field);
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v | 0) as [number, number, number, number];
    this.spareNormal = null;
  }
}

/** Throws StateMismatchError unless `state` is four unsigned 32-bit words, not all zero (xoshiro's fixed point). */
export function checkRngState(state: unknown, field: string): asserts state is RngState {
  const words = Array.isArray(state) && state.length === 4 && state.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
  if (!words) throw new StateMismatchError(field, 'four unsigned 32-bit integers', describeValue(state));
  if (state.every((v) => v === 0)) throw new StateMismatchError(field, 'words that are not all zero', '[0, 0, 0, 0]');
}

function describeValue(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Named streams so that adding dropout never changes the initial weights, etc. */
export const RngStream = { init: 1, dropout: 2, shuffle: 3 } as const;
