import { join } from 'node:path';
import { putMnist } from '../../scripts/put-mnist';
import { testCluster } from '../support/cluster';
import { runHorn } from '../support/horn-cli';

// The reference job, as the README's demo runs it: all of MNIST from HDFS, trained on YARN.
const cluster = testCluster();
const REPO = join(__dirname, '..', '..');
jest.setTimeout(20 * 60_000);

test('horn submit examples/mnist.yaml reaches at least 97.5% test accuracy on YARN', async () => {
  await putMnist(cluster.hdfs, `/user/${cluster.user}/mnist`);
  const result = await runHorn(['submit', join(REPO, 'examples', 'mnist.yaml'), '--json']);
  expect(result.code).toBe(0);
  const outcome = JSON.parse(result.stdout);
  expect(outcome.finalStatus).toBe('SUCCEEDED');
  console.log(`MNIST on YARN: test accuracy ${(outcome.result.testAccuracy * 100).toFixed(2)}% in ${outcome.result.seconds.toFixed(0)} s (${Math.round(outcome.result.samplesPerSecond)} samples/s), model ${outcome.result.model}`);
  expect(outcome.result.testAccuracy).toBeGreaterThanOrEqual(0.975);
  const app = await cluster.rm.getApplication(outcome.id);
  expect(app).toMatchObject({ state: 'FINISHED', finalStatus: 'SUCCEEDED', applicationType: 'HORN', progress: 100 });
  expect((await cluster.hdfs.getFileStatus(outcome.result.model)).length).toBeGreaterThan(2_000_000);
});
