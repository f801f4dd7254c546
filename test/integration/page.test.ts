import type { Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { writeHistoryFiles } from '../../src/appmaster/history-files';
import { startStatusServer } from '../../src/appmaster/http';
import { decodeEventFile, TENSORBOARD_TAGS } from '../../src/appmaster/tensorboard';
import { parseStatusDocument } from '../../src/protocol';
import { chartPoints, launchChromium, openWatched, testOutputDir, waitForChartPoints } from '../support/browser';
import { testCluster } from '../support/cluster';
import { syntheticRun } from '../support/synthetic-status';
import { readWithTensorBoard } from '../support/tensorboard-reader';

// The training page in a real headless Chromium, served by the AM's real web server from a status
// provider whose run moves with the clock (6 workers in 3 groups, 2 servers, a growing history);
// then its frozen report and TensorBoard file written to the real HDFS and read back.
jest.setTimeout(180_000);
const cluster = testCluster();
const output = testOutputDir('page');
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the live training page', () => {
  let server: Server;
  const run = syntheticRun({ stepsPerSecond: 4 });
  afterAll(() => new Promise((r) => server?.close(r)));

  test('charts grow in place from status.json, a row per container, nothing fails', async () => {
    const started = await startStatusServer(run.status, '127.0.0.1');
    server = started.server;
    // The RM proxy serves the page under a path with a trailing slash: so does this test.
    const { page, problems, requests } = await openWatched(browser, `http://127.0.0.1:${started.port}/`);
    const first = await waitForChartPoints(page, 'chart-loss', 10, 20_000);
    await page.waitForTimeout(3_000);
    const second = await chartPoints(page, 'chart-loss');
    expect(second).toBeGreaterThan(first);
    expect(await page.evaluate('performance.getEntriesByType("navigation").length')).toBe(1); // no reload
    for (const id of ['chart-accuracy', 'chart-learning-rate', 'chart-throughput']) expect(await chartPoints(page, id)).toBeGreaterThanOrEqual(10);

    const doc = run.status();
    const rows = await page.$$eval('tr[data-container]', (trs) => trs.map((tr) => tr.getAttribute('data-container')));
    expect(rows.sort()).toEqual(doc.containers.map((c) => `${c.role}-${c.index}`).sort());
    expect(await page.$$eval('#workers tbody tr', (t) => t.length)).toBe(6);
    expect(await page.$$eval('#servers tbody tr', (t) => t.length)).toBe(2);
    expect(await page.$$eval('#groups tbody tr', (t) => t.length)).toBe(3);
    const worker5 = await page.textContent('tr[data-container="worker-5"]');
    expect(worker5).toContain('node3.test');
    expect(worker5).toContain('off-switch');
    expect(await page.$$eval('tr[data-container="worker-0"] .shares span', (s) => s.map((x) => (x as unknown as { style: { width: string } }).style.width))).toEqual(['70%', '20%', '5%']);
    expect(await page.textContent('tr[data-container="server-1"]')).toMatch(/25,445 – 50,890/);
    expect(await page.textContent('tr[data-container="worker-3"]')).toContain('exceeded physical memory');
    expect(await page.textContent('#waiting')).toMatch(/waiting for worker 5 \(group 2\)/);
    expect(await page.textContent('#title')).toBe('horn: synthetic-<run>');

    await page.screenshot({ path: join(output, 'live.png'), fullPage: true });
    expect(problems).toEqual([]);
    const hosts = new Set(requests.map((u) => new URL(u).host));
    expect([...hosts]).toEqual([`127.0.0.1:${started.port}`]); // no external assets
    await page.close();
  });
});

describe('after the job: history files in HDFS', () => {
  const run = syntheticRun();
  const final = run.finished();
  const model = `/user/${cluster.user}/it-page/models/synthetic`;
  let written: Awaited<ReturnType<typeof writeHistoryFiles>>;

  beforeAll(async () => {
    await cluster.hdfs.delete(`/user/${cluster.user}/it-page`, true);
    await cluster.hdfs.mkdirs(`/user/${cluster.user}/it-page/models`);
    written = await writeHistoryFiles(cluster.hdfs, model, final, { tensorboard: true, host: 'it.test' });
  });

  test('report.html from HDFS renders from a file with the full curves, no request leaves it', async () => {
    const html = await cluster.hdfs.readFile(written.report);
    const file = join(mkdtempSync(join(tmpdir(), 'horn-report-')), 'report.html');
    writeFileSync(file, html);
    const { page, problems, requests } = await openWatched(browser, pathToFileURL(file).href);
    expect(await page.getAttribute('body', 'data-mode')).toBe('report');
    expect(await chartPoints(page, 'chart-loss')).toBe(final.history!.steps.length);
    expect(await chartPoints(page, 'chart-validation')).toBe(8);
    expect(await page.$$eval('tr[data-container]', (t) => t.length)).toBe(final.containers.length);
    expect(await page.textContent('[data-field="test accuracy"]')).toMatch(/^\d+\.\d\d %$/);
    await page.screenshot({ path: join(output, 'report.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests.every((u) => u.startsWith('file:') || u.startsWith('data:'))).toBe(true);
    await page.close();
  });

  test('history.json holds every epoch; TensorBoard\'s reader finds the same epochs and final validation accuracy', async () => {
    const history = parseStatusDocument((await cluster.hdfs.readFile(written.history)).toString('utf8'), written.history);
    expect(history.history!.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(history.history!.epochs.every((e) => typeof e.validationAccuracy === 'number')).toBe(true);

    const local = join(mkdtempSync(join(tmpdir(), 'horn-tb-')), written.tensorboard!.split('/').pop()!);
    const bytes = await cluster.hdfs.readFile(written.tensorboard!);
    writeFileSync(local, bytes);
    const read = await readWithTensorBoard(local);
    expect(read.records).toBe(1 + decodeEventFile(bytes).scalars.length); // every record's CRCs accepted
    const validation = read.scalars[TENSORBOARD_TAGS.validationAccuracy]!;
    const epochs = history.history!.epochs;
    expect(validation.map(([step]) => step)).toEqual(epochs.map((e) => e.epoch));
    expect(validation.at(-1)![1]).toBeCloseTo(epochs.at(-1)!.validationAccuracy!, 6);
    expect(read.scalars[TENSORBOARD_TAGS.loss]!.length).toBe(history.history!.steps.length);
    for (const tag of Object.values(TENSORBOARD_TAGS).filter((t) => t !== TENSORBOARD_TAGS.validationLoss || epochs[0]!.validationLoss !== undefined)) expect(read.scalars[tag]?.length).toBeGreaterThan(0);
  });
});
