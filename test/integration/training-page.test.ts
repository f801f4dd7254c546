import axios from 'axios';
import { readdirSync, readFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { putMnist } from '../../scripts/put-mnist';
import { TENSORBOARD_TAGS } from '../../src/appmaster/tensorboard';
import { Credentials } from '../../src/hadoop/security';
import { historyFiles, parseResult, parseStatusDocument, type StatusDocument } from '../../src/protocol';
import { chartPoints, launchChromium, openWatched, testOutputDir, waitForChartPoints } from '../support/browser';
import { testCluster, waitFor, waitForEnd } from '../support/cluster';
import { runHorn, startHorn } from '../support/horn-cli';
import { mnistJob } from '../support/jobs';
import { readWithTensorBoard } from '../support/tensorboard-reader';

// Watching a real job: the training page opened in headless Chromium at the application's
// tracking URL (the RM proxy) while it trains; after the end, report.html from `horn report`,
// history.json and the TensorBoard events beside the model, `horn status` with the AM gone, and
// container logs that are JSON lines holding neither the application secret nor any token.
//
// It needs an ApplicationMaster that serves StatusDocument v2 with a recorded history
// (MetricHistory), writes the history files (writeHistoryFiles) and logs through src/common/log.
jest.setTimeout(600_000);
const cluster = testCluster();
const output = testOutputDir('training-page');
const jobs = mkdtempSync(join(tmpdir(), 'horn-page-it-'));
// Long enough (about a minute on this machine) for two looks at the page seconds apart.
const EPOCHS = 40;
let browser: Browser;

const T10K = { images: 'it-mnist/t10k-images-idx3-ubyte', labels: 'it-mnist/t10k-labels-idx1-ubyte' };
const jobFile = join(jobs, 'watched.yaml');
writeFileSync(
  jobFile,
  mnistJob({ name: 'it-watched', train: T10K, test: T10K, hidden: 256, epochs: EPOCHS, output: 'it-models/{name}/{appId}' })
    .replace('- { size: 256, activation: relu }', '- { size: 256, activation: relu }\n    - { size: 256, activation: relu }')
    .replace(`epochs: ${EPOCHS}`, `epochs: ${EPOCHS}\n  batchSize: 8\n  optimizer: { type: momentum, learningRate: 0.01, momentum: 0.9 }`)
    .replace('model: "it-models/{name}/{appId}"', 'model: "it-models/{name}/{appId}"\n  tensorboard: true'),
);

/** The credentials the NodeManagers keep for this application's containers (nmPrivate, kept for debug-delay-sec). */
function containerCredentials(applicationId: string): Credentials[] {
  const data = join(dirname(process.env.HADOOP_CONF_DIR!), 'data');
  const found: Credentials[] = [];
  for (const nm of readdirSync(data).filter((d) => d.startsWith('nm'))) {
    const app = join(data, nm, 'local', 'nmPrivate', applicationId);
    if (!existsSync(app)) continue;
    for (const c of readdirSync(app)) {
      const file = join(app, c, `${c}.tokens`);
      if (existsSync(file)) found.push(Credentials.parse(readFileSync(file), file));
    }
  }
  return found;
}

beforeAll(async () => {
  await putMnist(cluster.hdfs, `/user/${cluster.user}/it-mnist`, ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('a real job, watched', () => {
  let applicationId: string;
  /** The submit's outcome: the later tests wait for it whatever the first one found. */
  let finished: Promise<{ code: number | null; model?: string }> = Promise.reject(new Error('the job was never submitted (see the first failure)'));
  finished.catch(() => undefined);
  const credentials: Credentials[] = [];

  test('the page at the tracking URL (RM proxy) draws growing charts and a row per container, without errors', async () => {
    const run = startHorn(['submit', jobFile, '--json']);
    finished = run.done.then((r) => ({ code: r.code, model: r.code === 0 ? (JSON.parse(r.stdout).result?.model as string | undefined) : undefined }));
    const [, id] = await run.waitForStderr(/submitted (application_\d+_\d+)/);
    applicationId = id!;
    const trackingUrl = await waitFor('the tracking URL of a running job', async () => {
      const app = await cluster.rm.getApplication(applicationId);
      return app.state === 'RUNNING' && app.trackingUrl?.includes('/proxy/') ? app.trackingUrl : undefined;
    }, 180_000, 250);
    expect(trackingUrl).toContain(`/proxy/${applicationId}`);
    credentials.push(...containerCredentials(applicationId));

    // Training must have begun and the AM must record its history for the charts to have points.
    const proxied = `${trackingUrl.replace(/\/?$/, '/')}`;
    const live = await waitFor('status.json (v2, with history.steps) through the RM proxy', async () => {
      const r = await axios.get<StatusDocument>(`${proxied}status.json`, { validateStatus: () => true });
      return r.status === 200 && r.data.version === 2 && (r.data.history?.steps.length ?? 0) > 0 ? r.data : undefined;
    }, 180_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}\nThe ApplicationMaster must serve StatusDocument v2 with history (MetricHistory) at status.json.`);
    });
    expect(live.applicationId).toBe(applicationId);

    const { page, problems } = await openWatched(browser, proxied);
    const first = await waitForChartPoints(page, 'chart-loss', 10, 120_000);
    await page.waitForTimeout(5_000);
    const second = await chartPoints(page, 'chart-loss');
    expect(second).toBeGreaterThan(first);
    const doc = (await axios.get<StatusDocument>(`${proxied}status.json`)).data;
    const rows = await page.$$eval('tr[data-container]', (trs) => trs.map((tr) => tr.getAttribute('data-container')));
    expect(rows.sort()).toEqual(doc.containers.map((c) => `${c.role}-${c.index}`).sort());
    expect(await page.textContent('tr[data-container="worker-0"]')).toMatch(/node\d\.test/);
    await page.screenshot({ path: join(output, 'live.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('after the end: horn report renders the full curves, history.json has every epoch\'s validation, TensorBoard agrees', async () => {
    const result = await finished;
    expect(result.code).toBe(0);
    const model = result.model!;
    const app = await waitForEnd(cluster, applicationId);
    expect(parseResult(app.diagnostics)?.model).toBe(model);
    const files = historyFiles(model);
    const history = parseStatusDocument((await cluster.hdfs.readFile(files.history)).toString('utf8'), files.history);
    expect(history.phase).toBe('succeeded');
    const epochs = history.history!.epochs;
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    for (const e of epochs) expect(e.validationAccuracy).toBeGreaterThanOrEqual(0);
    expect(epochs[epochs.length - 1]!.validationAccuracy).toBeGreaterThan(0.5);

    const reportFile = join(output, 'report.html');
    const report = await runHorn(['report', applicationId, '-o', reportFile]);
    expect(report.code).toBe(0);
    expect(report.stdout.trim()).toBe(reportFile);
    const { page, problems, requests } = await openWatched(browser, pathToFileURL(reportFile).href);
    expect(await chartPoints(page, 'chart-loss')).toBe(history.history!.steps.length);
    expect(await chartPoints(page, 'chart-validation')).toBe(EPOCHS);
    await page.screenshot({ path: join(output, 'report.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests.every((u) => u.startsWith('file:') || u.startsWith('data:'))).toBe(true);
    await page.close();

    const events = await cluster.hdfs.listStatus(files.tensorboard);
    expect(events.map((f) => f.path.split('/').pop())).toEqual([expect.stringMatching(/^events\.out\.tfevents\.\d+\./)]);
    const local = join(mkdtempSync(join(tmpdir(), 'horn-tb-')), events[0]!.path.split('/').pop()!);
    writeFileSync(local, await cluster.hdfs.readFile(`${files.tensorboard}/${events[0]!.path.split('/').pop()}`));
    const read = await readWithTensorBoard(local);
    const validation = read.scalars[TENSORBOARD_TAGS.validationAccuracy]!;
    expect(validation.length).toBe(EPOCHS);
    expect(validation.at(-1)![1]).toBeCloseTo(epochs.at(-1)!.validationAccuracy!, 6);

    const status = await runHorn(['status', applicationId]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`Epochs: +${EPOCHS}`));
    expect(status.stdout).toMatch(/Validation accuracy: +\d+\.\d\d%/);
    expect(status.stdout).toMatch(/Samples\/s: +\d+/);
  });

  test('container logs are JSON lines with role and container id, holding neither the secret nor a token', async () => {
    await finished.catch(() => undefined);
    expect(applicationId).toMatch(/^application_/);
    // The worker's credentials appear once it is launched: look again (the NM keeps them for debug-delay-sec).
    if (credentials.length < 2) credentials.splice(0, credentials.length, ...containerCredentials(applicationId));
    expect(credentials.length).toBeGreaterThanOrEqual(2); // the AM's and the worker's
    const raw = await runHorn(['logs', applicationId, '--raw', '--file', 'all']);
    expect(raw.code).toBe(0);
    const secrets: Buffer[] = [];
    for (const c of credentials) {
      for (const s of c.secrets.values()) secrets.push(Buffer.from(s));
      for (const t of c.tokens.values()) secrets.push(Buffer.from(t.password));
    }
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    const text = raw.stdout;
    for (const s of secrets.filter((x) => x.length >= 8)) {
      for (const form of [s.toString('base64'), s.toString('base64url'), s.toString('hex'), s.toString('latin1')]) expect(text.includes(form)).toBe(false);
    }
    const records = raw.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const roles = new Set(records.map((r) => r.role));
    expect(roles).toEqual(new Set(['am', 'worker']));
    for (const r of records) expect(r).toMatchObject({ level: expect.any(String), time: expect.any(String), msg: expect.any(String), applicationId, containerId: expect.stringMatching(/^container_/) });

    const readable = await runHorn(['logs', applicationId]);
    expect(readable.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  (am|worker)/m);
  });
});
