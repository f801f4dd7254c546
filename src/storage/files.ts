// Whole files of a job's storage — HDFS on YARN, this machine's files in local mode — for what the
// coordinator and containers keep beside training: checkpoints, their manifests, pointers.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { WebHdfsClient } from '../hadoop/webhdfs/client';

export interface StorageFiles {
  readFile(path: string): Promise<Uint8Array>;
  /** Written under a temporary name and renamed into place: a reader never sees part of it. */
  writeAtomically(path: string, bytes: Uint8Array): Promise<void>;
  /** Names directly inside `dir` (empty when it does not exist). */
  list(dir: string): Promise<string[]>;
  remove(path: string): Promise<void>;
}

export function hdfsStorage(hdfs: WebHdfsClient): StorageFiles {
  return {
    readFile: (p) => hdfs.readFile(p),
    async writeAtomically(p, bytes) {
      await hdfs.mkdirs(posix.dirname(p));
      await hdfs.createAtomically(p, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { replace: true });
    },
    async list(dir) {
      if (!(await hdfs.stat(dir))) return [];
      return (await hdfs.listStatus(dir)).map((s) => posix.basename(s.path));
    },
    async remove(p) {
      await hdfs.delete(p, true);
    },
  };
}

export const localStorage: StorageFiles = {
  readFile: (p) => readFile(p),
  async writeAtomically(p, bytes) {
    await mkdir(dirname(p), { recursive: true });
    const tmp = join(dirname(p), `.${p.slice(dirname(p).length + 1)}.${process.pid}.${Date.now()}.tmp`);
    await writeFile(tmp, bytes);
    await rename(tmp, p);
  },
  async list(dir) {
    try {
      return await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  },
  async remove(p) {
    await rm(p, { recursive: true, force: true });
  },
};
