// The ApplicationMaster's status document: what its /status.json serves (the training page, the
// client's progress display) and, frozen at the end, what the final result and history hold. Pure
// data; one definition for the three programs and the page.
import type { ContainerRole } from './env';

export const STATUS_VERSION = 2;

export type JobPhase = 'starting' | 'allocating' | 'launching' | 'reading' | 'training' | 'evaluating' | 'saving' | 'succeeded' | 'failed' | 'killed';

/** How a container's host relates to the data it was asked next to (YARN's terms). */
export type Locality = 'node-local' | 'rack-local' | 'off-switch';

export type ContainerState = 'requested' | 'allocated' | 'launched' | 'connected' | 'running' | 'finished' | 'failed' | 'killed';

/** Consistency across groups: bsp (one update per clock from all groups), ssp (bounded staleness), asp (none). */
export type ConsistencyMode = 'bsp' | 'ssp' | 'asp';

/** Fractions (0–1) of a worker's training wall time; they sum to at most 1. */
export interface TimeShares {
  readonly compute: number;
  /** Moving bytes: all-reduce inside the group, push and pull to the servers. */
  readonly communication: number;
  /** Blocked on someone else: a slower peer, or a server holding a read back for the staleness bound. */
  readonly waiting: number;
}

/** What a worker's training has done so far: its own report to the AM and its run's summary. */
export interface TrainingTotals {
  readonly samples: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly shares: TimeShares;
}

export interface ShardRange {
  /** First parameter index (inclusive) of the flat parameter vector. */
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

/** Observed staleness of reads, in clocks. */
export interface StalenessStats {
  readonly max: number;
  readonly mean: number;
  readonly reads: number;
}

/** One container of the job (a worker or a parameter server), live and in the final result. */
export interface ContainerView {
  role: ContainerRole;
  index: number;
  /** Workers: their group. */
  group?: number;
  /** 0 for the first launch of this index, more after replacements. */
  attempt: number;
  state: ContainerState;
  containerId?: string;
  host?: string;
  /** Workers: where YARN placed them relative to their split's data. */
  locality?: Locality;
  phase?: string;
  /** Steps this container has completed (workers), or the oldest group clock it has seen pushed (servers). */
  clock?: number;
  epoch?: number;
  loss?: number;
  accuracy?: number;
  samplesPerSecond?: number;
  shares?: TimeShares;
  /** Workers: records of their split. */
  records?: number;
  /** Workers: CRC-32 (hex) of their final parameters; equal within a group. */
  checksum?: string;
  /** Workers: training bytes read from a DataNode on their own host, and from other hosts. */
  bytesLocal?: number;
  bytesRemote?: number;
  /** The numeric kernels it computes with, e.g. "native-avx2 on 2 threads". */
  kernels?: string;
  /** Servers: the shard they own. */
  shard?: ShardRange;
  updates?: number;
  bytesIn?: number;
  bytesOut?: number;
  /** Launches of this index that failed before this one. */
  restarts?: number;
  diagnostics?: string;
}

export interface GroupView {
  index: number;
  /** Worker indices. */
  members: number[];
  /** Steps the whole group has completed. */
  clock: number;
  staleness?: StalenessStats;
  samplesPerSecond?: number;
}

/** A point of the training curves, every few steps (downsampled for long runs). */
export interface StepPoint {
  /** Milliseconds since the job started. */
  readonly t: number;
  /** Global clock: steps completed by the slowest group. */
  readonly clock: number;
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly learningRate?: number;
  readonly samplesPerSecond?: number;
  /** Largest staleness (clocks) of the reads at this point, when groups run ssp or asp. */
  readonly staleness?: number;
}

export interface EpochPoint {
  readonly epoch: number;
  readonly t: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly validationLoss?: number;
  readonly validationAccuracy?: number;
  readonly seconds?: number;
  /** Median wall time of a step in the epoch (ms), the slowest worker's. */
  readonly stepMs?: number;
}

export interface TrainingHistory {
  readonly steps: StepPoint[];
  readonly epochs: EpochPoint[];
}

export interface StatusDocument {
  version: typeof STATUS_VERSION;
  applicationId: string;
  name: string;
  phase: JobPhase;
  /** 0–1 over the whole run; the RM's progress bar. */
  progress: number;
  startedAt: number;
  updatedAt: number;
  epoch?: number;
  epochs: number;
  /** Global clock (slowest group) and the clocks of the whole run. */
  clock?: number;
  clocks?: number;
  loss?: number;
  accuracy?: number;
  samplesPerSecond?: number;
  learningRate?: number;
  consistency: { mode: ConsistencyMode; staleness?: number };
  wire?: 'fp32' | 'fp16';
  groups: GroupView[];
  containers: ContainerView[];
  /** A wait that lasts longer than expected: who is waited for, at which clock. */
  waitingFor?: string;
  /** The newest complete checkpoint. */
  checkpoint?: { clock: number; epoch: number; at: number; files: number; bytes: number };
  /** Rollbacks to a checkpoint (a lost parameter server), in order. */
  rollbacks?: Array<{ at: number; clock: number; reason: string }>;
  /** Containers lost and replaced (and the one that ended the job), in order. */
  failures?: string[];
  testAccuracy?: number;
  model?: string;
  diagnostics?: string;
  history?: TrainingHistory;
}
