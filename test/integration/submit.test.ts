import axios from 'axios';
import { createServer, type Server } from 'node:net';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { putMnist } from '../../scripts/put-mnist';
import { testCluster, waitFor } from '../support/cluster';
import { runHorn, startHorn } from '../support/horn-cli';

// `horn submit` on the real cluster: success, a failing worker, a kill, bad input, and what each
// leaves behind.
const cluster = testCluster();
const jobs = mkdtempSync(join(tmpdir(), 'horn-submit-it-'));
const stagingRoot = `/user/${cluster.user}/.horn/staging`;
jest.setTimeout(300_000);

function job(name: string, body: string): string {
  const file = join(jobs, `${name}.yaml`);
  writeFileSync(file, body);
  return file;
}

const smallJob = (name: string, epochs: number, extra = '') => `name: ${name}
input:
  format: idx
  normalize: byte
  train: { images: it-mnist/t10k-images-idx3-ubyte, labels: it-mnist/t10k-labels-idx1-ubyte }
  test: { images: it-mnist/t10k-images-idx3-ubyte, labels: it-mnist/t10k-labels-idx1-ubyte }
model:
  inputSize: 784
  layers:
    - { size: 64, activation: relu }
    - { size: 10, activation: softmax }
training:
  epochs: ${epochs}
cluster:
  am: { memoryMb: 512, vcores: 1 }
  worker: { memoryMb: 1024, vcores: 1 }
output:
  model: "it-models/{name}/{appId}"
${extra}`;

async function stagingOf(applicationId: string): Promise<boolean> {
  return (await cluster.hdfs.stat(`${stagingRoot}/${applicationId}`)) !== undefined;
}

beforeAll(async () => {
  await putMnist(cluster.hdfs, `/user/${cluster.user}/it-mnist`, ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']);
  await cluster.hdfs.mkdirs(`/user/${cluster.user}/it-bad`);
  await cluster.hdfs.create(`/user/${cluster.user}/it-bad/bad.csv`, Buffer.from('1,0.5,0.5\n0,0.1,0.2\nnot,a,number\n'), { overwrite: true });
});

describe('horn submit', () => {
  test('trains on YARN: exit 0, model in HDFS, RM record, status page through the RM proxy, staging removed', async () => {
    const run = startHorn(['submit', job('ok', smallJob('it-ok', 6)), '--json']);
    const [, applicationId] = await run.waitForStderr(/submitted (application_\d+_\d+)/);
    // While it runs, the tracking URL (the RM proxy) serves the ApplicationMaster's page.
    const page = await waitFor('the status page through the RM proxy', async () => {
      const app = await cluster.rm.getApplication(applicationId!);
      if (app.state !== 'RUNNING' || !app.trackingUrl) return undefined;
      const r = await axios.get<string>(app.trackingUrl, { responseType: 'text', validateStatus: () => true });
      return r.status === 200 && r.data.includes('horn: it-ok') ? { url: app.trackingUrl, html: r.data } : undefined;
    }, 120_000, 250);
    expect(page.url).toContain(`/proxy/${applicationId}`);
    const statusJson = await axios.get(`${page.url.replace(/\/$/, '')}/status.json`).catch(() => undefined);
    if (statusJson) expect(statusJson.data.applicationId).toBe(applicationId);

    const result = await run.done;
    expect(result.stderr).not.toMatch(/horn: .*(failed|error)/i);
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout);
    expect(outcome).toMatchObject({ id: applicationId, state: 'FINISHED', finalStatus: 'SUCCEEDED' });
    expect(outcome.result.testAccuracy).toBeGreaterThan(0.85);
    const model = await cluster.hdfs.getFileStatus(outcome.result.model);
    expect(model.length).toBeGreaterThan(100_000);

    const app = await cluster.rm.getApplication(applicationId!);
    expect(app).toMatchObject({ state: 'FINISHED', finalStatus: 'SUCCEEDED', applicationType: 'HORN', progress: 100 });
    expect(await stagingOf(applicationId!)).toBe(false);

    // After the end, status and logs still answer, for the AM and the worker container.
    const status = await runHorn(['status', applicationId!, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'FINISHED', finalStatus: 'SUCCEEDED' });
    const logs = await runHorn(['logs', applicationId!]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/registered application_\d+_\d+; tracking URL/); // the AM's stdout
    expect(logs.stdout).toMatch(/worker 0 +trained \d+ steps/); // the worker's stdout
  });

  test('a job with a user-written TypeScript neuron trains on YARN (transpiled and staged by the client)', async () => {
    copyFileSync(join(__dirname, '..', '..', 'examples', 'neurons', 'sigmoid-neuron.ts'), join(jobs, 'sigmoid-neuron.ts'));
    const body = smallJob('it-neuron', 1).replace('- { size: 64, activation: relu }', '- { size: 8, activation: sigmoid, neuron: { file: sigmoid-neuron.ts, class: SigmoidNeuron } }');
    const result = await runHorn(['submit', job('neuron', body), '--json']);
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout);
    expect(outcome.finalStatus).toBe('SUCCEEDED');
    expect(outcome.result.testAccuracy).toBeGreaterThan(0.5);
  });

  test('cluster.runtime: ship runs the AM and the worker on the Node.js binary horn ships through the cache', async () => {
    const body = smallJob('it-ship', 1).replace('cluster:\n  am:', 'cluster:\n  runtime: ship\n  am:');
    const result = await runHorn(['submit', job('ship', body), '--json']);
    expect(result.code).toBe(0);
    const { id: applicationId } = JSON.parse(result.stdout);
    const logs = await runHorn(['logs', applicationId]);
    // NodeManagers localize PRIVATE resources under usercache/<user>/filecache/<n>/.
    const shipped = [...logs.stdout.matchAll(/node v\d+\.\d+\.\d+ at (\S+)/g)].map((m) => m[1]);
    expect(shipped.length).toBe(2); // the AM and the worker
    for (const path of shipped) expect(path).toMatch(/\/usercache\/[^/]+\/filecache\/\d+\/node$/);
    const cached = await cluster.hdfs.listStatus(`/user/${cluster.user}/.horn/cache`);
    expect(cached.length).toBeGreaterThanOrEqual(2); // the runtime bundle and the node binary, by content hash
  });

  test('a worker that hangs is declared hung after cluster.timeouts.silenceSeconds: exit 1, never a hang', async () => {
    writeFileSync(join(jobs, 'spin.js'), "const { Neuron } = require('horn');\nclass Spin extends Neuron { forward() { for (;;) {} } backward() {} }\nmodule.exports = { Spin };\n");
    const body = smallJob('it-hang', 1)
      .replace('- { size: 64, activation: relu }', '- { size: 4, activation: sigmoid, neuron: { file: spin.js, class: Spin } }')
      .replace('cluster:\n  am:', 'cluster:\n  timeouts: { silenceSeconds: 5 }\n  am:');
    const result = await runHorn(['submit', job('hang', body), '--json']);
    expect(result.code).toBe(1);
    const outcome = JSON.parse(result.stdout);
    expect(outcome.finalStatus).toBe('FAILED');
    expect(outcome.diagnostics).toMatch(/worker 0 \(container container_\d+_\d+_\d+_\d+ on node\d\.test\) reported nothing for 5 s/);
    expect(await stagingOf(outcome.id)).toBe(false);
  });

  test('a failing worker: exit 1, diagnostics name container, host, exit status and stderr; staging removed', async () => {
    const bad = smallJob('it-bad', 1).replace(/input:[\s\S]*?model:/, `input:
  format: csv
  train: it-bad/bad.csv
  csv: { delimiter: ",", labelColumn: 0, header: false }
model:`).replace('inputSize: 784', 'inputSize: 2');
    const result = await runHorn(['submit', job('bad', bad), '--json']);
    expect(result.code).toBe(1);
    const outcome = JSON.parse(result.stdout);
    expect(outcome.finalStatus).toBe('FAILED');
    const d: string = outcome.diagnostics;
    expect(d).toMatch(/worker 0 \(container container_\d+_\d+_\d+_\d+ on node\d\.test\) failed with exit status 1/);
    expect(d).toMatch(/last lines of stderr:/);
    expect(d).toMatch(/bad\.csv/); // the malformed record's file, from the worker's stderr
    expect(result.stderr).toContain(outcome.id);
    expect(await stagingOf(outcome.id)).toBe(false);
  });

  test('horn kill makes the waiting submit exit 3 and leaves no staging', async () => {
    const run = startHorn(['submit', job('long', smallJob('it-long', 400))]);
    const [, applicationId] = await run.waitForStderr(/submitted (application_\d+_\d+)/);
    await waitFor('the job to be training', async () => {
      const app = await cluster.rm.getApplication(applicationId!);
      return app.state === 'RUNNING' && app.progress > 0 ? app : undefined;
    }, 120_000);
    const kill = await runHorn(['kill', applicationId!]);
    expect(kill.code).toBe(0);
    const result = await run.done;
    expect(result.code).toBe(3);
    expect((await cluster.rm.getApplication(applicationId!)).state).toBe('KILLED');
    await waitFor('staging to be gone', async () => ((await stagingOf(applicationId!)) ? undefined : true), 30_000);
  });
});

describe('horn submit refuses bad input before the cluster hears of it', () => {
  let trap: Server;
  let connections = 0;
  let confDir: string;

  beforeAll(async () => {
    trap = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    const port = (trap.address() as { port: number }).port;
    confDir = mkdtempSync(join(tmpdir(), 'horn-trap-conf-'));
    const xml = (props: Record<string, string>) =>
      `<configuration>${Object.entries(props).map(([k, v]) => `<property><name>${k}</name><value>${v}</value></property>`).join('')}</configuration>`;
    writeFileSync(join(confDir, 'core-site.xml'), xml({ 'fs.defaultFS': `hdfs://127.0.0.1:${port}` }));
    writeFileSync(join(confDir, 'hdfs-site.xml'), xml({ 'dfs.namenode.http-address': `127.0.0.1:${port}` }));
    writeFileSync(join(confDir, 'yarn-site.xml'), xml({ 'yarn.resourcemanager.webapp.address': `127.0.0.1:${port}`, 'yarn.resourcemanager.hostname': '127.0.0.1' }));
  });
  afterAll(() => new Promise<void>((r) => trap.close(() => r())));

  test('a malformed job file exits 2 naming the field and line, with no connection made', async () => {
    const file = job('malformed', smallJob('it-malformed', 1).replace('epochs: 1', 'epochs: -3').replace('size: 64', 'size: sixty-four'));
    const result = await runHorn(['submit', file], { HADOOP_CONF_DIR: confDir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/malformed\.yaml:\d+:\d+: model\.layers\[0\]\.size/);
    expect(result.stderr).toMatch(/malformed\.yaml:\d+:\d+: training\.epochs/);
    expect(connections).toBe(0);
  });

  test('a queue that does not exist and a request above the maximum allocation exit 2, nothing submitted', async () => {
    const before = (await cluster.rm.listApplications({ applicationTypes: ['HORN'] })).length;
    const file = job('preflight', smallJob('it-preflight', 1).replace('worker: { memoryMb: 1024, vcores: 1 }', 'worker: { memoryMb: 999999, vcores: 1 }') + 'queue: nosuchqueue\n');
    const result = await runHorn(['submit', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/queue "nosuchqueue" does not exist/);
    expect(result.stderr).toMatch(/cluster\.worker\.memoryMb is 999999 MB, above the cluster's maximum allocation/);
    expect((await cluster.rm.listApplications({ applicationTypes: ['HORN'] })).length).toBe(before);
  });

  test('an unreachable ResourceManager exits 4 within 30 seconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'horn-norm-conf-'));
    writeFileSync(join(dir, 'core-site.xml'), '<configuration><property><name>fs.defaultFS</name><value>hdfs://127.0.0.1:1</value></property></configuration>');
    writeFileSync(join(dir, 'yarn-site.xml'), '<configuration><property><name>yarn.resourcemanager.webapp.address</name><value>127.0.0.1:1</value></property></configuration>');
    writeFileSync(join(dir, 'hdfs-site.xml'), '<configuration><property><name>dfs.namenode.http-address</name><value>127.0.0.1:1</value></property></configuration>');
    const result = await runHorn(['submit', job('unreachable', smallJob('it-unreachable', 1))], { HADOOP_CONF_DIR: dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/ResourceManager is unreachable/);
    expect(result.ms).toBeLessThan(30_000);
  });
});
