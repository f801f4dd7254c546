// The distributed worker loop resumes exactly: workers of an all-reduce group (the real
// GroupExchange over an in-process ring, each member updating its chunk with its own ShardState)
// stopped at a clock, their loop and shard states encoded and decoded, and restarted in fresh
// objects end with the parameters of the run that never stopped, bit for bit.
import { ownedChunk, partition } from '../../../src/cluster/ranges';
import { stepsPerEpoch } from '../../../src/cluster/schedule';
import { GroupExchange } from '../../../src/container/exchange';
import { loadKernels } from '../../../src/engine/kernels';
import type { Kernels } from '../../../src/engine/kernels/types';
import { Model, type Batch } from '../../../src/engine/model';
import { Rng, RngStream } from '../../../src/engine/rng';
import type { ModelSpec } from '../../../src/engine/spec';
import { trainDistributed, type DistributedWorkerState } from '../../../src/training/distributed';
import { decaySegments, parametersFromShards, ShardState, type ShardSnapshot } from '../../../src/training/shard';
import { decodeState, encodeState } from '../../../src/training/state';
import { fp32 } from '../../../src/wire/tensors';
import { fakeRing } from '../cluster/fake-ring';
import { kernels as reference, toyClassification } from '../engine/helpers';

const BATCH = 16;
const EPOCHS = 4;
const SEED = 5;

/** Each member's split: different sizes, so the smaller ones wrap around. */
function splits(sizes: number[]): Batch[] {
  const all = toyClassification(sizes.reduce((a, b) => a + b, 0), 8, 4, 17);
  let at = 0;
  return sizes.map((n) => {
    const b = { x: all.x.slice(at * 8, (at + n) * 8), y: all.y.slice(at * 4, (at + n) * 4), count: n };
    at += n;
    return b;
  });
}

interface Member {
  readonly model: Model;
  readonly shard: ShardState;
  readonly exchange: GroupExchange;
}

interface Saved {
  readonly worker: DistributedWorkerState;
  readonly shard: ShardSnapshot;
}

/** A group as src/container/worker.ts builds one without servers; from saved states when given. */
function group(spec: ModelSpec, k: Kernels, m: number, K: number, saved?: readonly Saved[]): Member[] {
  const links = m > 1 ? fakeRing(m) : [];
  return Array.from({ length: m }, (_, r) => {
    const model = new Model(spec, k);
    model.setRandomState(new Rng((SEED + 7919 * (r + 1)) >>> 0, RngStream.dropout).getState());
    const n = model.parameterCount;
    // Restarted: the group's weights from its members' chunks.
    if (saved) model.setParameters(parametersFromShards(saved.map((s) => s.shard), n));
    const owned = partition(n, m)[ownedChunk(r, m)]!;
    const shard = new ShardState(owned, decaySegments(model), model.optimizer.spec, k, model.parameters().slice(owned.start, owned.end), K);
    if (saved) shard.importState(saved[r]!.shard);
    const exchange = new GroupExchange({ group: 0, rank: r, groupSize: m, parameterCount: n, codec: fp32, ring: links[r], local: shard, requestTimeoutMs: 10_000, kernels: k });
    return { model, shard, exchange };
  });
}

class Stop extends Error {}

/**
 * Trains the group; with `stopAfter`, every member saves its loop and shard state after that
 * clock (through the binary encoding, as a checkpoint shard) and stops.
 */
async function train(members: Member[], data: Batch[], K: number, options: { resume?: readonly Saved[]; stopAfter?: number } = {}): Promise<Saved[]> {
  const saved: Saved[] = [];
  const results = await Promise.allSettled(
    members.map((member, r) =>
      trainDistributed({
        model: member.model, data: data[r]!, batchSize: BATCH, epochs: EPOCHS, stepsPerEpoch: K,
        seed: (SEED + 104729 * (r + 1)) >>> 0, exchange: member.exchange, resume: options.resume?.[r]?.worker,
        afterStep: (clock, state) => {
          if (clock !== options.stopAfter) return;
          const bytes = encodeState({ worker: state(), shard: member.shard.exportState(), tags: { role: 'worker', index: r, clock: clock + 1 } });
          const decoded = decodeState(bytes, `member-${r}.state`);
          saved[r] = { worker: decoded.worker!, shard: decoded.shard! };
          throw new Stop();
        },
      }),
    ),
  );
  for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof Stop)) throw r.reason;
  if (options.stopAfter !== undefined) expect(results.every((r) => r.status === 'rejected')).toBe(true);
  return saved;
}

const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function straightAndResumed(spec: ModelSpec, k: Kernels, sizes: number[], stopAfter: number): Promise<{ straight: Float32Array; resumed: Float32Array; saved: Saved[] }> {
  const data = splits(sizes);
  const K = stepsPerEpoch(sizes, BATCH);
  const m = sizes.length;
  const a = group(spec, k, m, K);
  await train(a, data, K);
  for (const member of a) expect(bits(member.model.parameters()).equals(bits(a[0]!.model.parameters()))).toBe(true);
  const saved = await train(group(spec, k, m, K), data, K, { stopAfter });
  const b = group(spec, k, m, K, saved);
  await train(b, data, K, { resume: saved });
  return { straight: a[0]!.model.parameters().slice(), resumed: b[0]!.model.parameters().slice(), saved };
}

const withDropout = (optimizer: ModelSpec['optimizer']): ModelSpec => ({
  inputSize: 8, inputDropout: 0.1, cost: 'crossEntropy', seed: SEED, optimizer,
  layers: [{ size: 24, activation: 'relu', dropout: 0.3 }, { size: 4, activation: 'softmax' }],
});

describe('distributed resume is bit-identical', () => {
  test('one worker, Adam with a step schedule, fastest kernels: stopped at an epoch boundary and mid-epoch', async () => {
    const k = await loadKernels();
    const spec = withDropout({ kind: 'adam', learningRate: 0.01, schedule: { kind: 'step', every: 1, factor: 0.5 } });
    const K = stepsPerEpoch([150], BATCH); // 10
    const boundary = await straightAndResumed(spec, k, [150], 2 * K - 1);
    expect(boundary.saved[0]!.worker).toMatchObject({ clock: 2 * K, samples: 0 });
    expect(bits(boundary.resumed).equals(bits(boundary.straight))).toBe(true);
    const mid = await straightAndResumed(spec, k, [150], 2 * K + 3);
    expect(mid.saved[0]!.worker).toMatchObject({ clock: 2 * K + 4, samples: 4 * BATCH });
    expect(mid.saved[0]!.shard.optimizer.stepCount).toBe(2 * K + 4);
    expect(bits(mid.resumed).equals(bits(mid.straight))).toBe(true);
  });

  test('a group of three over a ring (momentum, uneven splits that wrap around): each member restores its own chunk', async () => {
    const spec = withDropout({ kind: 'momentum', learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4 });
    const sizes = [130, 110, 97];
    const K = stepsPerEpoch(sizes, BATCH); // 9
    const r = await straightAndResumed(spec, reference, sizes, 2 * K + 4);
    expect(r.saved.map((s) => s.worker.clock)).toEqual([2 * K + 5, 2 * K + 5, 2 * K + 5]);
    expect(r.saved.map((s) => s.worker.order.position)).toEqual(r.saved.map((_, i) => ((2 * K + 5) * BATCH) % sizes[i]!));
    expect(bits(r.resumed).equals(bits(r.straight))).toBe(true);
  });

  test('the check can fail: a member restarted without its data position differs', async () => {
    const spec = withDropout({ kind: 'momentum', learningRate: 0.05 });
    const sizes = [150];
    const K = stepsPerEpoch(sizes, BATCH);
    const { straight, saved } = await straightAndResumed(spec, reference, sizes, 2 * K + 3);
    const data = splits(sizes);
    const wrongOrder: Saved[] = [{ ...saved[0]!, worker: { ...saved[0]!.worker, order: { order: saved[0]!.worker.order.order, position: 0 } } }];
    const b = group(spec, reference, 1, K, wrongOrder);
    await train(b, data, K, { resume: wrongOrder });
    expect(bits(b[0]!.model.parameters()).equals(bits(straight))).toBe(false);
  });

  test('afterStep sees every clock once; a state taken at an epoch end starts the next epoch afresh', async () => {
    const spec = withDropout({ kind: 'sgd', learningRate: 0.1 });
    const data = splits([40]);
    const K = stepsPerEpoch([40], BATCH); // 3
    const [member] = group(spec, reference, 1, K);
    const seen: Array<[number, number, number]> = [];
    await trainDistributed({
      model: member!.model, data: data[0]!, batchSize: BATCH, epochs: 2, stepsPerEpoch: K, seed: 1, exchange: member!.exchange,
      afterStep: (clock, state) => {
        const s = state();
        seen.push([clock, s.clock, s.samples]);
      },
    });
    expect(seen).toEqual([[0, 1, 16], [1, 2, 32], [2, 3, 0], [3, 4, 16], [4, 5, 32], [5, 6, 0]]);
  });
});

describe('a worker state that does not fit the run is refused', () => {
  const spec = withDropout({ kind: 'sgd', learningRate: 0.1 });
  const data = splits([40]);
  const K = stepsPerEpoch([40], BATCH);

  async function savedAfter(clock: number): Promise<DistributedWorkerState> {
    let state: DistributedWorkerState | undefined;
    const [member] = group(spec, reference, 1, K);
    await trainDistributed({ model: member!.model, data: data[0]!, batchSize: BATCH, epochs: 2, stepsPerEpoch: K, seed: 1, exchange: member!.exchange, afterStep: (c, s) => void (c === clock && (state = s())) });
    return state!;
  }

  test('other steps per epoch, batch size, records, a clock past the run, a broken permutation', async () => {
    const s = await savedAfter(1);
    const run = (resume: DistributedWorkerState, over: Partial<{ stepsPerEpoch: number; batchSize: number; data: Batch; epochs: number }> = {}) => {
      const [member] = group(spec, reference, 1, K);
      return trainDistributed({ model: member!.model, data: over.data ?? data[0]!, batchSize: over.batchSize ?? BATCH, epochs: over.epochs ?? 2, stepsPerEpoch: over.stepsPerEpoch ?? K, seed: 1, exchange: member!.exchange, resume });
    };
    await expect(run(s, { stepsPerEpoch: K + 1 })).rejects.toThrow(`cannot restore worker.stepsPerEpoch: expected the run's ${K + 1}, found ${K}`);
    await expect(run(s, { batchSize: 8 })).rejects.toThrow(/worker\.batchSize: expected the run's 8, found 16/);
    await expect(run(s, { data: splits([41])[0]! })).rejects.toThrow(/order\.order: expected a permutation of 41 records, found 40 entries/);
    await expect(run({ ...s, clock: 2 * K + 1 })).rejects.toThrow(/worker\.clock: expected a clock from 0 to 6/);
    const broken = s.order.order.slice();
    broken[0] = broken[1]!;
    await expect(run({ ...s, order: { order: broken, position: s.order.position } })).rejects.toThrow(/order\.order\[1\]: expected a permutation of 0\.\.39, found record \d+ a second time/);
    // Resumed at the very end: nothing left to train.
    const end = await savedAfter(2 * K - 1);
    expect((await run(end)).history).toEqual([]);
  });

  test('a shard snapshot of another range or optimizer', () => {
    const model = new Model(spec, reference);
    const a = new ShardState({ start: 0, end: 100 }, decaySegments(model), model.optimizer.spec, reference, model.parameters().slice(0, 100), K);
    const b = new ShardState({ start: 100, end: model.parameterCount }, decaySegments(model), { kind: 'adam', learningRate: 0.01 }, reference, model.parameters().slice(100), K);
    expect(() => b.importState(a.exportState())).toThrow(`cannot restore shard.range: expected [100, ${model.parameterCount}), found [0, 100)`);
    const c = new ShardState({ start: 0, end: 100 }, decaySegments(model), { kind: 'adam', learningRate: 0.01 }, reference, model.parameters().slice(0, 100), K);
    c.gradient.fill(0.5);
    c.apply(0);
    expect(() => a.importState(c.exportState())).toThrow(/shard\.optimizer\.kind: expected sgd \(this optimizer's kind\), found adam/);
    expect(() => parametersFromShards([b.exportState()], model.parameterCount)).toThrow(/expected a shard starting at parameter 0, found a gap up to 100/);
    expect(() => parametersFromShards([a.exportState(), a.exportState()], model.parameterCount)).toThrow(/overlapping/);
    expect(parametersFromShards([b.exportState(), a.exportState()], model.parameterCount)).toEqual(model.parameters());
  });
});
