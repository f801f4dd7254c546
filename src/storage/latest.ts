// output.latest: the pointer a serving system reads to find the newest complete model. One line
// of JSON, written beside the pointer and renamed over it in one step (HDFS rename with
// OVERWRITE; rename(2) locally), so the pointer is always whole and always names a model that was
// fully written before it.
import { rename, writeFile, mkdir } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import type { WebHdfsClient } from '../hadoop/webhdfs/client';

export interface LatestPointer {
  readonly model: string;
  readonly applicationId: string;
  readonly testAccuracy?: number;
  readonly finishedAt: string;
}

const text = (p: LatestPointer): string => `${JSON.stringify(p)}\n`;
const temporaryBeside = (path: string, dir: (p: string) => string, base: (p: string) => string): string => `${dir(path)}/.${base(path)}.${process.pid}.${Date.now()}.tmp`;

export async function writeLatestHdfs(hdfs: WebHdfsClient, path: string, pointer: LatestPointer): Promise<void> {
  const tmp = temporaryBeside(path, posix.dirname, posix.basename);
  await hdfs.mkdirs(posix.dirname(path));
  await hdfs.create(tmp, Buffer.from(text(pointer)), { overwrite: true });
  await hdfs.renameReplacing(tmp, path);
}

export async function writeLatestLocal(path: string, pointer: LatestPointer): Promise<void> {
  const tmp = temporaryBeside(path, dirname, (p) => p.slice(dirname(p).length + 1));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(tmp, text(pointer));
  await rename(tmp, path);
}
