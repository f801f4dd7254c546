import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { checkpointClocks, checkpointDir, fileEntry, jobHash, latestCheckpoint, MANIFEST } from '../../../src/storage/checkpoints';
import { localStorage } from '../../../src/storage/files';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { limitsOf } from '../../../src/coordinator/coordinator';
import { runLocalJob } from '../../../src/coordinator/local';
import { datasetFor } from '../../../src/job/dataset';
import { parseJobText } from '../../../src/job/load';
import { readFileSync } from 'node:fs';
import { STAGED_JOB_VERSION, type StagedJob } from '../../../src/protocol';

// The distributed path in local mode: the real coordinator, workers and parameter servers as
// processes on this machine (dist/horn-runtime.js, built by the test command before the tests).
const root = join(__dirname, '../../..');
const bundle = join(root, 'dist', 'horn-runtime.js');
const dir = mkdtempSync(join(tmpdir(), 'horn-local-mode-'));
jest.setTimeout(120_000);

/** Two noisy Gaussian classes in `features` features, as CSV part files. */
function writeData(records: number, parts: number, features = 8): string {
  let seed = 3;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const data = join(dir, `data-${records}-${parts}-${features}`);
  require('node:fs').mkdirSync(data, { recursive: true });
  for (let p = 0; p < parts; p++) {
    const lines: string[] = [];
    for (let i = 0; i < records / parts; i++) {
      const label = (i + p) % 2;
      lines.push([label, ...Array.from({ length: features }, () => (label + 2 * rand() - 0.5).toFixed(4))].join(','));
    }
    writeFileSync(join(data, `part-${String(p).padStart(5, '0')}`), `${lines.join('\n')}\n`);
  }
  writeFileSync(join(data, '_SUCCESS'), '');
  return data;
}

function job(name: string, yaml: string): StagedJob {
  const defaults = { file: 'job-defaults.yaml', text: readFileSync(join(root, 'conf/job-defaults.yaml'), 'utf8') };
  const r = parseJobText({ file: `${name}.yaml`, text: `name: ${name}\n${yaml}` }, defaults);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const mode = { kind: 'local', baseDir: dir } as const;
  const train = datasetFor(r.spec, 'train', mode);
  return {
    version: STAGED_JOB_VERSION,
    applicationId: `local-${name}`,
    user: 'test',
    spec: r.spec,
    storage: 'local',
    train: train.dataset,
    test: datasetFor(r.spec, 'test', mode).dataset,
    readOptions: train.options,
    outputModel: join(dir, `${name}.model`),
    userFiles: {},
    submittedAt: Date.now(),
  };
}

const model = (data: string) => `input:\n  format: csv\n  train: ${data}\n  test: ${data}/part-00000\nmodel:\n  inputSize: 8\n  layers:\n    - { size: 16, activation: relu }\n    - { size: 2, activation: softmax }\n`;

beforeAll(() => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build (scripts/test-all does) before the unit tests`);
});

test('4 workers in 2 groups with 2 servers under ssp: trained, evaluated, saved; groups bit-identical; staleness within the bound', async () => {
  const data = writeData(3999, 3);
  const j = job('ssp', `${model(data)}training: { epochs: 3, batchSize: 16, consistency: ssp, staleness: 1 }\ncluster:\n  workers: 4\n  groups: 2\n  parameterServers: { count: 2, memoryMb: 256 }\n  worker: { memoryMb: 256, vcores: 1 }\n`);
  const outcome = await runLocalJob({ job: j, files: [], runtimeBundle: bundle, limits: { ...limitsOf(j), silenceMs: 60_000 }, log: () => undefined });
  expect(outcome.diagnostics).toMatch(/^trained ssp: test accuracy/);
  expect(outcome.succeeded).toBe(true);
  const r = outcome.result!;
  expect(r.testAccuracy).toBeGreaterThan(0.8);
  expect(existsSync(j.outputModel)).toBe(true);
  expect(r.staleness!.max).toBeLessThanOrEqual(1);
  const workers = r.containers!.filter((c) => c.role === 'worker');
  expect(workers.map((w) => w.records).reduce((a, b) => a! + b!, 0)).toBe(3999); // every record once, _SUCCESS skipped
  expect(new Set(workers.map((w) => w.clock)).size).toBe(1); // equal steps for every worker
  // Everyone evaluates the servers' final weights, pulled once every group has finished.
  expect(new Set(workers.map((w) => w.checksum)).size).toBe(1);
  const servers = r.containers!.filter((c) => c.role === 'server');
  expect(servers.map((s) => s.updates)).toEqual([2 * workers[0]!.clock!, 2 * workers[0]!.clock!]); // one update per group and clock
  expect(outcome.status.snapshot().history!.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
  expect(outcome.status.snapshot().history!.epochs.every((e) => e.validationAccuracy !== undefined)).toBe(true);
});

test('all-reduce (no servers) and bsp: members bit-identical, one update per clock', async () => {
  const data = writeData(2000, 2);
  const j = job('ar', `${model(data)}training: { epochs: 2, batchSize: 16 }\ncluster:\n  workers: 3\n  worker: { memoryMb: 256, vcores: 1 }\n`);
  const outcome = await runLocalJob({ job: j, files: [], runtimeBundle: bundle, limits: limitsOf(j), log: () => undefined });
  expect(outcome.succeeded).toBe(true);
  const workers = outcome.result!.containers!.filter((c) => c.role === 'worker');
  expect(new Set(workers.map((w) => w.checksum)).size).toBe(1);
  expect(outcome.result!.testAccuracy).toBeGreaterThan(0.8);
});

test('a worker that fails mid-training is replaced: its group pauses and goes on, the job succeeds with the failure on record', async () => {
  const data = writeData(2000, 2);
  const j = job('replace', `${model(data)}training: { epochs: 6, batchSize: 16 }\ncluster:\n  workers: 2\n  parameterServers: { count: 1, memoryMb: 256 }\n  worker: { memoryMb: 256, vcores: 1 }\n`);
  process.env.HORN_TEST_FAIL_AT = '1:30';
  const lines: string[] = [];
  try {
    const outcome = await runLocalJob({ job: j, files: [], runtimeBundle: bundle, limits: limitsOf(j), log: (m) => lines.push(m) });
    expect(outcome.diagnostics).toMatch(/^trained replace/);
    expect(outcome.succeeded).toBe(true);
    const replaced = lines.find((l) => l.includes('replacing worker 1'));
    expect(replaced).toMatch(/^worker 1 \(container local-worker-1 on localhost\) failed with exit status 1 \(exit code 1\).*; replacing worker 1 \(restart 1 of 2\); group 0 pauses$/);
    expect(lines.some((l) => /^group 0 rebuilt after [\d.]+ s; it goes on from clock \d+/.test(l))).toBe(true);
    const w1 = outcome.result!.containers!.find((c) => c.role === 'worker' && c.index === 1)!;
    expect(w1).toMatchObject({ attempt: 1, restarts: 1, state: 'finished' });
    const workers = outcome.result!.containers!.filter((c) => c.role === 'worker');
    expect(workers[0]!.checksum).toBe(workers[1]!.checksum);
    expect(outcome.result!.testAccuracy).toBeGreaterThan(0.8);
  } finally {
    delete process.env.HORN_TEST_FAIL_AT;
  }
});

test('without servers, a replaced member takes a survivor\'s whole state and the group stays bit-identical', async () => {
  const data = writeData(3000, 3);
  const j = job('donor', `${model(data)}training: { epochs: 4, batchSize: 16 }\ncluster:\n  workers: 3\n  worker: { memoryMb: 256, vcores: 1 }\n`);
  process.env.HORN_TEST_FAIL_AT = '2:40';
  try {
    const outcome = await runLocalJob({ job: j, files: [], runtimeBundle: bundle, limits: limitsOf(j), log: () => undefined });
    expect(outcome.succeeded).toBe(true);
    const workers = outcome.result!.containers!.filter((c) => c.role === 'worker');
    expect(workers[2]!.restarts).toBe(1);
    expect(new Set(workers.map((w) => w.checksum)).size).toBe(1);
  } finally {
    delete process.env.HORN_TEST_FAIL_AT;
  }
});

test('under ssp, a group rebuilding itself does not stop the other group', async () => {
  const data = writeData(4000, 2);
  const j = job('ssp-replace', `${model(data)}training: { epochs: 6, batchSize: 16, consistency: ssp, staleness: 1 }\ncluster:\n  workers: 4\n  groups: 2\n  parameterServers: { count: 1, memoryMb: 256 }\n  worker: { memoryMb: 256, vcores: 1 }\n`);
  process.env.HORN_TEST_FAIL_AT = '3:20';
  const lines: string[] = [];
  try {
    const outcome = await runLocalJob({ job: j, files: [], runtimeBundle: bundle, limits: limitsOf(j), log: (m) => lines.push(m) });
    expect(outcome.succeeded).toBe(true);
    expect(lines.find((l) => l.includes('replacing worker 3'))).toMatch(/group 1 pauses, the other groups go on$/);
    expect(outcome.result!.testAccuracy).toBeGreaterThan(0.8);
  } finally {
    delete process.env.HORN_TEST_FAIL_AT;
  }
});

test('a worker that fails on every start: the job fails after the last allowed restart, listing every attempt; nothing is left running', async () => {
  const data = writeData(2000, 2);
  const j = job('always', `${model(data)}training: { epochs: 2, batchSize: 16 }\ncluster:\n  workers: 2\n  worker: { memoryMb: 256, vcores: 1 }\n  maxRestarts: { worker: 2, server: 1 }\n`);
  process.env.HORN_TEST_FAIL_START = '1';
  let pids: () => Map<string, number> = () => new Map();
  const started = Date.now();
  try {
    const outcome = await runLocalJob({ job: j, files: [], runtimeBundle: bundle, limits: limitsOf(j), log: () => undefined }, (p) => (pids = p));
    expect(outcome.succeeded).toBe(false);
    expect(outcome.diagnostics).toMatch(/^worker 1 \(container local-worker-1-2 on localhost\) failed with exit status 1 \(exit code 1\): test hook HORN_TEST_FAIL_START/);
    expect(outcome.diagnostics).toMatch(/\(worker 1 failed 3 times; cluster.maxRestarts.worker is 2\)/);
    expect(outcome.diagnostics.match(/^ {2}- worker 1 \(container local-worker-1(-1)? on localhost\) failed/gm)?.length).toBe(2);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(pids().size).toBe(0);
  } finally {
    delete process.env.HORN_TEST_FAIL_START;
  }
});

test('without restarts, a worker killed with SIGKILL fails the job, named as the cause, not the neighbours that lost it', async () => {
  const data = writeData(2000, 2);
  const j = job('killed', `${model(data)}training: { epochs: 5000, batchSize: 16 }\ncluster:\n  workers: 3\n  worker: { memoryMb: 256, vcores: 1 }\n  maxRestarts: { worker: 0, server: 0 }\n`);
  let pids: () => Map<string, number> = () => new Map();
  const run = runLocalJob({ job: j, files: [], runtimeBundle: bundle, limits: limitsOf(j), log: () => undefined }, (p) => (pids = p));
  await new Promise((r) => setTimeout(r, 4_000));
  const victim = pids().get('worker-1');
  expect(victim).toBeGreaterThan(0);
  process.kill(victim!, 'SIGKILL');
  const killedAt = Date.now();
  const outcome = await run;
  expect(outcome.succeeded).toBe(false);
  expect(outcome.diagnostics).toMatch(/^worker 1 \(container local-worker-1 on localhost\) failed with exit status 137 \(killed by signal 9\)/);
  expect(Date.now() - killedAt).toBeLessThan(10_000);
});

describe('checkpoints', () => {
  const root = join(dir, 'checkpoints');
  const withRoot = (j: StagedJob, name: string): StagedJob => ({ ...j, checkpointRoot: join(root, name) });

  test('every epoch, consistent across shards and workers, manifest last; the newest `keep` kept', async () => {
    const data = writeData(2000, 2);
    const j = withRoot(job('ckpt', `${model(data)}training: { epochs: 4, batchSize: 16, consistency: ssp, staleness: 1, checkpoint: { everyEpochs: 1, keep: 2 } }\ncluster:\n  workers: 4\n  groups: 2\n  parameterServers: { count: 2, memoryMb: 256 }\n  worker: { memoryMb: 256, vcores: 1 }\n`), 'ckpt');
    const outcome = await runLocalJob({ job: j, files: [], runtimeBundle: bundle, limits: limitsOf(j), log: () => undefined });
    expect(outcome.succeeded).toBe(true);
    const K = outcome.result!.containers!.find((c) => c.role === 'worker')!.clock! / 4;
    expect(await checkpointClocks(localStorage, j.checkpointRoot!)).toEqual([3 * K, 2 * K]);
    const latest = await latestCheckpoint(localStorage, j.checkpointRoot!, jobHash(j.spec), () => undefined);
    expect(latest).toMatchObject({ clock: 3 * K, epoch: 3 });
    expect(latest!.files.map((f) => f.name)).toEqual(['server-0', 'server-1', 'worker-0', 'worker-1', 'worker-2', 'worker-3']);
    expect(outcome.result!.checkpoint).toMatchObject({ clock: 3 * K, files: 6 });
  });

  test('a corrupt or truncated checkpoint is skipped for the one before, with a warning; one without its manifest does not exist', async () => {
    const r = join(root, 'ckpt');
    const [newest, older] = await checkpointClocks(localStorage, r);
    const file = join(checkpointDir(r, newest!), 'server-1');
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);
    const warnings: string[] = [];
    const hash = (await latestCheckpoint(localStorage, r, 'x', () => undefined)) === undefined ? undefined : 'unexpected';
    expect(hash).toBeUndefined(); // another job's hash matches nothing
    const picked = await latestCheckpoint(localStorage, r, JSON.parse(readFileSync(join(checkpointDir(r, older!), MANIFEST), 'utf8')).jobHash, (w) => warnings.push(w));
    expect(picked!.clock).toBe(older);
    expect(warnings).toEqual([`skipping the checkpoint at clock ${newest}: server-1 has CRC-32 ${fileEntry('server-1', bytes).crc32}, the manifest says ${JSON.parse(readFileSync(join(checkpointDir(r, newest!), MANIFEST), 'utf8')).files.find((f: { name: string }) => f.name === 'server-1').crc32}`]);
    writeFileSync(join(checkpointDir(r, older!), 'worker-2'), readFileSync(join(checkpointDir(r, older!), 'worker-2')).subarray(0, 100));
    rmSync(join(checkpointDir(r, newest!), MANIFEST));
    const none: string[] = [];
    expect(await latestCheckpoint(localStorage, r, picked!.jobHash, (w) => none.push(w))).toBeUndefined();
    expect(none[0]).toMatch(/no valid manifest/);
    expect(none[1]).toMatch(/worker-2 has 100 bytes, the manifest says \d+/);
  });

  test('a lost parameter server rolls every shard and worker back to the last checkpoint; the job succeeds', async () => {
    const data = writeData(2000, 2);
    const j = withRoot(job('rollback', `${model(data)}training: { epochs: 8, batchSize: 16, checkpoint: { everyEpochs: 1, keep: 2 } }\ncluster:\n  workers: 2\n  parameterServers: { count: 2, memoryMb: 256 }\n  worker: { memoryMb: 256, vcores: 1 }\n`), 'rollback');
    let pids: () => Map<string, number> = () => new Map();
    const lines: string[] = [];
    const run = runLocalJob({ job: j, files: [], runtimeBundle: bundle, limits: limitsOf(j), log: (m) => lines.push(m) }, (p) => (pids = p));
    await waitForLine(lines, /^checkpoint at clock \d+ \(epoch 2\) complete/, 60_000);
    process.kill(pids().get('server-1')!, 'SIGKILL');
    const outcome = await run;
    expect(outcome.diagnostics).toMatch(/^trained rollback/);
    const rolled = lines.find((l) => l.startsWith('server 1 is lost'));
    expect(rolled).toMatch(/^server 1 is lost: rolling every shard and worker back to the checkpoint at clock \d+$/);
    expect(lines.some((l) => /^rolled back to clock \d+ in [\d.]+ s; training goes on$/.test(l))).toBe(true);
    expect(outcome.result!.rollbacks).toHaveLength(1);
    expect(outcome.result!.testAccuracy).toBeGreaterThan(0.8);
  });

  test('a restarted coordinator resumes from the newest complete checkpoint and finishes the run', async () => {
    const data = writeData(2000, 2);
    const spec = `${model(data)}training: { epochs: 3, batchSize: 16, checkpoint: { everyEpochs: 1, keep: 2 } }\ncluster:\n  workers: 2\n  parameterServers: { count: 1, memoryMb: 256 }\n  worker: { memoryMb: 256, vcores: 1 }\n`;
    const first = withRoot(job('resume', spec), 'resume');
    expect((await runLocalJob({ job: first, files: [], runtimeBundle: bundle, limits: limitsOf(first), log: () => undefined })).succeeded).toBe(true);
    const latest = await latestCheckpoint(localStorage, first.checkpointRoot!, jobHash(first.spec), () => undefined);
    const lines: string[] = [];
    const again = await runLocalJob({ job: { ...first, outputModel: `${first.outputModel}.2` }, files: [], runtimeBundle: bundle, limits: limitsOf(first), log: (m) => lines.push(m), resumeFrom: latest });
    expect(again.succeeded).toBe(true);
    expect(lines.some((l) => l.startsWith(`resuming from the checkpoint at clock ${latest!.clock} (epoch 2)`))).toBe(true);
    // It trained only the last epoch.
    const w = again.result!.containers!.find((c) => c.role === 'worker')!;
    expect(w.clock).toBe((latest!.clock * 3) / 2);
  });
});

async function waitForLine(lines: string[], pattern: RegExp, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!lines.some((l) => pattern.test(l))) {
    if (Date.now() > deadline) throw new Error(`no log line matched ${pattern} within ${ms} ms; lines:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a member 3× slower than its group gets a smaller batch: the group steps within 1.5× of its fault-free pace, and evens out when the member is fast again', async () => {
  const data = writeData(16000, 2, 96);
  const wide = `input:\n  format: csv\n  train: ${data}\n  test: ${data}/part-00000\nmodel:\n  inputSize: 96\n  layers:\n    - { size: 512, activation: relu }\n    - { size: 512, activation: relu }\n    - { size: 2, activation: softmax }\n`;
  const epochs = 9;
  const spec = `${wide}training: { epochs: ${epochs}, batchSize: 64 }\ncluster:\n  workers: 2\n  worker: { memoryMb: 512, vcores: 1 }\n`;
  const fair = job('even', spec);
  const even = await runLocalJob({ job: fair, files: [], runtimeBundle: bundle, limits: limitsOf(fair), log: () => undefined });
  // Slowed in epochs 3 to 7 (126 steps an epoch: the larger of the two byte-range splits); the fault-free pace is the
  // mean of epochs 2 and 9 of the same job, before and after (a machine's speed drifts between jobs).
  const steps = 126;
  process.env.HORN_TEST_SLOW_STEP = `1:3:${2 * steps}:${7 * steps}`;
  try {
    // This host's speed moved one job's fault-free epochs up to 2.9× apart (4.34 and 12.46 ms, in a
    // full unit run), so a measurement whose references disagree by more than 1.2×, or whose balanced
    // step is over the bound, is taken once more (as on the cluster): the second counts, whatever
    // it shows. A balancer that does not hold the bound fails both.
    const measure = async (attempt: number) => {
      const slowJob = job(`straggler-${attempt}`, spec);
      const lines: string[] = [];
      const slow = await runLocalJob({ job: slowJob, files: [], runtimeBundle: bundle, limits: limitsOf(slowJob), log: (m) => lines.push(m) });
      expect(slow.succeeded).toBe(true);
      expect(slow.status.snapshot().clocks).toBe(epochs * steps);
      const step = (e: number) => slow.status.snapshot().history!.epochs.find((p) => p.epoch === e)!.stepMs!;
      const ratio = step(7) / ((step(2) + step(9)) / 2);
      const plans = lines.filter((l) => l.includes('their batches are'));
      console.log(`straggler, measurement ${attempt}: ${plans.join('; ')}; median step of epoch 7 ${step(7).toFixed(2)} ms against epochs 2 and 9's ${step(2).toFixed(2)} and ${step(9).toFixed(2)} ms (${ratio.toFixed(2)}×); accuracy ${slow.result!.testAccuracy} vs ${even.result!.testAccuracy}`);
      const evenedOut = plans.some((l) => Number(/from clock (\d+)/.exec(l)![1]) > 7 * steps && / their batches are 64, 64$/.test(l));
      return { slow, plans, ratio, evenedOut, drift: Math.max(step(2), step(9)) / Math.min(step(2), step(9)) };
    };
    let measured = await measure(1);
    // Also when the split did not even out in the last two epochs: a slow spell of the host after
    // epoch 7 looks to the balancer like the straggler still being slow (seen once in a full unit run).
    if (measured.drift > 1.2 || measured.ratio > 1.5 || !measured.evenedOut) measured = await measure(2);
    const { slow, plans, ratio } = measured;
    const during = plans
      .map((l) => /^group 0: members compute .* per sample and step in .*; from clock (\d+) their batches are (\d+), (\d+)$/.exec(l))
      .filter((m) => m !== null && Number(m[1]) > 2 * steps && Number(m[1]) <= 7 * steps)
      .map((m) => [Number(m![2]), Number(m![3])] as const);
    expect(during.length).toBeGreaterThan(0);
    // The fast member takes more than the job's batch of 64 (at most 1.2×), the straggler far less.
    expect(during[0]![0]).toBeGreaterThan(64);
    expect(during[0]![1]).toBeLessThan(64);
    expect(Math.max(...during.flat())).toBeLessThanOrEqual(77);
    expect(Math.min(...during.map(([, straggler]) => straggler))).toBeLessThan(32);
    // Fast again, it gets the job's batch back.
    expect(measured.evenedOut).toBe(true);
    // Unbalanced, the group would step at the straggler's pace (about 3×); the 1.2× bound is checked on the cluster.
    expect(ratio).toBeLessThanOrEqual(1.5);
    expect(Math.abs(slow.result!.testAccuracy! - even.result!.testAccuracy!)).toBeLessThanOrEqual(0.02);
  } finally {
    delete process.env.HORN_TEST_SLOW_STEP;
  }
}, 240_000);
