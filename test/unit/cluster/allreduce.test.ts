import { allGather, reduceScatter, RingDesyncError } from '../../../src/cluster/allreduce';
import { ownedChunk, partition } from '../../../src/cluster/ranges';
import { Rng } from '../../../src/engine/rng';
import { fp16, fp32 } from '../../../src/wire/tensors';
import { fakeRing } from './fake-ring';

function vectors(m: number, n: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: m }, () => Float32Array.from({ length: n }, () => rng.normal()));
}

describe('ring all-reduce over fake peers', () => {
  for (const m of [1, 2, 3, 4, 5]) {
    test(`${m} members: reduce-scatter sums each owned chunk; all-gather leaves every member identical`, async () => {
      const n = 1003;
      const input = vectors(m, n, m);
      const bufs = input.map((v) => v.slice());
      const chunks = partition(n, m);
      const links = fakeRing(m, () => Math.floor(Math.random() * 3));
      await Promise.all(bufs.map((b, r) => reduceScatter(b, 7, { chunks, rank: r, link: links[r]!, codec: fp32 })));
      for (let r = 0; r < m; r++) {
        const own = chunks[ownedChunk(r, m)]!;
        for (let i = own.start; i < own.end; i++) {
          const expected = input.reduce((s, v) => s + v[i]!, 0);
          expect(Math.abs(bufs[r]![i]! - expected)).toBeLessThan(1e-4);
        }
      }
      await Promise.all(bufs.map((b, r) => allGather(b, 8, { chunks, rank: r, link: links[r]!, codec: fp32 })));
      for (let r = 1; r < m; r++) expect(Buffer.from(bufs[r]!.buffer).equals(Buffer.from(bufs[0]!.buffer))).toBe(true);
      for (let i = 0; i < n; i += 97) expect(Math.abs(bufs[0]![i]! - input.reduce((s, v) => s + v[i]!, 0))).toBeLessThan(1e-4);
    });
  }

  test('fp16 on the wire: members stay bit-identical and the sum is within fp16 precision', async () => {
    const m = 3;
    const n = 4096;
    const input = vectors(m, n, 11);
    const bufs = input.map((v) => v.slice());
    const chunks = partition(n, m);
    const links = fakeRing(m);
    await Promise.all(bufs.map((b, r) => reduceScatter(b, 1, { chunks, rank: r, link: links[r]!, codec: fp16 })));
    await Promise.all(bufs.map((b, r) => allGather(b, 2, { chunks, rank: r, link: links[r]!, codec: fp16 })));
    for (let r = 1; r < m; r++) expect(Buffer.from(bufs[r]!.buffer).equals(Buffer.from(bufs[0]!.buffer))).toBe(true);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(bufs[0]![i]! - input.reduce((s, v) => s + v[i]!, 0)));
    expect(worst).toBeGreaterThan(0); // fp16 did round
    expect(worst).toBeLessThan(0.02);
  });

  test('fp16 with a reused encoding buffer per member gives the same bits as fresh memory, step after step', async () => {
    const m = 3;
    const n = 5000;
    const chunks = partition(n, m);
    const largest = Math.max(...chunks.map((c) => c.end - c.start));
    const run = async (reuse: boolean) => {
      const bufs = vectors(m, n, 21);
      const links = fakeRing(m, () => Math.floor(Math.random() * 2));
      const workspaces = bufs.map(() => (reuse ? { encoded: new Uint8Array(2 * largest) } : {}));
      for (let step = 0; step < 3; step++) {
        await Promise.all(bufs.map((b, r) => reduceScatter(b, step, { chunks, rank: r, link: links[r]!, codec: fp16, workspace: workspaces[r] })));
        await Promise.all(bufs.map((b, r) => allGather(b, step, { chunks, rank: r, link: links[r]!, codec: fp16, workspace: workspaces[r] })));
      }
      return bufs;
    };
    const [fresh, reused] = await Promise.all([run(false), run(true)]);
    for (let r = 0; r < m; r++) expect(Buffer.from(reused[r]!.buffer).equals(Buffer.from(fresh[r]!.buffer))).toBe(true);
    expect(fp16.encode(fresh[0]!.subarray(0, 10), new Uint8Array(64)).buffer.byteLength).toBe(64); // written into the scratch
  });

  test('a member out of step fails loudly instead of mixing clocks', async () => {
    const links = fakeRing(2);
    const a = new Float32Array(10);
    const b = new Float32Array(10);
    const chunks = partition(10, 2);
    await expect(Promise.all([reduceScatter(a, 1, { chunks, rank: 0, link: links[0]!, codec: fp32 }), reduceScatter(b, 2, { chunks, rank: 1, link: links[1]!, codec: fp32 })])).rejects.toBeInstanceOf(RingDesyncError);
  });
});
