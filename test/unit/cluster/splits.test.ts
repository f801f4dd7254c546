import { computeSplits, localBytes, type InputFile } from '../../../src/cluster/splits';
import { partition, piecesOf, segmentsWithin, ownedChunk } from '../../../src/cluster/ranges';
import { stepsPerEpoch, WrappingOrder } from '../../../src/cluster/schedule';
import { allGroups, groupOf, leftNeighbour, rightNeighbour, topology } from '../../../src/cluster/topology';
import { Rng } from '../../../src/engine/rng';

const MiB = 1 << 20;

/** A file of `length` bytes in blocks of `blockSize`, each on `replication` hosts chosen by `rng`. */
function hdfsFile(path: string, length: number, blockSize: number, hosts: string[], replication: number, rng: Rng): InputFile {
  const blocks = [];
  for (let offset = 0; offset < length; offset += blockSize) {
    const order = hosts.map((h) => h);
    rng.shuffle(order);
    blocks.push({ offset, length: Math.min(blockSize, length - offset), replicas: order.slice(0, replication).map((host) => ({ host, httpAddress: `${host}:9864` })) });
  }
  return { path, length, blocks };
}

function coverage(files: InputFile[], splits: ReturnType<typeof computeSplits>): void {
  for (const f of files) {
    const ranges = splits.flatMap((s) => s.ranges.filter((r) => r.path === f.path)).sort((a, b) => a.start - b.start);
    let at = 0;
    for (const r of ranges) {
      expect(r.start).toBe(at);
      expect(r.end).toBeGreaterThan(r.start);
      at = r.end;
    }
    expect(at).toBe(f.length);
  }
}

describe('splits from block locations', () => {
  const hosts = ['node1.test', 'node2.test', 'node3.test'];

  test('MNIST-like: 4 splits of 45 one-MiB blocks on 3 hosts (replication 2) are equal and read all-local', () => {
    const rng = new Rng(3);
    const file = hdfsFile('/d/train-images', 47_040_016, MiB, hosts, 2, rng);
    const splits = computeSplits([file], 4);
    coverage([file], splits);
    const sizes = splits.map((s) => s.bytes);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    for (const s of splits) {
      expect(s.host).toBeDefined();
      expect(localBytes(s, s.host!)).toBe(s.bytes);
    }
    // Splits spread over the hosts: no host anchors more than two.
    const perHost = hosts.map((h) => splits.filter((s) => s.host === h).length);
    expect(Math.max(...perHost)).toBeLessThanOrEqual(2);
  });

  test('property: any layout, file count and split count is covered exactly once and balanced to a byte', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new Rng(seed);
      const files = Array.from({ length: 1 + rng.nextInt(4) }, (_, i) => hdfsFile(`/d/part-${i}`, rng.nextInt(8 * MiB), 1 + rng.nextInt(MiB), hosts.slice(0, 1 + rng.nextInt(3)), 1 + rng.nextInt(2), rng));
      const n = 1 + rng.nextInt(7);
      const splits = computeSplits(files, n);
      coverage(files, splits);
      const sizes = splits.map((s) => s.ranges.reduce((t, r) => t + r.end - r.start, 0));
      expect(sizes).toEqual(splits.map((s) => s.bytes));
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  test('with replication 1 the local pass still keeps most bytes local, and hosts YARN cannot use are not anchors', () => {
    const rng = new Rng(9);
    const files = [hdfsFile('/d/a', 30 * MiB, MiB, hosts, 1, rng)];
    const splits = computeSplits(files, 3);
    const local = splits.reduce((t, s) => t + localBytes(s, s.host!), 0);
    expect(local / (30 * MiB)).toBeGreaterThan(0.85);
    const only2 = computeSplits(files, 2, { schedulable: new Set(['node2.test']) });
    expect(only2.map((s) => s.host)).toEqual(['node2.test', 'node2.test']);
  });

  test('gaps in the block list are refused', () => {
    expect(() => computeSplits([{ path: '/x', length: 10, blocks: [{ offset: 0, length: 4, replicas: [] }] }], 1)).toThrow(/cover 4 of its 10 bytes/);
  });
});

describe('ranges, topology, schedule', () => {
  test('partition sizes differ by at most one; shards of the reference model are within 1.10', () => {
    const shards = partition(648_010, 3).map((r) => r.end - r.start);
    expect(Math.max(...shards) / Math.min(...shards)).toBeLessThanOrEqual(1.1);
    expect(partition(10, 4)).toEqual([{ start: 0, end: 3 }, { start: 3, end: 6 }, { start: 6, end: 8 }, { start: 8, end: 10 }]);
  });

  test('a ring chunk falls on the shards it overlaps; decay segments are clipped to a shard', () => {
    expect(piecesOf({ start: 2, end: 9 }, partition(10, 3))).toEqual([{ index: 0, range: { start: 2, end: 4 } }, { index: 1, range: { start: 4, end: 7 } }, { index: 2, range: { start: 7, end: 9 } }]);
    expect(segmentsWithin({ start: 5, end: 12 }, [{ start: 0, end: 8, decay: true }, { start: 8, end: 10, decay: false }, { start: 10, end: 20, decay: true }])).toEqual([
      { start: 0, end: 3, decay: true },
      { start: 3, end: 5, decay: false },
      { start: 5, end: 7, decay: true },
    ]);
    expect([0, 1, 2].map((r) => ownedChunk(r, 3))).toEqual([1, 2, 0]);
  });

  test('groups are consecutive workers in a ring; groups need servers', () => {
    const t = topology(4, 2, 2);
    expect(allGroups(t)).toEqual([[0, 1], [2, 3]]);
    expect([groupOf(t, 3), rightNeighbour(t, 3), leftNeighbour(t, 2)]).toEqual([1, 2, 3]);
    expect(() => topology(4, 2, 0)).toThrow(/more than one group needs servers/);
    expect(() => topology(4, 3, 1)).toThrow(/do not divide/);
  });

  test('every worker does the steps of the largest split; smaller ones wrap around, using records evenly', () => {
    expect(stepsPerEpoch([30_000, 33_000, 29_999], 64)).toBe(516);
    const rng = new Rng(1);
    const order = new WrappingOrder(10, (a) => rng.shuffle(a));
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 7; i++) for (const k of order.next(3)) counts[k]++;
    expect(counts.reduce((a, b) => a + b)).toBe(21);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  test('an order restored from its exported state (and its generator) draws what the original draws', () => {
    for (const drawn of [0, 4, 10, 23]) {
      const rng = new Rng(3);
      const order = new WrappingOrder(10, (a) => rng.shuffle(a));
      order.next(drawn);
      const saved = order.exportState();
      const words = rng.getState();
      const expected = order.next(17);
      const rng2 = new Rng(99);
      rng2.setState(words);
      const restored = new WrappingOrder(10, (a) => rng2.shuffle(a), saved);
      expect(restored.next(17)).toEqual(expected);
      expect(saved.position).toBe(drawn === 0 ? 10 : ((drawn - 1) % 10) + 1);
    }
    const fresh = new WrappingOrder(3, () => undefined).exportState();
    expect(() => new WrappingOrder(4, () => undefined, fresh)).toThrow(/cannot restore order\.order: expected a permutation of 4 records, found 3 entries/);
    expect(() => new WrappingOrder(3, () => undefined, { order: Int32Array.from([0, 1, 5]), position: 1 })).toThrow(/order\.order\[2\]: expected a permutation of 0\.\.2, found record 5/);
    expect(() => new WrappingOrder(3, () => undefined, { order: Int32Array.from([0, 1, 2]), position: 4 })).toThrow(/order\.position: expected an integer from 0 to 3, found 4/);
  });
});
