// A worker container: says hello to its coordinator, reads the split it is assigned (node-locally
// where it can), joins its group's ring and the parameter servers, trains, evaluates its share of
// the test set with the final weights, and — worker 0 — writes the model once, atomically.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { HornError } from '../common/errors';
import { partition, type Range } from '../cluster/ranges';
import { epochOfClock } from '../cluster/schedule';
import { groupOf, leftNeighbour, rankInGroup, rightNeighbour, topology, type Topology } from '../cluster/topology';
import { datasetOfFile, newStats, readBatches } from '../data';
import { crc32, createModel, describeKernels, saveModel, serializeModel, type Batch, type Evaluation, type Model } from '../engine';
import { Rng, RngStream } from '../engine/rng';
import type { WebHdfsClient } from '../hadoop/webhdfs/client';
import type { StagedJob } from '../protocol';
import type { AssignMessage, StartMessage } from '../protocol/messages';
import { trainDistributed, type DistributedSummary, type DistributedWorkerState } from '../training/distributed';
import { decodeState, encodeState } from '../training/state';
import { splitHoldout } from '../training/holdout';
import { warmStart } from '../training/warm-start';
import { concatBatches } from '../training/run';
import { modelSpecFromJob } from '../training/job-spec';
import { WireServer, type WireConnection } from '../wire/channel';
import type { TensorCodec } from '../wire/tensors';
import { hello, readCheckpointFile, wireCodec, readStorageFile, runContainer, writeCheckpointFile, type ContainerContext } from './context';
import { AsyncQueue } from '../common/queue';
import { GroupExchange } from './exchange';
import { connectPeer, PeerLostError, WireRingLink } from './peers';
import { hdfsSplitSource, localSplitSource, readSplit } from './split-reader';

/** Test hook: `INDEX:FACTOR[:FROM[:UNTIL]]`, worker INDEX is FACTOR times slower than its compute (a straggler: it blocks for the difference) from clock FROM (default 0) until clock UNTIL (default: the end). */
export const SLOW_STEP_ENV = 'HORN_TEST_SLOW_STEP';
/** Test hook: `INDEX:MS`, worker INDEX sleeps MS after every step (a job made to outlive its tokens). */
export const STEP_DELAY_ENV = 'HORN_TEST_STEP_DELAY_MS';
/** Test hook: `INDEX:CLOCK`, worker INDEX fails when it reaches CLOCK (its first attempt only). */
export const FAIL_AT_ENV = 'HORN_TEST_FAIL_AT';
/** Test hook: `INDEX`, worker INDEX fails on every start, right after its hello. */
export const FAIL_START_ENV = 'HORN_TEST_FAIL_START';

/** The values of an `INDEX:VALUE[:VALUE…]` test hook for this worker, if it names it (else none). */
function hookValues(env: NodeJS.ProcessEnv, name: string, index: number): Array<number | undefined> {
  const [i, ...values] = (env[name] ?? '').split(':');
  return i !== undefined && i !== '' && Number(i) === index ? values.map(Number) : [];
}

/** The value of an `INDEX:VALUE` test hook for this worker, if it names it. */
const hookFor = (env: NodeJS.ProcessEnv, name: string, index: number): number | undefined => hookValues(env, name, index)[0];

export function runWorker(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runContainer('worker', (ctx) => work(ctx, env), env);
}

async function work(ctx: ContainerContext, env: NodeJS.ProcessEnv): Promise<void> {
  const { job } = ctx;
  const c = job.spec.cluster;
  const t = topology(c.workers, c.groups, c.parameterServers.count);
  const limits = { connectMs: c.timeouts.connectSeconds * 1000, silenceMs: c.timeouts.silenceSeconds * 1000 };
  const ring = t.groupSize > 1 ? await ringListener(ctx, t) : undefined;
  await ctx.control.send(hello(ctx, ring?.port ?? 0));
  ctx.log(`group ${groupOf(t, ctx.index)} rank ${rankInGroup(t, ctx.index)}; node ${process.version} at ${process.execPath}`);

  const assign = await ctx.control.next('assign');
  if (env[FAIL_START_ENV] !== undefined && Number(env[FAIL_START_ENV]) === ctx.index) throw new HornError(`test hook ${FAIL_START_ENV}: worker ${ctx.index} fails on every start`, 'internal');
  ctx.control.tell({ type: 'progress', phase: 'reading' });
  const readStarted = performance.now();
  const split = ctx.hdfs ? hdfsSplitSource(ctx.hdfs, ctx.host, job.namenodeRpcAddress, ctx.log) : localSplitSource();
  const stats = newStats();
  const data = await readSplit(split, job.train, assign.ranges, job.readOptions, stats);
  const readSeconds = (performance.now() - readStarted) / 1000;
  ctx.log(`read ${data.batch.count} records of ${assign.ranges.length} ranges in ${readSeconds.toFixed(1)} s: ${data.bytesLocal} bytes node-locally, ${data.bytesRemote} remotely`);
  if (data.batch.count === 0) throw new HornError(`worker ${ctx.index}'s split holds no records`, 'input');
  const testSet = await readTestShare(ctx, assign);
  const v = job.spec.training.validation;
  const inputs = job.spec.model.inputSize;
  const outputs = job.spec.model.layers[job.spec.model.layers.length - 1]!.size;
  const { train, validation: heldOut } = v.holdout > 0 ? splitHoldout(data.batch, v.holdout, job.spec.model.seed + ctx.index, inputs, outputs) : { train: data.batch, validation: undefined };
  const validation = v.everyEpochs > 0 ? (v.holdout > 0 ? heldOut : testSet) : undefined;
  // As many kernel threads as the container has vcores.
  const model = await createModel(modelSpecFromJob(job.spec.model, job.spec.training, process.cwd()), {
    metadata: { job: job.spec.name, normalize: job.spec.input.normalize, applicationId: job.applicationId },
    threads: c.worker.vcores,
  });
  if (job.initFrom) {
    warmStart(model, await readStorageFile(ctx, job.initFrom), job.initFrom);
    ctx.log(`starting from the parameters of ${job.initFrom}`);
  }
  const kernels = describeKernels(model.kernels);
  ctx.log(`kernels: ${kernels}`);
  await ctx.control.send({ type: 'ready', records: data.batch.count, bytesLocal: data.bytesLocal, bytesRemote: data.bytesRemote, readSeconds, kernels });

  const first = await ctx.control.nextWithBody('start');
  // Different dropout masks on every worker; the same initial weights everywhere (the model's seed).
  model.setRandomState(new Rng((job.spec.model.seed + 7919 * (ctx.index + 1)) >>> 0, RngStream.dropout).getState());
  // A worker that replaces a lost one joins at its group's clock, without servers with a member's whole state.
  if (first.body) model.importState(decodeState(first.body, 'the coordinator').model!);
  let start = first.message;
  let restored = start.restore !== undefined ? await restoreFrom(ctx, t, model, start.restore) : undefined;
  const codec = wireCodec(ctx);
  let exchange = await joinGroup(ctx, t, model, start, ring, limits, codec);
  const [slowFactor, slowFrom, slowUntil] = hookValues(env, SLOW_STEP_ENV, ctx.index);
  const slow = slowFactor !== undefined ? { factor: slowFactor, fromClock: slowFrom ?? 0, untilClock: slowUntil } : undefined;
  const stepDelayMs = hookFor(env, STEP_DELAY_ENV, ctx.index);
  const failAt = hookFor(env, FAIL_AT_ENV, ctx.index);
  let lastState: (() => DistributedWorkerState) | undefined;
  let resume: DistributedWorkerState | undefined = restored;
  let startClock = start.clock ?? 0;
  const total = job.spec.training.epochs * start.stepsPerEpoch;
  const interval = job.checkpointRoot ? start.stepsPerEpoch * job.spec.training.checkpoint.everyEpochs : 0;
  let pausedBy: string | undefined;
  ctx.control.on('pause', (m) => {
    pausedBy = m.reason;
    ctx.log(`pausing: ${m.reason}`);
    exchange.close();
  });
  // Without servers a replacement takes a surviving member's state (all members hold the same).
  ctx.control.on('state-request', (_m, f) => void ctx.control.reply(f, { type: 'state', clock: lastState?.().clock ?? startClock }, encodeState({ model: model.exportState() })));
  // Batches the group shares out by speed (rebalance), from the clock the coordinator names.
  const rank = rankInGroup(t, ctx.index);
  let balance: { fromClock: number; sizes: number[] } | undefined;
  let pendingBalance: { fromClock: number; sizes: number[] } | undefined;
  ctx.control.on('rebalance', (m) => {
    pendingBalance = { fromClock: m.fromClock, sizes: m.sizes };
    ctx.log(`group batches from clock ${m.fromClock}: ${m.sizes.join(', ')} (this worker ${m.sizes[rank]})`);
  });
  const batchAt = (clock: number): { size: number; weight?: number } => {
    if (pendingBalance && clock >= pendingBalance.fromClock) {
      balance = pendingBalance;
      pendingBalance = undefined;
    }
    if (!balance) return { size: job.spec.training.batchSize };
    return { size: balance.sizes[rank]!, weight: balance.sizes[rank]! / balance.sizes.reduce((a, b) => a + b, 0) };
  };
  const totals = { samples: 0, seconds: 0, compute: 0, communication: 0, waiting: 0, bytes: 0 };
  let summary: DistributedSummary;
  ctx.control.tell({ type: 'progress', phase: 'training', clock: startClock });
  if (job.initFrom && validation && validation.count > 0 && startClock === 0 && !resume) {
    // A warm start's curve begins where the model it starts from is: epoch 0, before any step.
    const t0 = performance.now();
    const r = model.evaluateBatch(validation);
    ctx.control.tell({ type: 'epoch', epoch: 0, loss: r.loss, accuracy: r.accuracy, samples: 0, seconds: 0, validationCount: r.count, validationLoss: r.loss, validationAccuracy: r.accuracy, validationSeconds: (performance.now() - t0) / 1000 });
  }
  for (;;) {
    const ex = exchange;
    try {
      summary = await trainDistributed({
        model,
        data: train,
        batchSize: job.spec.training.batchSize,
        epochs: job.spec.training.epochs,
        stepsPerEpoch: start.stepsPerEpoch,
        seed: (job.spec.model.seed + 104729 * (ctx.index + 1) + 31 * ctx.attempt) >>> 0,
        exchange: ex,
        resume,
        startClock,
        slow,
        stepDelayMs,
        batchAt,
        afterStep: (clock, state) => {
          lastState = state;
          const next = clock + 1;
          if (interval > 0 && next % interval === 0 && next < total) {
            // Every member keeps its own data position; without servers worker 0 also the whole model.
            const bytes = encodeState({ worker: state(), ...(t.servers === 0 && ctx.index === 0 ? { model: model.exportState() } : {}), tags: { role: 'worker', index: ctx.index, clock: next } });
            void writeCheckpointFile(ctx, next, bytes).catch((err: unknown) => ctx.log(`could not write the checkpoint at clock ${next}: ${(err as Error).message}`));
          }
        },
        beforeStep: async (clock) => {
          if (clock === failAt && ctx.attempt === 0) throw new HornError(`test hook ${FAIL_AT_ENV}: worker ${ctx.index} fails at clock ${clock}`, 'internal');
        },
        onProgress: (p) => ctx.control.tell({ type: 'progress', phase: 'training', clock: p.clock, epoch: p.epoch, loss: p.loss, accuracy: p.accuracy, samplesPerSecond: p.samplesPerSecond, learningRate: p.learningRate, fraction: p.clock / p.clocks, shares: p.shares, staleness: ex.staleness, pace: p.pace }),
        onEpochEnd: async (e) => {
          let measured = {};
          if (validation && validation.count > 0 && (e.epoch % v.everyEpochs === 0 || e.epoch === job.spec.training.epochs)) {
            const t0 = performance.now();
            const r = model.evaluateBatch(validation);
            measured = { validationCount: r.count, validationLoss: r.loss, validationAccuracy: r.accuracy, validationSeconds: (performance.now() - t0) / 1000 };
          }
          ctx.control.tell({ type: 'epoch', epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, samples: e.samples, seconds: e.seconds, ...(e.stepMs !== undefined ? { stepMs: e.stepMs } : {}), ...measured });
        },
      });
      addSession(totals, summary, ex, ring?.link);
      break;
    } catch (err) {
      // A lost group member (or a pause from the coordinator) is recoverable: wait for the group to be rebuilt.
      if (!(err instanceof PeerLostError) && pausedBy === undefined) throw err;
      ex.close();
      const next = lastState?.().clock ?? startClock;
      ctx.log(`stopped at clock ${next}: ${pausedBy ?? (err as Error).message}; waiting for the group to be rebuilt`);
      await ctx.control.send({ type: 'paused', clock: next });
      const again = await ctx.control.nextWithBody('start');
      pausedBy = undefined;
      balance = pendingBalance = undefined; // a rebuilt group starts even
      if (again.body) model.importState(decodeState(again.body, 'the coordinator').model!);
      start = again.message;
      startClock = start.clock ?? next;
      restored = start.restore !== undefined ? await restoreFrom(ctx, t, model, start.restore) : undefined;
      resume = restored ?? (lastState ? { ...lastState(), clock: startClock } : undefined);
      exchange = await joinGroup(ctx, t, model, start, ring, limits, codec);
      ctx.log(`rejoined at clock ${startClock}`);
    }
  }
  const steps = summary.clocks - (first.message.clock ?? 0);
  await ctx.control.send({
    type: 'trained',
    clock: summary.clocks,
    samples: totals.samples,
    seconds: totals.seconds,
    samplesPerSecond: totals.samples / Math.max(1e-9, totals.seconds),
    loss: summary.loss,
    accuracy: summary.accuracy,
    shares: { compute: totals.compute / Math.max(1e-9, totals.seconds), communication: totals.communication / Math.max(1e-9, totals.seconds), waiting: totals.waiting / Math.max(1e-9, totals.seconds) },
    staleness: exchange.staleness,
    wireBytesPerStep: totals.bytes / Math.max(1, steps),
  });
  ctx.log(`trained ${summary.clocks} steps in ${totals.seconds.toFixed(1)} s (${Math.round(totals.samples / Math.max(1e-9, totals.seconds))} samples/s; compute ${((100 * totals.compute) / Math.max(1e-9, totals.seconds)).toFixed(0)}%, communication ${((100 * totals.communication) / Math.max(1e-9, totals.seconds)).toFixed(0)}%, waiting ${((100 * totals.waiting) / Math.max(1e-9, totals.seconds)).toFixed(0)}%)`);

  await ctx.control.next('evaluate');
  await exchange.finalize(model.parameters());
  ctx.control.tell({ type: 'progress', phase: 'evaluating' });
  const evaluation = testSet ? model.evaluateBatch(testSet) : emptyEvaluation(model);
  const params = model.parameters();
  const checksum = crc32(new Uint8Array(params.buffer, params.byteOffset, params.byteLength)).toString(16).padStart(8, '0');
  await ctx.control.send({ type: 'evaluation', count: evaluation.count, lossSum: evaluation.loss * evaluation.count, confusion: evaluation.confusion, checksum });
  if (ctx.index === 0) {
    const save = await ctx.control.next('save');
    ctx.control.tell({ type: 'progress', phase: 'saving' });
    model.metadata = { ...model.metadata, testAccuracy: save.testAccuracy, workers: t.workers, groups: t.groups, servers: t.servers, consistency: job.spec.training.consistency };
    const path = await writeModel(ctx.hdfs, job, model);
    ctx.log(`model written to ${path}`);
    await ctx.control.send({ type: 'saved', model: path });
  }
  await ctx.control.next('finish');
}

/** This worker's loop state (and, without servers, the model) from the checkpoint at `clock`; undefined at clock 0 (start over). */
async function restoreFrom(ctx: ContainerContext, t: Topology, model: Model, clock: number): Promise<DistributedWorkerState | undefined> {
  if (clock === 0) return undefined;
  const own = decodeState(await readCheckpointFile(ctx, clock), `worker ${ctx.index}'s checkpoint at clock ${clock}`);
  if (t.servers === 0) {
    const whole = ctx.index === 0 ? own : decodeState(await readCheckpointFile(ctx, clock, 'worker', 0), `worker 0's checkpoint at clock ${clock}`);
    model.importState(whole.model!);
  }
  ctx.log(`restored from the checkpoint at clock ${clock}`);
  return own.worker;
}

/** Adds one training session (between recoveries) to the worker's totals. */
function addSession(totals: { samples: number; seconds: number; compute: number; communication: number; waiting: number; bytes: number }, s: DistributedSummary, ex: GroupExchange, link: WireRingLink | undefined): void {
  totals.samples += s.samples;
  totals.seconds += s.seconds;
  totals.compute += s.shares.compute * s.seconds;
  totals.communication += s.shares.communication * s.seconds;
  totals.waiting += s.shares.waiting * s.seconds;
  totals.bytes += ex.bytesSent + (link?.bytesSent ?? 0);
}

interface RingEnd {
  readonly server: WireServer;
  readonly port: number;
  /** Connections the left neighbour opens to us: one per (re)building of the group. */
  readonly lefts: AsyncQueue<WireConnection>;
  readonly leftName: string;
  link?: WireRingLink;
}

/** The data-plane listener a ring member opens before its hello, for its left neighbour. */
async function ringListener(ctx: ContainerContext, t: Topology): Promise<RingEnd> {
  const expected = String(leftNeighbour(t, ctx.index));
  const lefts = new AsyncQueue<WireConnection>();
  const server = new WireServer(ctx.secret, (conn) => {
    if (conn.peer.role === 'worker' && conn.peer.id === expected) lefts.push(conn);
    else conn.close(new Error(`unexpected peer ${conn.peer.role} ${conn.peer.id}`));
  });
  const port = (await server.listen('0.0.0.0')).port;
  return { server, port, lefts, leftName: `worker ${expected}` };
}

/** The left neighbour's newest live connection, waiting at most `ms`. */
async function nextLeft(ring: RingEnd, ms: number): Promise<WireConnection> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = await Promise.race([
      ring.lefts.take(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new HornError(`${ring.leftName} (the left neighbour) did not connect within ${ms / 1000} s`, 'timeout')), Math.max(0, deadline - Date.now())).unref()),
    ]);
    if (!left.isClosed) return left;
  }
}

async function joinGroup(ctx: ContainerContext, t: Topology, model: Model, start: StartMessage, ring: RingEnd | undefined, limits: { silenceMs: number; connectMs: number }, codec: TensorCodec): Promise<GroupExchange> {
  const self = { role: 'worker', id: String(ctx.index) };
  const rank = rankInGroup(t, ctx.index);
  if (ring) {
    const right = rightNeighbour(t, ctx.index);
    const rightConn = await connectPeer(start.workers[right]!, ctx.secret, self);
    ring.link = new WireRingLink(rightConn, `worker ${right}`, await nextLeft(ring, limits.connectMs), ring.leftName);
  }
  let servers: { shards: Range[]; connections: WireConnection[] } | undefined;
  if (t.servers > 0) {
    servers = { shards: partition(model.parameterCount, t.servers), connections: await Promise.all(start.servers.map((a) => connectPeer(a, ctx.secret, self))) };
  }
  // No servers: every member applies the optimizer itself, its learning rate following the clock.
  const applyLocally = (clock: number): void => {
    model.optimizer.epoch = epochOfClock(clock, start.stepsPerEpoch);
    model.applyGradients();
  };
  return new GroupExchange({ group: groupOf(t, ctx.index), rank, groupSize: t.groupSize, parameterCount: model.parameterCount, codec, ring: ring?.link, servers, applyLocally: servers ? undefined : applyLocally, requestTimeoutMs: limits.silenceMs, kernels: model.kernels });
}

/** This worker's share of the test set, in memory (validation and the final evaluation use it). */
async function readTestShare(ctx: ContainerContext, assign: AssignMessage): Promise<Batch | undefined> {
  const test = ctx.job.test;
  if (!test || assign.testRanges.length === 0) return undefined;
  return concatBatches(
    (async function* () {
      for (const r of assign.testRanges) yield* readBatches(ctx.source, datasetOfFile(test, r.path), 8192, { ...ctx.job.readOptions, range: { start: r.start, end: r.end } });
    })(),
  );
}

function emptyEvaluation(model: Model): Evaluation {
  const classes = model.outputSize === 1 ? 2 : model.outputSize;
  return { count: 0, loss: 0, accuracy: 0, confusion: Array.from({ length: classes }, () => new Array<number>(classes).fill(0)) };
}

/** Writes the model atomically; the overwrite policy decides what happens when the path exists. */
export async function writeModel(hdfs: WebHdfsClient | undefined, job: StagedJob, model: Model): Promise<string> {
  const policy = job.spec.output.overwrite;
  const exists = async (p: string) => (hdfs ? (await hdfs.stat(p)) !== undefined : existsSync(p));
  let target = job.outputModel;
  if (await exists(target)) {
    if (policy === 'fail') throw new HornError(`the model path ${target} exists and output.overwrite is fail`, 'input', { path: target });
    if (policy === 'version') {
      let v = 2;
      while (await exists(`${job.outputModel}.v${v}`)) v++;
      target = `${job.outputModel}.v${v}`;
    }
  }
  if (!hdfs) {
    mkdirSync(dirname(target), { recursive: true });
    await saveModel(model, target);
    return target;
  }
  await hdfs.mkdirs(target.slice(0, target.lastIndexOf('/')) || '/');
  if (!(await hdfs.createAtomically(target, Buffer.from(serializeModel(model)), { replace: policy === 'overwrite' }))) {
    throw new HornError(`could not move the model into place at ${target}`, 'cluster', { path: target });
  }
  return target;
}
