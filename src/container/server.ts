// A parameter-server container: owns one shard (a range of the flat parameter vector) with its
// optimizer state, applies the groups' pushed gradients and answers with fresh weights, holding a
// read back only as long as the job's consistency rule requires (src/cluster/consistency.ts).
import { HornError } from '../common/errors';
import { GroupClocks } from '../cluster/consistency';
import { memberChunk, partition, piecesOf, type Range } from '../cluster/ranges';
import { topology } from '../cluster/topology';
import { createModel } from '../engine';
import { asHeader, readMessage, type GroupChangeMessage, type PullMessage, type PushMessage } from '../protocol/messages';
import { decaySegments, ShardState } from '../training/shard';
import { modelSpecFromJob } from '../training/job-spec';
import { warmStart } from '../training/warm-start';
import { WireServer, type WireConnection } from '../wire/channel';
import { BufferPool, type Frame } from '../wire/frames';
import { hello, readCheckpointFile, wireCodec, readStorageFile, runContainer, writeCheckpointFile, type ContainerContext } from './context';
import { decodeState, encodeState } from '../training/state';

const REPORT_EVERY_MS = 1_000;
/** A read held back longer than this is named in the server's reports (the stall inspector). */
const SLOW_READ_MS = 5_000;

interface HeldRead {
  readonly group: number;
  /** The clock the reader is about to start. */
  readonly t: number;
  readonly range: Range;
  readonly connection: WireConnection;
  readonly frame: Frame;
  readonly since: number;
  /** Final reads wait for every group's last clock. */
  readonly final: boolean;
}

export function runServer(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runContainer('server', serve, env);
}

async function serve(ctx: ContainerContext): Promise<void> {
  const { job } = ctx;
  const c = job.spec.cluster;
  const t = topology(c.workers, c.groups, c.parameterServers.count);
  const codec = wireCodec(ctx);
  const model = await createModel(modelSpecFromJob(job.spec.model, job.spec.training, process.cwd()));
  if (job.initFrom) warmStart(model, await readStorageFile(ctx, job.initFrom), job.initFrom);
  const shard = partition(model.parameterCount, t.servers)[ctx.index]!;
  const rule = job.spec.training.consistency === 'ssp' ? { mode: 'ssp' as const, staleness: job.spec.training.staleness ?? 0 } : { mode: job.spec.training.consistency };
  const clocks = new GroupClocks(t.groups, rule);
  // Which members of a group push a piece of this shard, and which piece.
  const chunks = partition(model.parameterCount, t.groupSize);
  const expected = new Map<number, Range>();
  for (let r = 0; r < t.groupSize; r++) {
    const piece = piecesOf(chunks[memberChunk(r, t.groupSize)]!, [shard])[0];
    if (piece) expected.set(r, piece.range);
  }
  let state: ShardState | undefined;
  let totalClocks = Infinity;
  let started!: () => void;
  const startedPromise = new Promise<void>((r) => (started = r));
  const stats = { bytesIn: 0, bytesOut: 0 };
  // Each group's pushed pieces gather in a buffer of its own until the group's update is whole.
  let pending: Array<{ clock: number; pieces: number; whole: boolean; gradient: Float32Array }> = [];
  /** Pushes of clocks already applied (replays after a recovery), answered without applying. */
  let replays = 0;
  const held: HeldRead[] = [];
  const replies = new BufferPool();

  const wire = new WireServer(ctx.secret, (conn) => {
    conn.on('message', (f: Frame) => {
      void startedPromise.then(() => {
        try {
          const m = readMessage(f, ['push', 'pull'], `${conn.peer.role} ${conn.peer.id}`);
          if (m.type === 'push') onPush(conn, f, m);
          else onPull(conn, f, m);
        } catch (err) {
          ctx.log(`refusing a message from ${conn.peer.role} ${conn.peer.id}: ${(err as Error).message}`);
          conn.close(err as Error);
        }
      });
    });
  });
  const address = await wire.listen('0.0.0.0');
  await ctx.control.send(hello(ctx, address.port));
  ctx.log(`shard [${shard.start}, ${shard.end}) of ${model.parameterCount} parameters; ${rule.mode}${rule.mode === 'ssp' ? ` s=${rule.staleness}` : ''}; listening on ${ctx.host}:${address.port}`);

  const start = await ctx.control.next('start');
  totalClocks = start.stepsPerEpoch * job.spec.training.epochs;
  const initial = model.parameters().slice(shard.start, shard.end);
  const fresh = () => new ShardState(shard, decaySegments(model), model.optimizer.spec, model.kernels, initial, start.stepsPerEpoch);
  state = fresh();
  pending = Array.from({ length: t.groups }, () => ({ clock: -1, pieces: 0, whole: false, gradient: new Float32Array(shard.end - shard.start) }));
  // Checkpoints at every multiple of this many clocks (0: none).
  const interval = job.checkpointRoot ? start.stepsPerEpoch * job.spec.training.checkpoint.everyEpochs : 0;
  let nextCheckpoint = interval > 0 ? interval : Infinity;
  /** Pushes of clocks at or after the next checkpoint, held until the shard has been snapshotted there. */
  let deferred: Array<{ conn: WireConnection; f: Frame; m: PushMessage }> = [];
  if (start.restore !== undefined) await restoreTo(start.restore);
  ctx.control.on('restore', (m, f) =>
    void restoreTo(m.clock).then(
      () => ctx.control.reply(f, { type: 'clocks', pushed: clocks.all }),
      (err: unknown) => ctx.log(`restore failed: ${(err as Error).message}`),
    ),
  );
  ctx.control.on('group-change', onGroupChange);
  ctx.control.on('clocks-request', (_m, f) => void ctx.control.reply(f, { type: 'clocks', pushed: clocks.all }));
  started();
  const reporter = setInterval(report, REPORT_EVERY_MS);
  try {
    await ctx.control.next('finish');
  } finally {
    clearInterval(reporter);
    report();
    await wire.close();
  }

  /** Rolls the shard back to the checkpoint at `clock` (0: the initial weights, nothing applied). */
  async function restoreTo(clock: number): Promise<void> {
    const next = clock > 0 ? await readCheckpointFile(ctx, clock) : undefined;
    state!.free();
    state = fresh();
    if (next) state.importState(decodeState(next, `the checkpoint at clock ${clock}`).shard!);
    for (let g = 0; g < t.groups; g++) clocks.reset(g, clock - 1);
    for (const p of pending) Object.assign(p, { clock: -1, pieces: 0, whole: false });
    held.length = 0;
    deferred = [];
    nextCheckpoint = interval > 0 ? clock + interval : Infinity;
    ctx.log(clock > 0 ? `restored the shard from the checkpoint at clock ${clock}` : 'restored the initial weights (no checkpoint yet)');
  }

  /** At a checkpoint clock: snapshot the shard (a copy), let the held pushes in, write the copy. */
  function maybeCheckpoint(): void {
    if (!clocks.checkpointReady(nextCheckpoint) || nextCheckpoint >= totalClocks) return;
    const clock = nextCheckpoint;
    const bytes = encodeState({ shard: state!.exportState(), tags: { role: 'server', index: ctx.index, clock } });
    nextCheckpoint += interval;
    const waiting = deferred;
    deferred = [];
    for (const d of waiting) onPush(d.conn, d.f, d.m);
    void writeCheckpointFile(ctx, clock, bytes).catch((err: unknown) => ctx.log(`could not write the checkpoint at clock ${clock}: ${(err as Error).message}`));
  }

  function onPush(conn: WireConnection, f: Frame, m: PushMessage): void {
    if (m.clock >= nextCheckpoint && !clocks.checkpointReady(nextCheckpoint)) {
      deferred.push({ conn, f, m });
      return;
    }
    const piece = expected.get(m.member);
    if (!piece || piece.start !== m.start || piece.end !== m.end) throw new HornError(`push of [${m.start}, ${m.end}) from group ${m.group} member ${m.member} does not match this shard's piece`, 'internal');
    if (m.group < 0 || m.group >= t.groups || m.clock > clocks.pushedBy(m.group) + 1) throw new HornError(`group ${m.group} pushed clock ${m.clock}; expected clock ${clocks.pushedBy(m.group) + 1}`, 'internal');
    const body = f.body ?? new Uint8Array(0);
    stats.bytesIn += body.byteLength;
    const p = pending[m.group]!;
    const read: HeldRead = { group: m.group, t: m.clock + 1, range: { start: m.start, end: m.end }, connection: conn, frame: f, since: performance.now(), final: false };
    // A push of a clock this shard already applied (or, under bsp, already holds whole) is a
    // replay after a group recovered: it is answered, never applied twice.
    if (m.clock <= clocks.pushedBy(m.group) || (p.clock === m.clock && p.whole)) {
      f.release?.();
      replays++;
      held.push(read);
      serveHeld();
      return;
    }
    if (p.clock !== m.clock) Object.assign(p, { clock: m.clock, pieces: 0, whole: false });
    codec.decodeInto(body, p.gradient.subarray(m.start - shard.start, m.end - shard.start));
    f.release?.();
    held.push(read);
    if (++p.pieces < expected.size) return;
    p.whole = true;
    const g = state!.gradient;
    if (rule.mode !== 'bsp') {
      g.set(p.gradient);
      state!.apply(m.clock);
      clocks.markPushed(m.group, m.clock);
      maybeCheckpoint();
    } else if (pending.every((q) => q.whole && q.clock === m.clock)) {
      // One update per clock: the groups' mean gradients averaged, summed in group order.
      g.fill(0);
      for (const q of pending) for (let i = 0; i < g.length; i++) g[i]! += q.gradient[i]!;
      for (let i = 0; i < g.length; i++) g[i]! /= t.groups;
      state!.apply(m.clock);
      for (let h = 0; h < t.groups; h++) clocks.markPushed(h, m.clock);
      maybeCheckpoint();
    }
    serveHeld();
  }

  /** A group leaves the rule while a member is replaced, or comes back at the clock it is given. */
  function onGroupChange(m: GroupChangeMessage): void {
    if (m.change === 'suspend') {
      clocks.suspend(m.group);
      // Its half-pushed update (some members' pieces) will be pushed again by the rebuilt group.
      const p = pending[m.group]!;
      if (!p.whole) Object.assign(p, { clock: -1, pieces: 0 });
      for (let i = held.length - 1; i >= 0; i--) if (held[i]!.group === m.group) held.splice(i, 1);
      ctx.log(`group ${m.group} suspended while a member is replaced (at clock ${clocks.pushedBy(m.group) + 1})`);
    } else {
      clocks.resume(m.group, m.clock ?? 0);
      ctx.log(`group ${m.group} back at clock ${m.clock}`);
    }
    serveHeld();
  }

  function onPull(conn: WireConnection, f: Frame, m: PullMessage): void {
    if (m.start < shard.start || m.end > shard.end || m.start >= m.end) throw new HornError(`pull of [${m.start}, ${m.end}) outside shard [${shard.start}, ${shard.end})`, 'internal');
    held.push({ group: m.group, t: m.kind === 'final' ? totalClocks : 0, range: { start: m.start, end: m.end }, connection: conn, frame: f, since: performance.now(), final: m.kind === 'final' });
    serveHeld();
  }

  function ready(r: HeldRead): boolean {
    if (r.final) return clocks.minPushed >= totalClocks - 1;
    if (clocks.isSuspended(r.group)) return false;
    // A group's own push must be applied (read-my-writes), then the rule decides.
    return clocks.pushedBy(r.group) >= r.t - 1 && clocks.canServe(r.t);
  }

  function serveHeld(): void {
    for (let i = 0; i < held.length; ) {
      const r = held[i]!;
      // The reader is gone (a worker lost before the coordinator suspended its group): replying
      // would throw here, inside another connection's push, and close that healthy connection.
      if (r.connection.isClosed) {
        held.splice(i, 1);
        continue;
      }
      if (!ready(r)) {
        i++;
        continue;
      }
      held.splice(i, 1);
      const values = state!.values.subarray(r.range.start - shard.start, r.range.end - shard.start);
      // A copy (fp32) or an encoding (fp16): the values change with the next update while the
      // reply may still be queued. fp32 copies come from a pool and go back once the kernel has them.
      const copy = codec.name === 'fp32' ? replies.take(values.byteLength) : undefined;
      if (copy) new Float32Array(copy.buffer, copy.byteOffset, values.length).set(values);
      const body = copy ?? codec.encode(values);
      stats.bytesOut += body.byteLength;
      void r.connection
        .reply(r.frame, asHeader({ type: 'weights', start: r.range.start, end: r.range.end, heldMs: performance.now() - r.since, staleness: r.final ? 0 : clocks.stalenessOf(r.t) }), body)
        .then(() => copy && replies.give(copy));
    }
  }

  function report(): void {
    const now = performance.now();
    const slow = held.filter((r) => now - r.since > SLOW_READ_MS);
    const waitingFor = slow.length
      ? slow
          .slice(0, 3)
          .map((r) => `group ${r.group} waits ${((now - r.since) / 1000).toFixed(0)} s at clock ${r.t} for ${r.final ? 'every group to finish' : `group${clocks.blocking(r.t).length > 1 ? 's' : ''} ${clocks.blocking(r.t).join(', ') || r.group}`}`)
          .join('; ')
      : undefined;
    ctx.control.tell({ type: 'server-progress', clock: clocks.minPushed + 1, updates: state?.updates ?? 0, bytesIn: stats.bytesIn, bytesOut: stats.bytesOut, shard, ...(waitingFor ? { waitingFor } : {}) });
  }
}
