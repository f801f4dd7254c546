// Each worker's part of the job: its training split (from the block locations, by locality) and
// its share of the test set. The block lookup is passed in, so local files and HDFS plan alike.
import { computeSplits, type InputBlock, type InputFile, type Split } from '../cluster/splits';
import { expandInput, type FileLister, type InputSpec } from '../data';
import type { StagedJob } from '../protocol';
import type { AssignedRange } from '../protocol/messages';
import type { WorkerPlan } from './coordinator';

export interface PlanStorage {
  readonly lister: FileLister;
  /** Block locations with DataNode addresses; absent for local files (one block, no replicas). */
  readonly blocks?: (path: string) => Promise<InputBlock[]>;
}

export interface JobPlan {
  readonly splits: readonly Split[];
  readonly workers: readonly WorkerPlan[];
  /** Training input bytes and files. */
  readonly bytes: number;
  readonly files: number;
}

/** The files whose bytes are split: every file of a CSV/LibSVM input, the images file of an IDX pair. */
async function primaryFiles(input: InputSpec, lister: FileLister): Promise<Array<{ path: string; length: number }>> {
  const files = await expandInput(input, lister);
  return input.format === 'idx' ? files.slice(0, 1) : files;
}

async function withBlocks(files: Array<{ path: string; length: number }>, storage: PlanStorage): Promise<InputFile[]> {
  return Promise.all(
    files.map(async (f) => ({ path: f.path, length: f.length, blocks: storage.blocks && f.length > 0 ? await storage.blocks(f.path) : [{ offset: 0, length: f.length, replicas: [] }] })),
  );
}

const assigned = (s: Split): AssignedRange[] => s.ranges.map((r) => ({ path: r.path, start: r.start, end: r.end, replicas: r.replicas.map((x) => ({ host: x.host, httpAddress: x.httpAddress })) }));

export async function planJob(job: StagedJob, storage: PlanStorage): Promise<JobPlan> {
  const n = job.spec.cluster.workers;
  const trainFiles = await withBlocks(await primaryFiles(job.train, storage.lister), storage);
  const splits = computeSplits(trainFiles, n, { schedulable: job.nodes?.length ? new Set(job.nodes) : undefined });
  // The test set needs no locality: equal byte shares of its files.
  const testSplits = job.test
    ? computeSplits((await primaryFiles(job.test, storage.lister)).map((f) => ({ ...f, blocks: [{ offset: 0, length: f.length, replicas: [] }] })), n)
    : undefined;
  return {
    splits,
    workers: splits.map((s, i) => ({ ranges: assigned(s), testRanges: testSplits ? assigned(testSplits[i]!) : [] })),
    bytes: trainFiles.reduce((t, f) => t + f.length, 0),
    files: trainFiles.length,
  };
}
