// The distributed worker loop resumes exactly. Two shapes: one worker against in-process
// parameter servers (ShardStates, as src/container/server.ts holds them), and an all-reduce group
// (the real GroupExchange over an in-process ring, every member applying the optimizer to its
// model as src/container/worker.ts does). Stopped at a clock, their states encoded and decoded as
// checkpoint shards and restarted in fresh objects, they end with the parameters of the run that
// never stopped, bit for bit.
import { partition, ringPosition } from '../../../src/cluster/ranges';
import { epochOfClock, stepsPerEpoch } from '../../../src/cluster/schedule';
import { GroupExchange } from '../../../src/container/exchange';
import { loadKernels } from '../../../src/engine/kernels';
import type { Kernels } from '../../../src/engine/kernels/types';
import { Model, type Batch, type ModelState } from '../../../src/engine/model';
import { Rng, RngStream } from '../../../src/engine/rng';
import type { ModelSpec } from '../../../src/engine/spec';
import { trainDistributed, type DistributedWorkerState, type StepExchange } from '../../../src/training/distributed';
import { decaySegments, ShardState, type ShardSnapshot } from '../../../src/training/shard';
import { decodeState, encodeState, type StateRecord } from '../../../src/training/state';
import { fp32 } from '../../../src/wire/tensors';
import { fakeRing } from '../cluster/fake-ring';
import { kernels as reference, toyClassification } from '../engine/helpers';

const BATCH = 16;
const EPOCHS = 4;
const SEED = 5;

/** Each worker's split: different sizes, so the smaller ones wrap around. */
function splits(sizes: number[]): Batch[] {
  const all = toyClassification(sizes.reduce((a, b) => a + b, 0), 8, 4, 17);
  let at = 0;
  return sizes.map((n) => {
    const b = { x: all.x.slice(at * 8, (at + n) * 8), y: all.y.slice(at * 4, (at + n) * 4), count: n };
    at += n;
    return b;
  });
}

const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Through the binary encoding, as a checkpoint shard is written and read back. */
const checkpointed = (record: StateRecord, name: string): StateRecord => decodeState(encodeState(record), name);

function newWorkerModel(spec: ModelSpec, k: Kernels, index: number): Model {
  const model = new Model(spec, k);
  // Different dropout masks on every worker, as src/container/worker.ts sets them.
  model.setRandomState(new Rng((SEED + 7919 * (index + 1)) >>> 0, RngStream.dropout).getState());
  return model;
}

class Stop extends Error {}

/**
 * Runs the workers' loops; with `stopAfter`, each calls `save` after that clock and stops (the
 * test checks that every one stopped there).
 */
async function runLoops(models: Model[], exchanges: StepExchange[], data: Batch[], K: number, options: { resume?: readonly DistributedWorkerState[]; stopAfter?: number; save?: (index: number, state: DistributedWorkerState) => void }): Promise<void> {
  const results = await Promise.allSettled(
    models.map((model, r) =>
      trainDistributed({
        model, data: data[r]!, batchSize: BATCH, epochs: EPOCHS, stepsPerEpoch: K, seed: (SEED + 104729 * (r + 1)) >>> 0, exchange: exchanges[r]!,
        resume: options.resume?.[r],
        afterStep: (clock, state) => {
          if (clock !== options.stopAfter) return;
          options.save?.(r, state());
          throw new Stop();
        },
      }),
    ),
  );
  for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof Stop)) throw r.reason;
  if (options.stopAfter !== undefined) expect(results.every((r) => r.status === 'rejected')).toBe(true);
}

/** Parameter servers in-process: the exchange of one worker, pushing to ShardStates and reading them back. */
class InProcessServers implements StepExchange {
  readonly waitingMs = 0;
  readonly communicationMs = 0;

  constructor(readonly shards: ShardState[]) {}

  async initialize(params: Float32Array): Promise<void> {
    for (const s of this.shards) params.set(s.values, s.range.start);
  }

  async step(clock: number, grads: Float32Array, params: Float32Array): Promise<void> {
    for (const s of this.shards) {
      s.gradient.set(grads.subarray(s.range.start, s.range.end));
      s.apply(clock);
      params.set(s.values, s.range.start);
    }
  }

  async finalize(params: Float32Array): Promise<void> {
    await this.initialize(params);
  }
}

function servers(spec: ModelSpec, k: Kernels, count: number, K: number, saved?: readonly ShardSnapshot[]): ShardState[] {
  const model = new Model(spec, k);
  return partition(model.parameterCount, count).map((range, i) => {
    const shard = new ShardState(range, decaySegments(model), model.optimizer.spec, k, model.parameters().slice(range.start, range.end), K);
    if (saved) shard.importState(saved[i]!);
    return shard;
  });
}

/** One worker and `serverCount` servers: 4 epochs straight, and stopped after `stopAfter` then resumed. */
async function withServers(spec: ModelSpec, k: Kernels, records: number, serverCount: number, stopAfter: number) {
  const data = splits([records]);
  const K = stepsPerEpoch([records], BATCH);
  const straight = newWorkerModel(spec, k, 0);
  await runLoops([straight], [new InProcessServers(servers(spec, k, serverCount, K))], data, K, {});
  const first = newWorkerModel(spec, k, 0);
  const shards = servers(spec, k, serverCount, K);
  const saved: { worker?: DistributedWorkerState; shards?: ShardSnapshot[] } = {};
  await runLoops([first], [new InProcessServers(shards)], data, K, {
    stopAfter,
    save: (_r, state) => {
      saved.worker = checkpointed({ worker: state }, 'worker-0.state').worker!;
      saved.shards = shards.map((s, i) => checkpointed({ shard: s.exportState(), tags: { role: 'server', index: i } }, `server-${i}.state`).shard!);
    },
  });
  // The restarted worker's model starts from its own initial weights; initialize() reads the servers'.
  const resumed = newWorkerModel(spec, k, 0);
  await runLoops([resumed], [new InProcessServers(servers(spec, k, serverCount, K, saved.shards))], data, K, { resume: [saved.worker!] });
  return { straight: straight.parameters().slice(), resumed: resumed.parameters().slice(), saved: saved as Required<typeof saved> };
}

/** An all-reduce group as src/container/worker.ts builds one without servers. */
function allReduceGroup(models: Model[], k: Kernels, K: number): GroupExchange[] {
  const m = models.length;
  const links = m > 1 ? fakeRing(m) : [];
  return models.map((model, r) => {
    const applyLocally = (clock: number): void => {
      model.optimizer.epoch = epochOfClock(clock, K);
      model.applyGradients();
    };
    return new GroupExchange({ group: 0, rank: r, groupSize: m, parameterCount: model.parameterCount, codec: fp32, ring: links[ringPosition(r, m)], applyLocally, requestTimeoutMs: 10_000, kernels: k });
  });
}

async function allReduce(spec: ModelSpec, k: Kernels, sizes: number[], stopAfter: number) {
  const data = splits(sizes);
  const K = stepsPerEpoch(sizes, BATCH);
  const fresh = (): Model[] => sizes.map((_, r) => newWorkerModel(spec, k, r));
  const straight = fresh();
  await runLoops(straight, allReduceGroup(straight, k, K), data, K, {});
  for (const m of straight) expect(bits(m.parameters()).equals(bits(straight[0]!.parameters()))).toBe(true);
  const first = fresh();
  const workers: DistributedWorkerState[] = [];
  let model: ModelState | undefined;
  await runLoops(first, allReduceGroup(first, k, K), data, K, {
    stopAfter,
    save: (r, state) => {
      // Every member writes its loop state; one member (0) the model, which all members share.
      const record = checkpointed(r === 0 ? { worker: state, model: first[0]!.exportState() } : { worker: state }, `worker-${r}.state`);
      workers[r] = record.worker!;
      if (r === 0) model = record.model;
    },
  });
  const resumed = fresh();
  for (const m of resumed) m.importState(model!);
  await runLoops(resumed, allReduceGroup(resumed, k, K), data, K, { resume: workers });
  for (const m of resumed) expect(bits(m.parameters()).equals(bits(resumed[0]!.parameters()))).toBe(true);
  return { straight: straight[0]!.parameters().slice(), resumed: resumed[0]!.parameters().slice(), workers };
}

const withDropout = (optimizer: ModelSpec['optimizer']): ModelSpec => ({
  inputSize: 8, inputDropout: 0.1, cost: 'crossEntropy', seed: SEED, optimizer,
  layers: [{ size: 24, activation: 'relu', dropout: 0.3 }, { size: 4, activation: 'softmax' }],
});

describe('distributed resume is bit-identical', () => {
  test('a worker and two in-process servers (Adam with a step schedule, fastest kernels): stopped at an epoch boundary and mid-epoch', async () => {
    const k = await loadKernels();
    const spec = withDropout({ kind: 'adam', learningRate: 0.01, schedule: { kind: 'step', every: 1, factor: 0.5 } });
    const K = stepsPerEpoch([150], BATCH); // 10
    const boundary = await withServers(spec, k, 150, 2, 2 * K - 1);
    expect(boundary.saved.worker).toMatchObject({ clock: 2 * K, samples: 0 });
    expect(bits(boundary.resumed).equals(bits(boundary.straight))).toBe(true);
    const mid = await withServers(spec, k, 150, 2, 2 * K + 3);
    expect(mid.saved.worker).toMatchObject({ clock: 2 * K + 4, samples: 4 * BATCH });
    expect(mid.saved.shards.map((s) => [s.updates, s.optimizer.stepCount, s.optimizer.epoch])).toEqual([[2 * K + 4, 2 * K + 4, 2], [2 * K + 4, 2 * K + 4, 2]]);
    expect(bits(mid.resumed).equals(bits(mid.straight))).toBe(true);
  });

  test('an all-reduce group of three over a ring (momentum, uneven splits that wrap around): one model state, each member its own loop state', async () => {
    const spec = withDropout({ kind: 'momentum', learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4 });
    const sizes = [130, 110, 97];
    const K = stepsPerEpoch(sizes, BATCH); // 9
    const r = await allReduce(spec, reference, sizes, 2 * K + 4);
    expect(r.workers.map((w) => w.clock)).toEqual([2 * K + 5, 2 * K + 5, 2 * K + 5]);
    expect(r.workers.map((w) => w.order.position)).toEqual(sizes.map((n) => ((2 * K + 5) * BATCH) % n || n));
    expect(new Set(r.workers.map((w) => w.dropout.join())).size).toBe(3);
    expect(bits(r.resumed).equals(bits(r.straight))).toBe(true);
  });

  test('the check can fail: a worker restarted without its data position differs', async () => {
    const spec = withDropout({ kind: 'momentum', learningRate: 0.05 });
    const K = stepsPerEpoch([150], BATCH);
    const { straight, saved } = await withServers(spec, reference, 150, 1, 2 * K + 3);
    const data = splits([150]);
    const model = newWorkerModel(spec, reference, 0);
    const wrongOrder = { ...saved.worker, order: { order: saved.worker.order.order, position: 0 } };
    await runLoops([model], [new InProcessServers(servers(spec, reference, 1, K, saved.shards))], data, K, { resume: [wrongOrder] });
    expect(bits(model.parameters()).equals(bits(straight))).toBe(false);
  });

  test('afterStep sees every clock once; a state taken at an epoch end starts the next epoch afresh', async () => {
    const spec = withDropout({ kind: 'sgd', learningRate: 0.1 });
    const data = splits([40]);
    const K = stepsPerEpoch([40], BATCH); // 3
    const model = newWorkerModel(spec, reference, 0);
    const seen: Array<[number, number, number]> = [];
    await trainDistributed({
      model, data: data[0]!, batchSize: BATCH, epochs: 2, stepsPerEpoch: K, seed: 1, exchange: allReduceGroup([model], reference, K)[0]!,
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
    const model = newWorkerModel(spec, reference, 0);
    await trainDistributed({ model, data: data[0]!, batchSize: BATCH, epochs: 2, stepsPerEpoch: K, seed: 1, exchange: allReduceGroup([model], reference, K)[0]!, afterStep: (c, s) => void (c === clock && (state = s())) });
    return state!;
  }

  test('other steps per epoch, batch size, records, a clock past the run, a broken permutation', async () => {
    const s = await savedAfter(1);
    const run = (resume: DistributedWorkerState, over: Partial<{ stepsPerEpoch: number; batchSize: number; data: Batch; epochs: number }> = {}) => {
      const model = newWorkerModel(spec, reference, 0);
      return trainDistributed({ model, data: over.data ?? data[0]!, batchSize: over.batchSize ?? BATCH, epochs: over.epochs ?? 2, stepsPerEpoch: over.stepsPerEpoch ?? K, seed: 1, exchange: allReduceGroup([model], reference, K)[0]!, resume });
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
    expect(() => a.importState({ ...a.exportState(), values: new Float32Array(99) })).toThrow(/shard\.values: expected 100 values, found 99/);
    // A snapshot is a copy: the shard moves on, the snapshot does not.
    const before = c.exportState();
    c.apply(1);
    expect(c.exportState().values).not.toEqual(before.values);
    expect(before.updates).toBe(1);
  });
});
