// Staging: what the ApplicationMaster and containers need, put into HDFS before submission.
//   /user/<user>/.horn/staging/<applicationId>/   (700)  job.json, user neuron files
//   /user/<user>/.horn/cache/<sha256>/<name>              reusable artifacts (the runtime bundle),
//                                                         content-addressed, localized once per node
import { createHash } from 'node:crypto';
import type { LocalResourceSpec } from '../../hadoop/rm-rest/client';
import type { FileStatus, WebHdfsClient } from '../../hadoop/webhdfs/client';

export interface StagedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface StagingPlan {
  readonly user: string;
  readonly applicationId: string;
  /** fs.defaultFS, e.g. hdfs://master.test:8020: LocalResources need full URIs. */
  readonly defaultFs: string;
  /** Reusable across applications: stored once under the cache by content hash. */
  readonly cached: readonly StagedFile[];
  /** This application's own files. */
  readonly files: readonly StagedFile[];
}

export interface StagedApplication {
  readonly stagingDir: string;
  /** Local resources by link name. */
  readonly resources: Readonly<Record<string, LocalResourceSpec>>;
  /** The cached artifacts among them: link name → URI (what the AM localizes in every container). */
  readonly cached: Readonly<Record<string, string>>;
}

export function hornHome(user: string): string {
  return `/user/${user}/.horn`;
}

export function stagingDir(user: string, applicationId: string): string {
  return `${hornHome(user)}/staging/${applicationId}`;
}

export async function stageApplication(hdfs: WebHdfsClient, plan: StagingPlan): Promise<StagedApplication> {
  const dir = stagingDir(plan.user, plan.applicationId);
  await hdfs.mkdirs(dir, '700');
  // MKDIRS may leave an existing directory's mode alone; the staging directory must be private.
  await hdfs.setPermission(dir, '700');
  const resources: Record<string, LocalResourceSpec> = {};
  const cached: Record<string, string> = {};
  for (const f of plan.cached) {
    resources[f.name] = localResource(plan.defaultFs, await ensureCached(hdfs, plan.user, f), 'PRIVATE');
    cached[f.name] = resources[f.name].uri;
  }
  for (const f of plan.files) {
    const path = `${dir}/${f.name}`;
    await hdfs.create(path, Buffer.from(f.bytes), { overwrite: true, permission: '600' });
    resources[f.name] = localResource(plan.defaultFs, await hdfs.getFileStatus(path), 'APPLICATION');
  }
  return { stagingDir: dir, resources, cached };
}

/** Removes an application's staging directory; true when something was removed. */
export async function removeStaging(hdfs: WebHdfsClient, user: string, applicationId: string): Promise<boolean> {
  return hdfs.delete(stagingDir(user, applicationId), true);
}

/** The cached copy's status, uploading it when it is not there yet. */
async function ensureCached(hdfs: WebHdfsClient, user: string, file: StagedFile): Promise<FileStatus> {
  const digest = createHash('sha256').update(file.bytes).digest('hex');
  const dir = `${hornHome(user)}/cache/${digest}`;
  const path = `${dir}/${file.name}`;
  const existing = await hdfs.stat(path);
  if (existing && existing.length === file.bytes.byteLength) return existing;
  await hdfs.mkdirs(dir, '755');
  // Atomic, so a concurrent submission never localizes half a file; if one placed it first, fine.
  await hdfs.createAtomically(path, Buffer.from(file.bytes), { permission: '644' });
  const placed = await hdfs.stat(path);
  if (!placed || placed.length !== file.bytes.byteLength) throw new Error(`could not place ${file.name} in the cache at ${path}`);
  return placed;
}

function localResource(defaultFs: string, status: FileStatus, visibility: LocalResourceSpec['visibility']): LocalResourceSpec {
  return { uri: `${defaultFs.replace(/\/$/, '')}${status.path}`, type: 'FILE', visibility, size: status.length, timestamp: status.modificationTime };
}
