// What `horn submit` prints for cron (issue 12, Build 3 and 6) on the real cluster: --timeout
// leaves the job running and prints its id on stdout (exit 5), as --detach does; a killed job
// exits 3 and is not shown at 100 % by list and status; list has the tracking URL column.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { putMnist } from '../../scripts/put-mnist';
import { testCluster, waitFor } from '../support/cluster';
import { runHorn, startHorn } from '../support/horn-cli';
import { mnistJob } from '../support/jobs';

const cluster = testCluster();
const jobs = mkdtempSync(join(tmpdir(), 'horn-submit-output-it-'));
jest.setTimeout(300_000);
const started: string[] = [];

const longJob = (name: string) => {
  const file = join(jobs, `${name}.yaml`);
  const t10k = { images: 'it-output/t10k-images-idx3-ubyte', labels: 'it-output/t10k-labels-idx1-ubyte' };
  writeFileSync(file, mnistJob({ name, train: t10k, hidden: 16, epochs: 400, output: 'it-output/models/{name}/{appId}' }));
  return file;
};

beforeAll(() => putMnist(cluster.hdfs, `/user/${cluster.user}/it-output`, ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']));
afterAll(async () => {
  for (const id of started) await cluster.rm.killApplication(id).catch(() => undefined);
});

test('--timeout prints the still-running application id on stdout and exits 5; with --json, its status on one line', async () => {
  const text = await runHorn(['submit', longJob('it-timeout'), '--timeout', '5']);
  expect(text.code).toBe(5);
  expect(text.stdout).toMatch(/^application_\d+_\d+\n$/);
  const id = text.stdout.trim();
  started.push(id);
  expect(text.stderr).toMatch(new RegExp(`horn: timed out after 5 s; ${id} is still (ACCEPTED|RUNNING) and keeps running\\n$`));
  expect(['ACCEPTED', 'RUNNING']).toContain((await cluster.rm.getApplication(id)).state);

  const json = await runHorn(['submit', longJob('it-timeout-json'), '--timeout', '5', '--json']);
  expect(json.code).toBe(5);
  expect(json.stdout.split('\n')).toHaveLength(2);
  const status = JSON.parse(json.stdout);
  started.push(status.id);
  expect(status).toMatchObject({ type: 'HORN', name: 'it-timeout-json', finalStatus: 'UNDEFINED' });
  expect(['ACCEPTED', 'RUNNING']).toContain(status.state);
});

test('a killed job: the waiting submit exits 3 saying so; list and status show no 100 %; list has the tracking URL', async () => {
  const run = startHorn(['submit', longJob('it-killed')]);
  const [, id] = await run.waitForStderr(/submitted (application_\d+_\d+)/);
  started.push(id!);
  await waitFor('the job to be running', async () => ((await cluster.rm.getApplication(id!)).state === 'RUNNING' ? true : undefined), 120_000);
  const list = await runHorn(['list']);
  const app = await cluster.rm.getApplication(id!);
  expect(list.stdout.split('\n')[0]).toMatch(/^APPLICATION +STATE +FINAL +PROGRESS +ELAPSED +QUEUE +USER +NAME +TRACKING URL$/);
  expect(list.stdout).toMatch(new RegExp(`^${id} +RUNNING +UNDEFINED +\\d+% +\\S+ +\\S+ +${cluster.user} +it-killed +${app.trackingUrl!.replace(/[.?]/g, '\\$&')}$`, 'm'));

  const kill = await runHorn(['kill', id!]);
  expect(kill).toMatchObject({ code: 0, stdout: `${id} killed\n` });
  const result = await run.done;
  expect(result.code).toBe(3);
  expect(result.stdout).toMatch(new RegExp(`^${id} KILLED/KILLED: [\\d.]+ s elapsed\\n$`));
  expect(result.stderr).toMatch(new RegExp(`\\nhorn: ${id} was killed`));

  const status = JSON.parse((await runHorn(['status', id!, '--json'])).stdout);
  expect(status).toMatchObject({ id, state: 'KILLED', finalStatus: 'KILLED' });
  expect(status).not.toHaveProperty('progress');
  const all = await runHorn(['list', '--all']);
  expect(all.stdout).toMatch(new RegExp(`^${id} +KILLED +KILLED +- +`, 'm'));
  const lines = (await runHorn(['list', '--all', '--json'])).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  expect(lines.find((l) => l.id === id)).toMatchObject({ state: 'KILLED' });
});
