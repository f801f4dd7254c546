// What the client tells the ApplicationMaster, and the ApplicationMaster its containers, when it
// launches them: environment names, the local resource names, and the staged job document.
// It is the contract between the three programs of a horn application. Secrets never travel
// here: the application secret is in the YARN credentials only.
import type { DatasetSpec, ReadOptions } from '../data';
import { RM_SCHEDULER_ADDRESS_ENV } from '../hadoop/yarn/amrm-client';
import type { JobSpec } from '../job';

export const ENV = {
  role: 'HORN_ROLE',
  user: 'HORN_USER',
  /** Comma-separated http://host:port of the NameNodes (WebHDFS). */
  namenodes: 'HORN_NAMENODE_HTTP',
  /** Comma-separated host:port of the ResourceManager scheduler (several under RM HA); the AM-RM client reads it. */
  scheduler: RM_SCHEDULER_ADDRESS_ENV,
  stagingDir: 'HORN_STAGING_DIR',
  /** Full URI of the runtime bundle in the cache, which the AM passes on to its containers. */
  runtimeUri: 'HORN_RUNTIME_URI',
  /** Full URI of the shipped Node.js binary in the cache, when the job ships one. */
  nodeUri: 'HORN_NODE_URI',
  /** host:port of the ApplicationMaster's wire server, for containers. */
  amWire: 'HORN_AM_WIRE',
  workerIndex: 'HORN_WORKER_INDEX',
  /** Log level for pino (info by default). */
  logLevel: 'HORN_LOG_LEVEL',
} as const;

/** Local resource (link) names in every horn container's working directory. */
export const RESOURCE = {
  runtime: 'horn-runtime.js',
  /** The shipped Node.js binary (cluster.runtime: ship). */
  node: 'node',
  job: 'job.json',
  /** Directory of user neuron files, by the names the job gives them. */
  userCode: 'user',
} as const;

/** Alias of the per-application secret in the YARN credentials (HDTS secret keys). */
export const SECRET_ALIAS = 'horn.application.secret';

/** The YARN application type of horn jobs. */
export const APPLICATION_TYPE = 'HORN';

/** The staged job document: the validated job plus what the client resolved for the cluster. */
export interface StagedJob {
  readonly version: 1;
  readonly applicationId: string;
  readonly user: string;
  readonly spec: JobSpec;
  readonly train: DatasetSpec;
  readonly test?: DatasetSpec;
  readonly readOptions: ReadOptions;
  /** Absolute HDFS path the model is written to. */
  readonly outputModel: string;
  /** User neuron files: the job's name for each, and its staged file name under `user/`. */
  readonly userFiles: Readonly<Record<string, string>>;
  readonly submittedAt: number;
}

/**
 * The command a NodeManager runs for a horn role, with the V8 heap at three quarters of the
 * container's memory, on the node's own Node.js or the shipped one (localized as ./node). No double quotes: the NM pastes it into bash -c "…" unescaped.
 */
export function containerCommand(role: 'am' | 'worker', memoryMb: number, runtime: 'system' | 'ship'): string {
  const heapMb = Math.max(64, Math.floor(memoryMb * 0.75));
  const node = runtime === 'ship' ? `./${RESOURCE.node}` : 'node';
  return `${node} --max-old-space-size=${heapMb} ${RESOURCE.runtime} ${role} 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr`;
}

/** What a finished job reports: the ApplicationMaster's final diagnostics end with a line of
 * RESULT_MARKER + JSON, which the client parses (the RM keeps diagnostics after the AM is gone). */
export interface JobResult {
  readonly testAccuracy?: number;
  readonly testLoss?: number;
  readonly model?: string;
  readonly epochs?: number;
  readonly seconds?: number;
  readonly samplesPerSecond?: number;
}

export const RESULT_MARKER = 'horn-result: ';
