// What scripts/demo shows until the MNIST training job exists: the local cluster at work.
import { randomBytes } from 'node:crypto';
import { ResourceManagerClient } from '../src/hadoop/rm-rest/client';
import { WebHdfsClient } from '../src/hadoop/webhdfs/client';

async function main(): Promise<void> {
  const user = process.env.HADOOP_USER_NAME ?? 'root';
  const rm = new ResourceManagerClient({ rmUrls: [process.env.HORN_TEST_RM_URL ?? 'http://master.test:8088'], user });
  const hdfs = new WebHdfsClient({ namenodeUrls: [process.env.HORN_TEST_NN_URL ?? 'http://master.test:9870'], user });

  const info = await rm.clusterInfo();
  console.log(`ResourceManager ${rm.webUrl}: ${info.state}, Hadoop ${info.hadoopVersion}`);
  for (const n of await rm.nodes()) console.log(`  NodeManager ${n.id} ${n.state}, ${n.availMemoryMB} MB free`);

  const path = `/tmp/horn-demo/${Date.now()}.bin`;
  const data = randomBytes(4 * 1024 * 1024 + 1000);
  await hdfs.mkdirs('/tmp/horn-demo');
  await hdfs.create(path, data);
  const back = await hdfs.readFile(path);
  console.log(`WebHDFS: wrote and read back ${path} (${data.length} bytes): ${back.equals(data) ? 'identical' : 'DIFFERENT'}`);
  for (const b of await hdfs.getFileBlockLocations(path)) console.log(`  block at ${b.offset}, ${b.length} bytes on ${b.hosts.join(', ')}`);
  await hdfs.delete('/tmp/horn-demo', true);
  if (!back.equals(data)) process.exit(1);
}

main().catch((err: unknown) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(4);
});
