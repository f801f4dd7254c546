// The staged job document (job.json in every container's working directory): the validated job
// plus what the client resolved for the cluster. Written by the client, read by the ApplicationMaster
// and every container, and checked when read so that a client and runtime of different versions
// fail with a clear message rather than a TypeError deep in training.
import { readFileSync } from 'node:fs';
import { HornError } from '../common/errors';
import type { InputSpec, ReadOptions } from '../data';
import type { JobSpec } from '../job';
import { RESOURCE } from './env';
import { readVersionedJson } from './json';

export const STAGED_JOB_VERSION = 2;

export interface StagedJob {
  readonly version: typeof STAGED_JOB_VERSION;
  readonly applicationId: string;
  readonly user: string;
  readonly spec: JobSpec;
  /** Where the data and the model are: HDFS (YARN) or this machine's files (local mode). */
  readonly storage: 'hdfs' | 'local';
  /** Input as the job names it (absolute paths, not yet expanded: the coordinator expands it). */
  readonly train: InputSpec;
  readonly test?: InputSpec;
  readonly readOptions: ReadOptions;
  /** Absolute path (HDFS or local) the model is written to. */
  readonly outputModel: string;
  /** host:port (or nameservice) of the NameNode RPC: DataNodes' own WebHDFS endpoints need it. */
  readonly namenodeRpcAddress?: string;
  /** Absolute path (HDFS or local) of a model to start from (training.initFrom, --init-from). */
  readonly initFrom?: string;
  /** Directory (HDFS or local) of this application's checkpoints. */
  readonly checkpointRoot?: string;
  /** Absolute path of the pointer to the newest model, replaced after a successful run (output.latest). */
  readonly latest?: string;
  /** NodeManager hosts that were running at submission, where containers can be placed. */
  readonly nodes?: readonly string[];
  /** User neuron files: the job's name for each, and its staged file name. */
  readonly userFiles: Readonly<Record<string, string>>;
  readonly submittedAt: number;
}

/** Parses and checks a staged job document; `where` names it in errors. */
export function parseStagedJob(text: string, where: string): StagedJob {
  const o = readVersionedJson(text, where, STAGED_JOB_VERSION, 'internal', (v) => `version ${String(v)}; this runtime reads version ${STAGED_JOB_VERSION} (submit with the same horn version)`) as Partial<StagedJob>;
  if (o.storage !== 'hdfs' && o.storage !== 'local') throw new HornError(`${where}: storage must be hdfs or local`, 'internal', { file: where, field: 'storage' });
  for (const field of ['applicationId', 'user', 'outputModel'] as const) {
    if (typeof o[field] !== 'string' || o[field] === '') throw new HornError(`${where}: ${field} is missing`, 'internal', { file: where, field });
  }
  if (!o.spec || typeof o.spec !== 'object' || !o.train || typeof o.train !== 'object') throw new HornError(`${where}: spec or train is missing`, 'internal', { file: where });
  return o as StagedJob;
}

/** The staged job in a container's working directory. */
export function readStagedJob(path: string = RESOURCE.job): StagedJob {
  return parseStagedJob(readFileSync(path, 'utf8'), path);
}
