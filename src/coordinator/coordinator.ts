// The control plane of a horn job, shared by the YARN ApplicationMaster and local mode: it knows
// every container slot (role, index), answers hellos with assignments, starts training when the
// whole gang is there, sequences evaluation and the model write, and turns every failure or
// overlong wait into a final outcome whose diagnostics name the role, index, container, host, exit
// status and stderr tail. It never sits in the per-step data path. Containers are started by a
// Launcher (YARN containers or local processes), which reports allocations and exits back.
import { describeError, HornError } from '../common/errors';
import { allGroups, groupOf, topology, type Topology } from '../cluster/topology';
import type { JobStatus } from './status';
import { describeFailure, type ContainerFailure } from './diagnostics';
import { CONTAINER_MESSAGES, asHeader, PROTOCOL_VERSION, readMessage, type AssignedRange, type CheckpointedMessage, type ContainerMessage, type CoordinatorMessage, type EpochMessage, type EvaluationMessage, type HelloMessage, type ReadyMessage, type TrainedMessage } from '../protocol/messages';
import { resultLine, type ContainerRole, type ContainerView, type JobResult, type Locality, type StagedJob, type StalenessStats } from '../protocol';
import { stepsPerEpoch } from '../cluster/schedule';
import { planBalance, type MemberPace } from '../cluster/balance';
import { WireServer, type WireConnection } from '../wire/channel';
import { jobHash, MANIFEST_VERSION, pruneCheckpoints, writeManifest, type CheckpointFile, type CheckpointManifest } from '../storage/checkpoints';
import type { StorageFiles } from '../storage/files';
import type { Frame } from '../wire/frames';

/** How the containers of a job are started; the coordinator is told what happens to them. */
export interface Launcher {
  /** Starts (or asks for) the container of this slot; a replacement avoids the hosts named. */
  launch(role: ContainerRole, index: number, attempt: number, avoid?: readonly string[]): void;
  /** Stops this slot's container if it still runs (one that went silent or lost its connection). */
  stop(role: ContainerRole, index: number): void;
  /** Keeps the job's containers off a host where they failed too often. */
  blacklist(host: string): void;
  /** Stops every container still running; resolves when they are gone or the launcher gave up. */
  stopAll(): Promise<void>;
}

/** What a launcher reports when a container ends. */
export interface ContainerExit {
  readonly exitStatus: number;
  /** YARN's (or the launcher's) diagnostics. */
  readonly diagnostics?: string;
  readonly stderrTail?: readonly string[];
}

export interface CoordinatorLimits {
  readonly allocationMs: number;
  readonly connectMs: number;
  readonly silenceMs: number;
  /** How long to wait for a container's exit status after it reported an error or went away. */
  readonly exitGraceMs: number;
  /** A global clock that has not moved for this long is named (who is waited for), not yet failed. */
  readonly stallReportMs: number;
}

/** Bounds on every wait of the coordinator, from the job's cluster.timeouts. */
export function limitsOf(job: StagedJob): CoordinatorLimits {
  const t = job.spec.cluster.timeouts;
  return { allocationMs: t.allocationSeconds * 1000, connectMs: t.connectSeconds * 1000, silenceMs: t.silenceSeconds * 1000, exitGraceMs: 5_000, stallReportMs: 10_000 };
}

export interface Outcome {
  readonly succeeded: boolean;
  readonly diagnostics: string;
  readonly result?: JobResult;
}

export interface WorkerPlan {
  readonly ranges: readonly AssignedRange[];
  readonly testRanges: readonly AssignedRange[];
}

interface Slot {
  readonly role: ContainerRole;
  readonly index: number;
  readonly view: ContainerView;
  attempt: number;
  launchedAt?: number;
  allocatedAt?: number;
  lastHeard: number;
  conn?: WireConnection;
  hello?: HelloMessage;
  ready?: ReadyMessage;
  trained?: TrainedMessage;
  evaluation?: EvaluationMessage;
  exited?: ContainerExit;
  error?: string;
  /** When it reported an error or lost its connection: the failure is decided by this time. */
  failingSince?: number;
  /** It failed because it lost this peer ("worker 2"): the peer's own failure, if it comes soon, names the cause. */
  lostPeer?: string;
  /** Its failure, held back while the lost peer's exit may still arrive. */
  heldFailure?: string;
  /** When the current attempt was asked for. */
  askedAt: number;
  /** A surviving member of a group being rebuilt: where it stopped. */
  paused?: number;
  /** Its own time per step and compute per sample lately (the straggler signal). */
  pace?: MemberPace;
}

/** A group rebuilding itself after losing members. */
interface Recovery {
  readonly since: number;
  /** Members being replaced. */
  readonly replacing: Set<number>;
}

type Stage = 'gathering' | 'training' | 'evaluating' | 'saving' | 'finishing' | 'done';

export class Coordinator {
  readonly topology: Topology;
  private readonly slots: Slot[];
  private readonly wire: WireServer;
  private stage: Stage = 'gathering';
  private stepsPerEpoch = 0;
  private startedAt = Date.now();
  private trainingStartedAt = 0;
  private trainingEndedAt = 0;
  private resolveOutcome!: (o: Outcome) => void;
  readonly outcome: Promise<Outcome>;
  private timer: NodeJS.Timeout | undefined;
  private lastClock = { clock: -1, at: Date.now(), reportedAt: 0 };
  private model: string | undefined;
  private test: { accuracy: number; loss: number; count: number } | undefined;
  private finishedAt = 0;
  private launcher: Launcher | undefined;
  /** Workers' epoch reports, until every worker has reported the epoch. */
  private readonly epochs = new Map<number, EpochMessage[]>();
  /** Every container failure of the run, in order (the recovered ones too), for the diagnostics. */
  private readonly failures: string[] = [];
  private readonly hostFailures = new Map<string, number>();
  private readonly recoveries = new Map<number, Recovery>();
  /**
   * Each group's batches while balanced (balance absent: every member the job's batchSize, after a
   * balance ended) and the clock the latest sizes apply from; no entry: even since the start.
   */
  private readonly balances = new Map<number, { readonly sizes?: readonly number[]; readonly fromClock: number }>();
  /** Groups that looked unbalanced once, at this clock: a balance starts only if they still do some steps later. */
  private readonly suspects = new Map<number, number>();
  /** Files reported for checkpoints not yet complete, by clock. */
  private readonly checkpointFiles = new Map<number, CheckpointFile[]>();
  /** The newest complete checkpoint's clock (0: none). */
  private lastCheckpoint = 0;
  /** A lost server being replaced: everyone rolls back to `clock`. */
  private rollback: { readonly clock: number; readonly since: number } | undefined;

  constructor(
    private readonly job: StagedJob,
    secret: Uint8Array,
    private readonly status: JobStatus,
    private readonly plans: readonly WorkerPlan[],
    private readonly limits: CoordinatorLimits,
    private readonly log: (message: string) => void,
    /** Where checkpoints are written; and, for a restarted ApplicationMaster, the checkpoint to resume from. */
    private readonly checkpoints?: { readonly storage: StorageFiles; readonly resumeFrom?: CheckpointManifest },
  ) {
    const c = job.spec.cluster;
    this.topology = topology(c.workers, c.groups, c.parameterServers.count);
    this.slots = status.doc.containers.map((view) => ({ role: view.role, index: view.index, view, attempt: 0, lastHeard: Date.now(), askedAt: Date.now() }));
    this.outcome = new Promise<Outcome>((r) => (this.resolveOutcome = r));
    this.wire = new WireServer(secret, (conn) => this.onConnection(conn), (reason) => this.log(`refused a connection: ${reason}`));
  }

  /** Listens for containers; returns the port (they get host:port in their environment). */
  async listen(host = '0.0.0.0'): Promise<number> {
    return (await this.wire.listen(host)).port;
  }

  /** Launches every container (the gang) and starts the watchdog. */
  start(launcher: Launcher): void {
    this.launcher = launcher;
    this.startedAt = Date.now();
    this.status.setPhase('allocating');
    for (const s of this.slots) {
      s.askedAt = Date.now();
      launcher.launch(s.role, s.index, s.attempt);
    }
    this.timer = setInterval(() => this.watch(), 1_000);
  }

  // ------------------------------------------------------------ launcher reports

  allocated(role: ContainerRole, index: number, attempt: number, info: { containerId: string; host: string; locality?: Locality }): void {
    const s = this.slot(role, index);
    if (attempt !== s.attempt) return;
    Object.assign(s.view, { containerId: info.containerId, host: info.host, state: 'allocated' as const, ...(info.locality ? { locality: info.locality } : {}) });
    s.allocatedAt = Date.now();
    this.status.setPhase('launching');
    this.log(`allocated ${role} ${index}: ${info.containerId} on ${info.host}${info.locality ? ` (${info.locality})` : ''}`);
  }

  launched(role: ContainerRole, index: number, attempt: number): void {
    const s = this.slot(role, index);
    if (attempt !== s.attempt) return;
    s.view.state = 'launched';
    s.launchedAt = Date.now();
  }

  /** The launcher could not start this slot's container. */
  launchFailed(role: ContainerRole, index: number, attempt: number, reason: string): void {
    const s = this.slot(role, index);
    if (attempt !== s.attempt) return;
    this.lose(s, `${role} ${index}${this.where(s)} could not be launched: ${reason}`);
  }

  exited(role: ContainerRole, index: number, attempt: number, exit: ContainerExit): void {
    const s = this.slot(role, index);
    if (attempt !== s.attempt) return; // a replaced container ending late
    s.exited = exit;
    if (this.stage === 'done') return;
    if (this.stage === 'finishing' && exit.exitStatus === 0) {
      s.view.state = 'finished';
      if (this.slots.every((x) => x.exited)) this.succeed();
      return;
    }
    s.view.state = 'failed';
    const failure: ContainerFailure = {
      role,
      index,
      containerId: s.view.containerId ?? '?',
      host: s.view.host ?? '?',
      exitStatus: exit.exitStatus,
      diagnostics: exit.diagnostics,
      stderrTail: exit.stderrTail,
      reason: s.error ?? (exit.exitStatus === 0 ? 'exited before the job ended' : undefined),
    };
    const peer = s.lostPeer ? this.slots.find((x) => `${x.role} ${x.index}` === s.lostPeer) : undefined;
    if (peer && !peer.exited) {
      // A consequence, not the cause: wait (exitGraceMs) for the lost peer's own exit.
      s.heldFailure = describeFailure(failure);
      s.failingSince ??= Date.now();
      peer.failingSince ??= Date.now();
      return;
    }
    this.lose(s, describeFailure(failure));
  }

  // ------------------------------------------------------------ containers

  private onConnection(conn: WireConnection): void {
    let slot: Slot | undefined;
    conn.on('message', (f: Frame) => {
      try {
        const m = readMessage(f, CONTAINER_MESSAGES, `${conn.peer.role} ${conn.peer.id}`);
        if (!slot) {
          if (m.type !== 'hello') throw new HornError(`${conn.peer.role} ${conn.peer.id} sent ${m.type} before hello`, 'internal');
          slot = this.onHello(conn, m);
          return;
        }
        // A replaced container's last words (its connection may outlive its exit) are not the new one's.
        if (slot.conn !== conn) return;
        slot.lastHeard = Date.now();
        this.onMessage(slot, m);
      } catch (err) {
        this.fail(`${conn.peer.role} ${conn.peer.id}: ${describeError(err)}`);
      }
    });
    conn.on('close', () => {
      if (!slot || slot.conn !== conn || this.stage === 'done' || slot.exited) return;
      if (this.stage === 'finishing') return;
      // Its exit status names the cause better; wait a little for it.
      slot.failingSince ??= Date.now();
      slot.error ??= 'lost its connection to the ApplicationMaster';
    });
  }

  private onHello(conn: WireConnection, m: HelloMessage): Slot {
    if (m.protocol !== PROTOCOL_VERSION) throw new HornError(`${m.role} ${m.index} speaks protocol ${m.protocol}, this coordinator ${PROTOCOL_VERSION}`, 'internal');
    const slot = this.slot(m.role, m.index);
    if (conn.peer.role !== m.role || conn.peer.id !== String(m.index)) throw new HornError(`a container authenticated as ${conn.peer.role} ${conn.peer.id} said hello as ${m.role} ${m.index}`, 'internal');
    if (slot.conn && !slot.exited) throw new HornError(`${m.role} ${m.index} said hello twice`, 'internal');
    slot.conn = conn;
    slot.hello = m;
    slot.lastHeard = Date.now();
    slot.view.state = 'connected';
    slot.view.host ??= m.host;
    if (m.role === 'server' && this.stage === 'training' && this.rollback) void this.continueRollback();
    if (m.role === 'worker') {
      const plan = this.plans[m.index]!;
      this.send(slot, { type: 'assign', group: groupOf(this.topology, m.index), rank: m.index % this.topology.groupSize, ranges: plan.ranges, testRanges: plan.testRanges });
    }
    this.maybeStart();
    return slot;
  }

  private onMessage(slot: Slot, m: ContainerMessage): void {
    switch (m.type) {
      case 'hello':
        throw new HornError(`${slot.role} ${slot.index} said hello twice`, 'internal');
      case 'ready':
        slot.ready = m;
        Object.assign(slot.view, { records: m.records, bytesLocal: m.bytesLocal, bytesRemote: m.bytesRemote, kernels: m.kernels });
        this.log(`worker ${slot.index} read ${m.records} records in ${m.readSeconds.toFixed(1)} s (${m.bytesLocal} bytes node-local, ${m.bytesRemote} remote); kernels ${m.kernels}`);
        if (this.stage === 'gathering') this.maybeStart();
        else void this.tryRejoin(groupOf(this.topology, slot.index));
        return;
      case 'paused':
        slot.paused = m.clock;
        this.log(`worker ${slot.index} paused at clock ${m.clock}`);
        void this.tryRejoin(groupOf(this.topology, slot.index));
        return;
      case 'checkpointed':
        void this.onCheckpointed(m);
        return;
      case 'state':
      case 'clocks':
        return; // replies to requests arrive through request()
      case 'progress':
        if (slot.role === 'worker') {
          slot.view.state = 'running';
          this.status.workerReport(slot.index, { phase: m.phase, clock: m.clock, epoch: m.epoch, loss: m.loss, accuracy: m.accuracy, samplesPerSecond: m.samplesPerSecond, shares: m.shares, learningRate: m.learningRate, fraction: m.fraction });
          slot.pace = m.pace; // absent while a new session warms up
          if (m.staleness) this.status.doc.groups[groupOf(this.topology, slot.index)]!.staleness = m.staleness;
          // A new pace is acted on at once, not at the next watch: a balance converges plan by plan.
          if (m.pace && this.stage === 'training') this.balance(groupOf(this.topology, slot.index));
        }
        return;
      case 'server-progress':
        slot.view.state = 'running';
        this.status.serverReport(slot.index, { clock: m.clock, updates: m.updates, bytesIn: m.bytesIn, bytesOut: m.bytesOut, shard: m.shard });
        if (m.waitingFor) this.status.doc.waitingFor = `server ${slot.index}: ${m.waitingFor}`;
        return;
      case 'epoch':
        this.onEpoch(m);
        return;
      case 'trained':
        slot.trained = m;
        this.status.workerReport(slot.index, { clock: m.clock, samplesPerSecond: m.samplesPerSecond, shares: m.shares, loss: m.loss, accuracy: m.accuracy, fraction: 1 });
        if (this.workers().every((w) => w.trained)) {
          this.trainingEndedAt = Date.now();
          this.stage = 'evaluating';
          this.status.setPhase('evaluating');
          this.log('every worker finished training; evaluating the final weights on the test set');
          for (const w of this.workers()) this.send(w, { type: 'evaluate' });
        }
        return;
      case 'evaluation':
        slot.evaluation = m;
        slot.view.checksum = m.checksum;
        if (this.workers().every((w) => w.evaluation)) this.onEvaluated();
        return;
      case 'saved':
        this.model = m.model;
        this.stage = 'finishing';
        this.finishedAt = Date.now();
        this.log(`model saved to ${m.model}; finishing`);
        for (const s of this.slots) if (s.conn) this.send(s, { type: 'finish' });
        return;
      case 'error':
        slot.error = m.message;
        slot.lostPeer = m.lostPeer;
        slot.failingSince ??= Date.now();
        this.log(`${slot.role} ${slot.index} reported: ${m.message}`);
        if (m.lostPeer) {
          // The lost peer is the likelier cause: give its own exit a moment to arrive first.
          const peer = this.slots.find((x) => `${x.role} ${x.index}` === m.lostPeer);
          if (peer && !peer.exited) peer.failingSince ??= Date.now();
        }
        return;
    }
  }

  /**
   * A container is lost. A worker during training is replaced, within cluster.maxRestarts, while
   * its group pauses and the other groups go on; anything else fails the job with every failure so far.
   */
  private lose(s: Slot, description: string): void {
    if (this.stage === 'done') return;
    this.failures.push(description.split('\n')[0]!);
    this.status.doc.failures = [...this.failures];
    const host = s.view.host;
    if (host) {
      const n = (this.hostFailures.get(host) ?? 0) + 1;
      this.hostFailures.set(host, n);
      if (n === this.job.spec.cluster.nodeFailuresBeforeBlacklist) {
        this.log(`blacklisting ${host}: ${n} containers of this job failed there`);
        this.launcher?.blacklist(host);
      }
    }
    const limit = this.job.spec.cluster.maxRestarts[s.role];
    const restarts = s.view.restarts ?? 0;
    if (this.stage !== 'training' && this.stage !== 'gathering') return this.fail(this.withEarlierFailures(description));
    if (restarts >= limit) return this.fail(this.withEarlierFailures(`${description}\n(${s.role} ${s.index} failed ${restarts + 1} times; cluster.maxRestarts.${s.role} is ${limit})`));
    const g = groupOf(this.topology, s.index);
    this.log(`${description.split('\n')[0]}; replacing ${s.role} ${s.index} (restart ${restarts + 1} of ${limit})${this.stage === 'training' && s.role === 'worker' ? `; group ${g} pauses${this.topology.groups > 1 && this.job.spec.training.consistency !== 'bsp' ? ', the other groups go on' : ''}` : ''}`);
    this.launcher?.stop(s.role, s.index);
    const old = { conn: s.conn, host };
    Object.assign(s, { attempt: s.attempt + 1, conn: undefined, hello: undefined, ready: undefined, trained: undefined, evaluation: undefined, exited: undefined, error: undefined, failingSince: undefined, lostPeer: undefined, heldFailure: undefined, allocatedAt: undefined, launchedAt: undefined, paused: undefined, askedAt: Date.now() });
    Object.assign(s.view, { attempt: s.attempt, restarts: restarts + 1, state: 'requested' as const, diagnostics: description.split('\n')[0] });
    old.conn?.close();
    if (this.stage === 'training' && s.role === 'server') this.startRollback(s);
    if (this.stage === 'training' && s.role === 'worker' && this.rollback) {
      // Lost while the job rolls back: its replacement restores with the others.
    } else if (this.stage === 'training' && s.role === 'worker') {
      const r = this.recoveries.get(g);
      if (r) r.replacing.add(s.index);
      else {
        this.recoveries.set(g, { since: Date.now(), replacing: new Set([s.index]) });
        for (const server of this.servers()) this.send(server, { type: 'group-change', group: g, change: 'suspend' });
        for (const w of this.groupMembers(g)) if (w !== s && w.conn) this.send(w, { type: 'pause', reason: `worker ${s.index} of group ${g} is being replaced` });
      }
    }
    this.launcher?.launch(s.role, s.index, s.attempt, old.host ? [old.host] : []);
  }

  /**
   * A lost server's shard is gone: every shard and every worker goes back to the newest complete
   * checkpoint (the updates since are lost and redone; without a checkpoint, back to the start).
   */
  private startRollback(server: Slot): void {
    const clock = this.lastCheckpoint;
    this.rollback = { clock, since: Date.now() };
    this.recoveries.clear();
    this.balances.clear();
    this.suspects.clear();
    for (const w of this.workers()) w.pace = undefined;
    this.log(`server ${server.index} is lost: rolling every shard and worker back to ${clock > 0 ? `the checkpoint at clock ${clock}` : 'the start (no checkpoint yet)'}`);
    for (const w of this.workers()) if (w.conn) this.send(w, { type: 'pause', reason: `server ${server.index} is being replaced; rolling back to clock ${clock}` });
    this.status.doc.rollbacks = [...(this.status.doc.rollbacks ?? []), { at: Date.now(), clock, reason: `server ${server.index} lost` }];
  }

  /** Once the replacement servers are up: the surviving servers restore, then the workers start again from the checkpoint. */
  private async continueRollback(): Promise<void> {
    const r = this.rollback;
    if (!r || !this.servers().every((sv) => sv.hello)) return;
    this.rollback = undefined;
    const address = (x: Slot) => ({ host: x.hello!.host, port: x.hello!.port });
    const start: CoordinatorMessage = { type: 'start', workers: this.workers().map((w) => (w.hello ? address(w) : { host: '', port: 0 })), servers: this.servers().map(address), stepsPerEpoch: this.stepsPerEpoch, clock: r.clock, restore: r.clock };
    try {
      await Promise.all(
        this.servers().map(async (sv) => {
          if (sv.attempt > 0 && sv.view.state !== 'running') return void this.send(sv, start); // a replacement restores as it starts
          await sv.conn!.request(asHeader({ type: 'restore', clock: r.clock }), undefined, 120_000);
        }),
      );
      await waitUntil(() => this.workers().every((w) => w.paused !== undefined || w.ready !== undefined), this.limits.connectMs + this.limits.allocationMs);
    } catch (err) {
      this.fail(this.withEarlierFailures(`could not roll back to clock ${r.clock}: ${describeError(err)}`));
      return;
    }
    for (const w of this.workers()) {
      w.paused = undefined;
      this.send(w, start);
    }
    this.log(`rolled back to clock ${r.clock} in ${((Date.now() - r.since) / 1000).toFixed(1)} s; training goes on`);
  }

  /** Collects the files of a checkpoint; when every container's is there, writes the manifest last. */
  private async onCheckpointed(m: CheckpointedMessage): Promise<void> {
    const files = [...(this.checkpointFiles.get(m.clock) ?? []).filter((f) => f.name !== m.name), { name: m.name, bytes: m.bytes, crc32: m.crc32 }];
    this.checkpointFiles.set(m.clock, files);
    if (files.length < this.slots.length || !this.checkpoints || !this.job.checkpointRoot) return;
    this.checkpointFiles.delete(m.clock);
    const manifest: CheckpointManifest = {
      version: MANIFEST_VERSION,
      applicationId: this.job.applicationId,
      clock: m.clock,
      epoch: this.stepsPerEpoch ? m.clock / this.stepsPerEpoch : 0,
      jobHash: jobHash(this.job.spec),
      createdAt: new Date().toISOString(),
      files: files.sort((a, b) => a.name.localeCompare(b.name)),
    };
    try {
      await writeManifest(this.checkpoints.storage, this.job.checkpointRoot, manifest);
      this.lastCheckpoint = Math.max(this.lastCheckpoint, m.clock);
      const removed = await pruneCheckpoints(this.checkpoints.storage, this.job.checkpointRoot, this.job.spec.training.checkpoint.keep, m.clock);
      this.status.doc.checkpoint = { clock: m.clock, epoch: manifest.epoch, at: Date.now(), files: files.length, bytes: files.reduce((t, f) => t + f.bytes, 0) };
      this.log(`checkpoint at clock ${m.clock} (epoch ${manifest.epoch}) complete: ${files.length} files, ${files.reduce((t, f) => t + f.bytes, 0)} bytes${removed.length ? `; removed the ones at clock ${removed.join(', ')}` : ''}`);
    } catch (err) {
      this.log(`could not write the manifest of the checkpoint at clock ${m.clock}: ${describeError(err)}`);
    }
  }

  /** Rebuilds a group once its survivors have paused and its replacements have read their splits. */
  private async tryRejoin(g: number): Promise<void> {
    const r = this.recoveries.get(g);
    if (!r || this.stage !== 'training') return;
    const members = this.groupMembers(g);
    if (!members.every((w) => (r.replacing.has(w.index) ? w.ready : w.paused !== undefined || !w.conn))) return;
    this.recoveries.delete(g);
    this.balances.delete(g);
    this.suspects.delete(g);
    for (const w of members) w.pace = undefined;
    const survivors = members.filter((w) => !r.replacing.has(w.index) && w.paused !== undefined);
    let clock: number;
    let body: Uint8Array | undefined;
    try {
      if (this.topology.servers > 0) {
        const views = await Promise.all(this.servers().map(async (sv) => readMessage(await sv.conn!.request(asHeader({ type: 'clocks-request' }), undefined, 30_000), ['clocks'], `server ${sv.index}`).pushed));
        const own = Math.min(...views.map((p) => p[g]!)) + 1;
        const others = views.flatMap((p) => p.filter((_, h) => h !== g && !this.recoveries.has(h)));
        // Under ssp and asp the rebuilt group joins the slowest other group (its missed steps are not redone); under bsp the others waited.
        clock = this.job.spec.training.consistency === 'bsp' || others.length === 0 ? own : Math.max(own, Math.min(...others) + 1);
        for (const sv of this.servers()) this.send(sv, { type: 'group-change', group: g, change: 'resume', clock });
      } else if (survivors.length) {
        const donor = survivors.reduce((a, b) => (b.paused! < a.paused! ? b : a));
        const reply = await donor.conn!.request(asHeader({ type: 'state-request' }), undefined, 60_000);
        clock = readMessage(reply, ['state'], `worker ${donor.index}`).clock;
        body = reply.body ? new Uint8Array(reply.body) : undefined;
      } else clock = 0; // no survivor and no servers: the group starts over
    } catch (err) {
      this.fail(this.withEarlierFailures(`could not rebuild group ${g}: ${describeError(err)}`));
      return;
    }
    const address = (s: Slot) => ({ host: s.hello!.host, port: s.hello!.port });
    const start: CoordinatorMessage = { type: 'start', workers: this.workers().map((w) => (w.hello ? address(w) : { host: '', port: 0 })), servers: this.servers().map(address), stepsPerEpoch: this.stepsPerEpoch, clock };
    for (const w of members) {
      w.paused = undefined;
      try {
        void w.conn?.send(asHeader(start), body);
      } catch {
        // gone again: its loss starts another recovery
      }
    }
    this.log(`group ${g} rebuilt after ${((Date.now() - r.since) / 1000).toFixed(1)} s; it goes on from clock ${clock}`);
  }

  private groupMembers(g: number): Slot[] {
    return this.workers().filter((w) => groupOf(this.topology, w.index) === g);
  }

  /** A failure's description, followed by the failures recovered from before it. */
  private withEarlierFailures(description: string): string {
    const earlier = this.failures.slice(0, -1);
    return earlier.length ? `${description}\nearlier failures (recovered):\n${earlier.map((f) => `  - ${f}`).join('\n')}` : description;
  }

  /** When every worker has ended epoch e: the job's epoch point (means over workers, validation summed). */
  private onEpoch(m: EpochMessage): void {
    const reports = [...(this.epochs.get(m.epoch) ?? []), m];
    if (reports.length < this.topology.workers) {
      this.epochs.set(m.epoch, reports);
      return;
    }
    this.epochs.delete(m.epoch);
    const mean = (f: (e: EpochMessage) => number) => reports.reduce((t, e) => t + f(e), 0) / reports.length;
    const validated = reports.filter((e) => e.validationCount);
    const count = validated.reduce((t, e) => t + e.validationCount!, 0);
    const validation = count
      ? { validationAccuracy: validated.reduce((t, e) => t + e.validationAccuracy! * e.validationCount!, 0) / count, validationLoss: validated.reduce((t, e) => t + e.validationLoss! * e.validationCount!, 0) / count }
      : {};
    const steps = reports.filter((e) => e.stepMs !== undefined).map((e) => e.stepMs!);
    this.status.epochEnded({ epoch: m.epoch, loss: mean((e) => e.loss), accuracy: mean((e) => e.accuracy), seconds: Math.max(...reports.map((e) => e.seconds)), ...(steps.length ? { stepMs: Math.max(...steps) } : {}), ...validation });
    this.log(`epoch ${m.epoch}: loss ${mean((e) => e.loss).toFixed(4)}, training accuracy ${(mean((e) => e.accuracy) * 100).toFixed(2)}%${count ? `, validation accuracy ${((validation.validationAccuracy ?? 0) * 100).toFixed(2)}% on ${count} samples in ${Math.max(...validated.map((e) => e.validationSeconds ?? 0)).toFixed(2)} s (${((100 * Math.max(...validated.map((e) => e.validationSeconds ?? 0))) / Math.max(1e-9, Math.max(...reports.map((e) => e.seconds)))).toFixed(1)}% of the epoch)` : ''}`);
  }

  /** Starts training once every worker has read its split and every server said hello. */
  private maybeStart(): void {
    if (this.stage !== 'gathering') return;
    if (!this.slots.every((s) => (s.role === 'worker' ? s.ready : s.hello))) return;
    const workers = this.workers();
    this.stepsPerEpoch = stepsPerEpoch(workers.map((w) => w.ready!.records), this.job.spec.training.batchSize);
    this.status.setClocks(this.stepsPerEpoch * this.job.spec.training.epochs);
    const address = (s: Slot) => ({ host: s.hello!.host, port: s.hello!.port });
    const resume = this.checkpoints?.resumeFrom;
    const start: CoordinatorMessage = { type: 'start', workers: workers.map(address), servers: this.servers().map(address), stepsPerEpoch: this.stepsPerEpoch, ...(resume ? { clock: resume.clock, restore: resume.clock } : {}) };
    if (resume) {
      this.lastCheckpoint = resume.clock;
      this.log(`resuming from the checkpoint at clock ${resume.clock} (epoch ${resume.epoch}) written ${resume.createdAt}`);
    }
    this.stage = 'training';
    this.trainingStartedAt = Date.now();
    this.status.setPhase('training');
    const records = workers.map((w) => w.ready!.records);
    this.log(`all ${this.slots.length} container${this.slots.length === 1 ? ' is' : 's are'} up after ${((Date.now() - this.startedAt) / 1000).toFixed(1)} s; training ${this.stepsPerEpoch} steps per epoch (splits of ${Math.min(...records)}–${Math.max(...records)} records)`);
    for (const s of [...this.servers(), ...workers]) this.send(s, start);
  }

  private onEvaluated(): void {
    let count = 0;
    let lossSum = 0;
    let correct = 0;
    for (const w of this.workers()) {
      const e = w.evaluation!;
      count += e.count;
      lossSum += e.lossSum;
      e.confusion.forEach((row, i) => (correct += row[i] ?? 0));
    }
    this.test = count ? { accuracy: correct / count, loss: lossSum / count, count } : undefined;
    if (this.test) this.log(`test accuracy ${(this.test.accuracy * 100).toFixed(2)}% on ${count} samples`);
    this.stage = 'saving';
    this.status.setPhase('saving');
    this.send(this.slot('worker', 0), { type: 'save', ...(this.test ? { testAccuracy: this.test.accuracy, testLoss: this.test.loss } : {}) });
  }

  // ------------------------------------------------------------ watchdog

  private watch(): void {
    if (this.stage === 'done') return;
    const now = Date.now();
    // A peer that others lost but that reported nothing itself is the cause; then those held back.
    const overdue = this.slots.filter((s) => s.failingSince !== undefined && now - s.failingSince > this.limits.exitGraceMs && (!s.exited || s.heldFailure));
    const cause = overdue.find((s) => !s.exited && !s.lostPeer) ?? overdue.find((s) => !s.exited) ?? overdue[0];
    if (cause) {
      this.lose(cause, cause.heldFailure ?? `${cause.role} ${cause.index}${this.where(cause)} failed: ${cause.error ?? 'it stopped answering'}`);
      return;
    }
    if (this.stage === 'finishing') {
      if (now - this.finishedAt > this.limits.connectMs) this.succeed();
      return;
    }
    const unallocated = this.slots.filter((s) => !s.allocatedAt && now - s.askedAt > this.limits.allocationMs);
    if (unallocated.length) {
      this.fail(`no container was allocated within ${this.limits.allocationMs / 1000} s for ${names(unallocated)}; the containers that were allocated are released`);
      return;
    }
    const silentStart = this.slots.filter((s) => !s.hello && s.launchedAt !== undefined && now - s.launchedAt > this.limits.connectMs);
    if (silentStart.length) {
      this.lose(silentStart[0]!, `${silentStart.map((s) => `${s.role} ${s.index}${this.where(s)}`).join(', ')} did not connect to the ApplicationMaster within ${this.limits.connectMs / 1000} s`);
      return;
    }
    const silent = this.slots.find((s) => s.hello && !s.exited && now - s.lastHeard > this.limits.silenceMs);
    if (silent) {
      this.lose(silent, `${silent.role} ${silent.index}${this.where(silent)} reported nothing for ${this.limits.silenceMs / 1000} s`);
      return;
    }
    for (const [g, r] of this.recoveries) {
      if (now - r.since > this.limits.allocationMs + this.limits.connectMs) {
        this.fail(this.withEarlierFailures(`group ${g} was not rebuilt within ${(this.limits.allocationMs + this.limits.connectMs) / 1000} s (waiting for worker${r.replacing.size > 1 ? 's' : ''} ${[...r.replacing].join(', ')})`));
        return;
      }
    }
    if (this.stage === 'training') {
      this.inspectStall(now);
      for (let g = 0; g < this.topology.groups; g++) this.balance(g);
    }
  }

  /**
   * A member much slower than its group must not pace it: batches are shared out by speed so the
   * group's step takes little more than a fault-free one (src/cluster/balance.ts), refined from
   * what members report at their new sizes, and back to equal once the group is even again.
   */
  private balance(g: number): void {
    if (this.topology.groupSize < 2 || this.recoveries.has(g) || this.rollback) return;
    const members = this.groupMembers(g);
    if (members.some((w) => w.pace === undefined || w.trained)) return;
    const state = this.balances.get(g);
    // Paces are medians over recent steps: they speak for the latest sizes only some steps after those apply.
    if (state && members.some((w) => (w.view.clock ?? 0) < state.fromClock + BALANCE_SETTLE_STEPS)) return;
    const b = this.job.spec.training.batchSize;
    const paces = members.map((w) => w.pace!);
    const decision = planBalance(b, paces, state?.sizes);
    const clock = Math.max(...members.map((w) => w.view.clock ?? 0));
    if (decision.kind === 'balance' && !state?.sizes) {
      // A moment of load on one member's core is not a straggler: it must still be slow some steps later.
      const since = this.suspects.get(g);
      if (since === undefined) this.suspects.set(g, clock);
      if (since === undefined || clock < since + BALANCE_SETTLE_STEPS) return;
    }
    this.suspects.delete(g);
    if (decision.kind === 'keep') return;
    const sizes = decision.kind === 'even' ? members.map(() => b) : [...decision.sizes];
    const fromClock = clock + 10;
    this.balances.set(g, { sizes: decision.kind === 'balance' ? sizes : undefined, fromClock });
    for (const w of members) this.send(w, { type: 'rebalance', fromClock, sizes });
    this.log(`group ${g}: members compute ${ms(paces.map((p) => p.computeMsPerSample))} per sample and step in ${ms(paces.map((p) => p.stepMs))}; from clock ${fromClock} their batches are ${sizes.join(', ')}`);
  }

  /** Names who a non-advancing job waits for (Horovod's stall inspector, but it also ends in a decision: silence). */
  private inspectStall(now: number): void {
    const clock = this.status.doc.clock ?? 0;
    if (clock !== this.lastClock.clock) {
      this.lastClock = { clock, at: now, reportedAt: 0 };
      if (!this.status.doc.waitingFor?.startsWith('server')) this.status.doc.waitingFor = undefined;
      return;
    }
    if (now - this.lastClock.at < this.limits.stallReportMs || now - this.lastClock.reportedAt < this.limits.stallReportMs) return;
    this.lastClock.reportedAt = now;
    const workers = this.workers();
    const slowest = this.status.doc.groups.reduce((a, g) => (g.clock < a.clock ? g : a));
    const behind = slowest.members.map((i) => workers[i]!).sort((a, b) => (a.view.clock ?? 0) - (b.view.clock ?? 0))[0]!;
    const text = `global clock ${clock} has not moved for ${((now - this.lastClock.at) / 1000).toFixed(0)} s: waiting for group ${slowest.index} (worker ${behind.index}${this.where(behind)} at clock ${behind.view.clock ?? 0}, last heard ${((now - behind.lastHeard) / 1000).toFixed(0)} s ago)`;
    this.status.doc.waitingFor = text;
    this.log(text);
  }

  // ------------------------------------------------------------ endings

  private succeed(): void {
    if (this.stage === 'done') return;
    this.stage = 'done';
    const result = this.result();
    const accuracy = result.testAccuracy === undefined ? 'n/a' : `${(result.testAccuracy * 100).toFixed(2)}%`;
    this.end({ succeeded: true, result, diagnostics: `trained ${this.job.spec.name}: test accuracy ${accuracy}, model ${this.model}\n${resultLine(result)}` });
  }

  /** Fails the job (the first failure wins) and tells every container to stop. */
  fail(diagnostics: string): void {
    if (this.stage === 'done') return;
    this.stage = 'done';
    this.log(`failing: ${diagnostics}`);
    for (const s of this.slots) if (s.conn && !s.exited) this.send(s, { type: 'abort', reason: diagnostics.split('\n')[0]! });
    this.end({ succeeded: false, diagnostics });
  }

  private end(o: Outcome): void {
    if (this.timer) clearInterval(this.timer);
    this.resolveOutcome(o);
  }

  /** Stops the wire server and every container still running. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([this.launcher?.stopAll(), this.wire.close()]);
  }

  result(): JobResult {
    const workers = this.workers();
    const trained = workers.filter((w) => w.trained);
    const seconds = ((this.trainingEndedAt || Date.now()) - (this.trainingStartedAt || Date.now())) / 1000;
    const samples = trained.reduce((t, w) => t + w.trained!.samples, 0);
    const staleness = trained.map((w) => w.trained!.staleness).filter((s): s is StalenessStats => s !== undefined);
    const reads = staleness.reduce((t, s) => t + s.reads, 0);
    return {
      testAccuracy: this.test?.accuracy,
      testLoss: this.test?.loss,
      testSamples: this.test?.count,
      model: this.model,
      epochs: this.job.spec.training.epochs,
      seconds,
      samplesPerSecond: seconds > 0 ? samples / seconds : undefined,
      workers: this.topology.workers,
      groups: this.topology.groups,
      servers: this.topology.servers,
      consistency: this.status.doc.consistency,
      wire: this.job.spec.training.wire,
      bytes: { local: workers.reduce((t, w) => t + (w.view.bytesLocal ?? 0), 0), remote: workers.reduce((t, w) => t + (w.view.bytesRemote ?? 0), 0) },
      wireBytesPerStep: trained.length ? trained.reduce((t, w) => t + w.trained!.wireBytesPerStep, 0) / trained.length : undefined,
      staleness: reads ? { max: Math.max(...staleness.map((s) => s.max)), mean: staleness.reduce((t, s) => t + s.mean * s.reads, 0) / reads, reads } : undefined,
      containers: this.slots.map((s) => ({ ...s.view })),
      ...(this.failures.length ? { failures: [...this.failures] } : {}),
      ...(this.status.doc.checkpoint ? { checkpoint: this.status.doc.checkpoint } : {}),
      ...(this.status.doc.rollbacks ? { rollbacks: this.status.doc.rollbacks } : {}),
    };
  }

  // ------------------------------------------------------------ helpers

  private send(slot: Slot, m: CoordinatorMessage): void {
    try {
      void slot.conn?.send(asHeader(m));
    } catch {
      // closed: its loss is handled by the close handler or its exit
    }
  }

  private slot(role: ContainerRole, index: number): Slot {
    const s = this.slots.find((x) => x.role === role && x.index === index);
    if (!s) throw new HornError(`no ${role} ${index} in this job`, 'internal');
    return s;
  }

  private workers(): Slot[] {
    return this.slots.filter((s) => s.role === 'worker');
  }

  private servers(): Slot[] {
    return this.slots.filter((s) => s.role === 'server');
  }

  private where(s: Slot): string {
    return s.view.containerId ? ` (container ${s.view.containerId} on ${s.view.host})` : s.view.host ? ` (on ${s.view.host})` : '';
  }

  get groups(): number[][] {
    return allGroups(this.topology);
  }
}

/** Steps at new batch sizes before the members' paces are read again. */
const BALANCE_SETTLE_STEPS = 20;

const ms = (xs: readonly number[]): string => xs.map((x) => `${x.toFixed(3)} ms`).join(', ');

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new HornError(`timed out after ${timeoutMs / 1000} s`, 'timeout');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function names(slots: readonly Slot[]): string {
  const by = (role: ContainerRole) => slots.filter((s) => s.role === role).map((s) => s.index);
  return [['worker', by('worker')], ['server', by('server')]]
    .filter(([, ix]) => (ix as number[]).length)
    .map(([role, ix]) => `${role}${(ix as number[]).length > 1 ? 's' : ''} ${(ix as number[]).join(', ')}`)
    .join(' and ');
}
