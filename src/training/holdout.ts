// A held-out fraction of in-memory training records, chosen by a seeded shuffle, for per-epoch
// validation when a job validates on its training data rather than the test set. Pure.
import type { Batch } from '../engine';
import { Rng, RngStream } from '../engine/rng';

export function splitHoldout(data: Batch, fraction: number, seed: number, inputs: number, outputs: number): { train: Batch; validation?: Batch } {
  const held = Math.floor(data.count * fraction);
  if (held === 0) return { train: data };
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  new Rng(seed, RngStream.shuffle + 100).shuffle(order);
  const take = (from: number, to: number): Batch => {
    const n = to - from;
    const x = new Float32Array(n * inputs);
    const y = new Float32Array(n * outputs);
    for (let i = 0; i < n; i++) {
      const r = order[from + i]!;
      x.set(data.x.subarray(r * inputs, (r + 1) * inputs), i * inputs);
      y.set(data.y.subarray(r * outputs, (r + 1) * outputs), i * outputs);
    }
    return { x, y, count: n };
  };
  return { train: take(held, data.count), validation: take(0, held) };
}
