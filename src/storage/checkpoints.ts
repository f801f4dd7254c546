// Checkpoints of a distributed job, consistent across shards: at a checkpoint clock every server
// writes its shard and every worker its loop state (without servers, worker 0 also the whole model),
// then the coordinator writes the manifest — clock, epoch, each file's size and CRC-32, the job's
// hash — last and atomically. A checkpoint without its manifest does not exist; one whose files do
// not match their manifest is skipped, with a warning, for the one before.
//   <root>/clock-00000468/{server-0, server-1, worker-0, …, manifest.json}
import { createHash } from 'node:crypto';
import { HornError } from '../common/errors';
import { crc32 } from '../engine';
import type { StorageFiles } from './files';

export const MANIFEST = 'manifest.json';
export const MANIFEST_VERSION = 1;

export interface CheckpointFile {
  readonly name: string;
  readonly bytes: number;
  /** Hex. */
  readonly crc32: string;
}

export interface CheckpointManifest {
  readonly version: typeof MANIFEST_VERSION;
  readonly applicationId: string;
  /** Every update of clocks before it, from every group, is in the files; none after. */
  readonly clock: number;
  readonly epoch: number;
  /** Of the job's model and training settings: a checkpoint restores only into the same job. */
  readonly jobHash: string;
  readonly createdAt: string;
  readonly files: readonly CheckpointFile[];
}

export const checkpointDir = (root: string, clock: number): string => `${root}/clock-${String(clock).padStart(8, '0')}`;
export const fileName = (role: 'worker' | 'server', index: number): string => `${role}-${index}`;

export function fileEntry(name: string, bytes: Uint8Array): CheckpointFile {
  return { name, bytes: bytes.byteLength, crc32: crc32(bytes).toString(16).padStart(8, '0') };
}

/** The hash that ties a checkpoint to a job: its model and training sections. */
export function jobHash(parts: { model: unknown; training: unknown; cluster: { workers: number; groups: number; parameterServers: { count: number } } }): string {
  const shape = { model: parts.model, training: parts.training, workers: parts.cluster.workers, groups: parts.cluster.groups, servers: parts.cluster.parameterServers.count };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

export async function writeManifest(store: StorageFiles, root: string, manifest: CheckpointManifest): Promise<void> {
  await store.writeAtomically(`${checkpointDir(root, manifest.clock)}/${MANIFEST}`, Buffer.from(`${JSON.stringify(manifest)}\n`));
}

export function parseManifest(text: string, where: string): CheckpointManifest {
  let m: Partial<CheckpointManifest>;
  try {
    m = JSON.parse(text) as Partial<CheckpointManifest>;
  } catch {
    throw new HornError(`${where} is not JSON`, 'input', { path: where });
  }
  if (m.version !== MANIFEST_VERSION || typeof m.clock !== 'number' || !Array.isArray(m.files) || typeof m.jobHash !== 'string') {
    throw new HornError(`${where} is not a version ${MANIFEST_VERSION} checkpoint manifest`, 'input', { path: where });
  }
  return m as CheckpointManifest;
}

/** Checkpoint clocks under a root, newest first (directories, with or without a manifest). */
export async function checkpointClocks(store: StorageFiles, root: string): Promise<number[]> {
  return (await store.list(root))
    .map((n) => /^clock-(\d+)$/.exec(n))
    .flatMap((m) => (m ? [Number(m[1])] : []))
    .sort((a, b) => b - a);
}

/**
 * The newest checkpoint whose manifest exists, belongs to this job and whose files all match it
 * (size and CRC-32, read back); `warn` hears why each newer one was skipped.
 */
export async function latestCheckpoint(store: StorageFiles, root: string, hash: string, warn: (message: string) => void): Promise<CheckpointManifest | undefined> {
  for (const clock of await checkpointClocks(store, root)) {
    const dir = checkpointDir(root, clock);
    let manifest: CheckpointManifest;
    try {
      manifest = parseManifest(Buffer.from(await store.readFile(`${dir}/${MANIFEST}`)).toString('utf8'), `${dir}/${MANIFEST}`);
    } catch (err) {
      warn(`skipping the checkpoint at clock ${clock}: no valid manifest (${(err as Error).message})`);
      continue;
    }
    if (manifest.jobHash !== hash) {
      warn(`skipping the checkpoint at clock ${clock}: it belongs to another job (hash ${manifest.jobHash}, this job ${hash})`);
      continue;
    }
    const bad = await firstBadFile(store, dir, manifest);
    if (bad) {
      warn(`skipping the checkpoint at clock ${clock}: ${bad}`);
      continue;
    }
    return manifest;
  }
  return undefined;
}

async function firstBadFile(store: StorageFiles, dir: string, manifest: CheckpointManifest): Promise<string | undefined> {
  for (const f of manifest.files) {
    let bytes: Uint8Array;
    try {
      bytes = await store.readFile(`${dir}/${f.name}`);
    } catch (err) {
      return `${f.name} cannot be read (${(err as Error).message})`;
    }
    const got = fileEntry(f.name, bytes);
    if (got.bytes !== f.bytes) return `${f.name} has ${got.bytes} bytes, the manifest says ${f.bytes}`;
    if (got.crc32 !== f.crc32) return `${f.name} has CRC-32 ${got.crc32}, the manifest says ${f.crc32}`;
  }
  return undefined;
}

/** Removes all but the newest `keep` complete checkpoints, and incomplete ones older than the newest complete one. */
export async function pruneCheckpoints(store: StorageFiles, root: string, keep: number, newestComplete: number): Promise<number[]> {
  const removed: number[] = [];
  let kept = 0;
  for (const clock of await checkpointClocks(store, root)) {
    if (clock > newestComplete) continue; // being written
    const hasManifest = (await store.list(checkpointDir(root, clock))).includes(MANIFEST);
    if (hasManifest && kept < keep) {
      kept++;
      continue;
    }
    await store.remove(checkpointDir(root, clock));
    removed.push(clock);
  }
  return removed;
}
