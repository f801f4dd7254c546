// What the ApplicationMaster knows about its run, kept as the status document (src/protocol) that
// its page and JSON endpoint serve and that the RM's progress bar follows. Pure state: the AM and
// the local launcher feed it reports; it derives group clocks, the global clock and progress.
import type { ConsistencyMode, ContainerRole, ContainerView, EpochPoint, GroupView, JobPhase, StatusDocument } from '../protocol';
import { STATUS_VERSION } from '../protocol';
import { MetricHistory } from './metrics';
import { allGroups, topology } from '../cluster/topology';
import type { StagedJob } from '../protocol';

export interface StatusShape {
  readonly applicationId: string;
  readonly name: string;
  readonly epochs: number;
  readonly workers: number;
  /** Worker indices of each group. */
  readonly groups: readonly (readonly number[])[];
  readonly servers: number;
  readonly consistency: { mode: ConsistencyMode; staleness?: number };
  readonly wire?: 'fp32' | 'fp16';
}

/** What a worker reports while it trains (any field may be absent). */
export type WorkerReport = Partial<Pick<ContainerView, 'phase' | 'clock' | 'epoch' | 'loss' | 'accuracy' | 'samplesPerSecond' | 'shares' | 'bytesLocal' | 'bytesRemote'>> & {
  readonly learningRate?: number;
  /** Fraction (0–1) of this worker's training done. */
  readonly fraction?: number;
};

export type ServerReport = Partial<Pick<ContainerView, 'phase' | 'clock' | 'updates' | 'bytesIn' | 'bytesOut' | 'shard'>>;

/** Phases in the order a run goes through them; a report never moves the job backwards. */
const PHASE_ORDER: readonly JobPhase[] = ['starting', 'allocating', 'launching', 'reading', 'training', 'evaluating', 'saving', 'succeeded', 'failed', 'killed'];

export class JobStatus {
  /** The status of a staged job: its workers in groups, its servers, its consistency rule. */
  static forJob(job: StagedJob): JobStatus {
    const c = job.spec.cluster;
    const t = topology(c.workers, c.groups, c.parameterServers.count);
    const training = job.spec.training;
    return new JobStatus({
      applicationId: job.applicationId,
      name: job.spec.name,
      epochs: training.epochs,
      workers: t.workers,
      groups: allGroups(t),
      servers: t.servers,
      consistency: training.consistency === 'ssp' ? { mode: 'ssp', staleness: training.staleness } : { mode: training.consistency },
      wire: training.wire,
    });
  }

  readonly doc: StatusDocument;
  /** The curves: a point whenever the global clock moves, one per epoch (bounded, src/coordinator/metrics.ts). */
  readonly history = new MetricHistory();
  private readonly fractions: number[];

  constructor(shape: StatusShape, now = Date.now()) {
    const groupOf = new Map<number, number>();
    shape.groups.forEach((members, g) => members.forEach((w) => groupOf.set(w, g)));
    this.fractions = new Array<number>(shape.workers).fill(0);
    this.doc = {
      version: STATUS_VERSION,
      applicationId: shape.applicationId,
      name: shape.name,
      phase: 'starting',
      progress: 0,
      startedAt: now,
      updatedAt: now,
      epochs: shape.epochs,
      consistency: shape.consistency,
      wire: shape.wire,
      groups: shape.groups.map((members, index): GroupView => ({ index, members: [...members], clock: 0 })),
      containers: [
        ...Array.from({ length: shape.workers }, (_, index): ContainerView => ({ role: 'worker', index, group: groupOf.get(index), attempt: 0, state: 'requested' })),
        ...Array.from({ length: shape.servers }, (_, index): ContainerView => ({ role: 'server', index, attempt: 0, state: 'requested' })),
      ],
    };
  }

  setPhase(phase: JobPhase, now = Date.now()): void {
    if (PHASE_ORDER.indexOf(phase) > PHASE_ORDER.indexOf(this.doc.phase)) this.doc.phase = phase;
    this.doc.updatedAt = now;
  }

  container(role: ContainerRole, index: number): ContainerView {
    const c = this.doc.containers.find((x) => x.role === role && x.index === index);
    if (!c) throw new RangeError(`no ${role} ${index}`);
    return c;
  }

  get workers(): ContainerView[] {
    return this.doc.containers.filter((c) => c.role === 'worker');
  }

  /** Sets the total clocks of the run once the steps per epoch are known. */
  setClocks(clocks: number): void {
    this.doc.clocks = clocks;
  }

  workerReport(index: number, r: WorkerReport, now = Date.now()): void {
    const w = this.container('worker', index);
    assignDefined(w, r, ['phase', 'clock', 'epoch', 'loss', 'accuracy', 'samplesPerSecond', 'shares', 'bytesLocal', 'bytesRemote']);
    if (r.phase === 'reading' || r.phase === 'training' || r.phase === 'evaluating' || r.phase === 'saving') this.setPhase(r.phase, now);
    if (r.fraction !== undefined) this.fractions[index] = Math.min(1, Math.max(0, r.fraction));
    if (r.learningRate !== undefined) this.doc.learningRate = r.learningRate;
    this.recompute(now);
    this.history.observe(this.doc);
  }

  /** An epoch of the whole job ended (the workers' numbers combined). */
  epochEnded(point: Omit<EpochPoint, 't'>, now = Date.now()): void {
    this.history.addEpoch({ ...point, t: now - this.doc.startedAt });
  }

  /** The document with its curves, as the page, history.json and the report show it. */
  snapshot(): StatusDocument {
    return { ...this.doc, history: this.history.history() };
  }

  serverReport(index: number, r: ServerReport, now = Date.now()): void {
    const s = this.container('server', index);
    assignDefined(s, r, ['phase', 'clock', 'updates', 'bytesIn', 'bytesOut', 'shard']);
    this.doc.updatedAt = now;
  }

  /** Group clocks (their slowest member), the global clock (the slowest group), means and progress. */
  private recompute(now: number): void {
    const workers = this.workers;
    for (const g of this.doc.groups) {
      const clocks = g.members.map((m) => workers[m]?.clock ?? 0);
      g.clock = Math.min(...clocks);
      g.samplesPerSecond = sum(g.members.map((m) => workers[m]?.samplesPerSecond ?? 0)) || undefined;
    }
    this.doc.clock = Math.min(...this.doc.groups.map((g) => g.clock));
    const reporting = workers.filter((w) => w.loss !== undefined);
    if (reporting.length) {
      this.doc.loss = sum(reporting.map((w) => w.loss!)) / reporting.length;
      this.doc.accuracy = sum(reporting.map((w) => w.accuracy ?? 0)) / reporting.length;
      this.doc.epoch = Math.min(...reporting.map((w) => w.epoch ?? 1));
    }
    this.doc.samplesPerSecond = sum(workers.map((w) => w.samplesPerSecond ?? 0)) || this.doc.samplesPerSecond;
    // Training is most of the run; reading and saving are the ends.
    // The RM's progress bar follows the global clock (the slowest group) once the clocks are known.
    const done = this.doc.clocks ? (this.doc.clock ?? 0) / this.doc.clocks : sum(this.fractions) / Math.max(1, this.fractions.length);
    this.doc.progress = Math.min(0.99, 0.02 + 0.95 * done);
    this.doc.updatedAt = now;
  }

  finish(outcome: { phase: 'succeeded' | 'failed' | 'killed'; diagnostics?: string; testAccuracy?: number; model?: string }, now = Date.now()): void {
    this.doc.phase = outcome.phase;
    if (outcome.phase === 'succeeded') this.doc.progress = 1;
    this.doc.diagnostics = outcome.diagnostics;
    this.doc.testAccuracy = outcome.testAccuracy;
    this.doc.model = outcome.model;
    this.doc.updatedAt = now;
  }
}

/** Copies the listed fields that `from` has into `to`. */
function assignDefined<K extends keyof ContainerView>(to: ContainerView, from: Partial<Pick<ContainerView, K>>, keys: readonly K[]): void {
  for (const key of keys) {
    const v = from[key];
    if (v !== undefined) to[key] = v as ContainerView[K];
  }
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
