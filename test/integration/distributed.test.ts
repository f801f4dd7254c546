import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { putMnist } from '../../scripts/put-mnist';
import { testCluster, waitFor } from '../support/cluster';
import { containerProcesses, example, pct, submitWatched, workersOf, writeJob as writeDistJob, type Job, type Outcome } from '../support/distributed';
import { runHorn, startHorn } from '../support/horn-cli';

// Distributed training on the real cluster: the example job (4 workers in 2 groups, 2 parameter
// servers) under ssp, bsp and asp; all-reduce against local training; fp16 on the wire; uneven
// splits; a killed worker; and refusals before submission.
const cluster = testCluster();
const dir = mkdtempSync(join(tmpdir(), 'horn-dist-it-'));
jest.setTimeout(20 * 60_000);

const writeJob = (name: string, job: Job) => writeDistJob(dir, name, job);
const submit = (file: string, env: NodeJS.ProcessEnv = {}) => submitWatched(cluster, file, env);
const workers = workersOf;

beforeAll(async () => {
  await putMnist(cluster.hdfs, `/user/${cluster.user}/mnist`);
});

describe('the distributed example: 4 workers in 2 groups, 2 parameter servers', () => {
  test('ssp (staleness 2): ≥ 98.0 %, node-local splits on the hosts YARN names, staleness within the bound, groups bit-identical', async () => {
    const { code, outcome, placed } = await submit(writeJob('it-dist-ssp', example()));
    expect(code).toBe(0);
    const r = outcome.result!;
    console.log(`ssp: test accuracy ${pct(r.testAccuracy)}, ${r.seconds.toFixed(0)} s of training, ${Math.round(r.samplesPerSecond)} samples/s, staleness max ${r.staleness?.max} mean ${r.staleness?.mean.toFixed(2)}, node-local ${pct(r.bytes.local / (r.bytes.local + r.bytes.remote))}`);
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0.98);
    // Locality: every worker ran node-local, on the host YARN says, and ≥ 90 % of the bytes were read node-locally.
    for (const w of workers(outcome)) {
      expect(w.locality).toBe('node-local');
      expect(placed.get(w.containerId!)).toBe(w.host);
      expect(w.bytesLocal! + w.bytesRemote!).toBeGreaterThan(10_000_000); // its own quarter, not the whole set
      expect(w.bytesLocal! + w.bytesRemote!).toBeLessThan(15_000_000);
    }
    expect(r.bytes.local / (r.bytes.local + r.bytes.remote)).toBeGreaterThanOrEqual(0.9);
    expect(r.containers.filter((c) => c.role === 'server').every((s) => placed.has(s.containerId!))).toBe(true);
    // SSP: what the cluster observed stays within the bound (and staleness did occur).
    expect(r.staleness!.max).toBeLessThanOrEqual(2);
    expect(r.staleness!.mean).toBeGreaterThan(0);
    // Members of a group hold the same parameters at the end.
    for (const g of [0, 1]) {
      const sums = workers(outcome).filter((w) => w.group === g).map((w) => w.checksum);
      expect(sums.length).toBe(2);
      expect(sums[0]).toBe(sums[1]);
    }
  });

  for (const mode of ['bsp', 'asp'] as const) {
    test(`${mode}: the same job exits 0 with ≥ 97.5 %`, async () => {
      const job = example();
      job.training.consistency = mode;
      delete job.training.staleness;
      const { code, outcome } = await submit(writeJob(`it-dist-${mode}`, job));
      expect(code).toBe(0);
      const r = outcome.result!;
      console.log(`${mode}: test accuracy ${pct(r.testAccuracy)}, ${r.seconds.toFixed(0)} s of training, staleness max ${r.staleness?.max}`);
      expect(r.testAccuracy).toBeGreaterThanOrEqual(0.975);
      if (mode === 'bsp') expect(r.staleness!.max).toBe(0);
    });
  }
});

describe('synchronous all-reduce (2 workers, 1 group, no servers)', () => {
  const recipe = (): Job => {
    const job = example();
    job.training.epochs = 3;
    job.training.consistency = 'bsp';
    delete job.training.staleness;
    job.cluster.workers = 2;
    job.cluster.groups = 1;
    job.cluster.parameterServers = { count: 0 };
    return job;
  };
  let fp32: Outcome;

  test('per-worker batch 64 is within 0.3 points of horn train --local with batch 128 at equal epochs', async () => {
    const local = recipe();
    local.training.batchSize = 128;
    local.cluster.workers = 1;
    const here = await runHorn(['train', '--local', writeJob('it-ar-local', local), '-o', join(dir, 'local.model'), '--json']);
    expect(here.code).toBe(0);
    const localAccuracy = JSON.parse(here.stdout).testAccuracy as number;
    const { code, outcome } = await submit(writeJob('it-ar', recipe()));
    expect(code).toBe(0);
    fp32 = outcome;
    const r = outcome.result!;
    console.log(`all-reduce: ${pct(r.testAccuracy)} on YARN vs ${pct(localAccuracy)} local; ${Math.round(r.samplesPerSecond)} samples/s; ${r.wireBytesPerStep} tensor bytes per worker and step`);
    expect(Math.abs(r.testAccuracy - localAccuracy)).toBeLessThanOrEqual(0.003);
    const [a, b] = workers(outcome);
    expect(a!.checksum).toBe(b!.checksum);
  });

  test('fp16 on the wire halves the bytes per step and stays within 0.2 points of fp32', async () => {
    const job = recipe();
    job.training.wire = 'fp16';
    const { code, outcome } = await submit(writeJob('it-ar-fp16', job));
    expect(code).toBe(0);
    const r = outcome.result!;
    const ratio = r.wireBytesPerStep / fp32.result!.wireBytesPerStep;
    console.log(`fp16: ${pct(r.testAccuracy)} vs fp32 ${pct(fp32.result!.testAccuracy)}; bytes per step ${r.wireBytesPerStep} vs ${fp32.result!.wireBytesPerStep} (${ratio.toFixed(3)}×)`);
    expect(ratio).toBeCloseTo(0.5, 2);
    expect(Math.abs(r.testAccuracy - fp32.result!.testAccuracy)).toBeLessThanOrEqual(0.002);
  });
});

describe('uneven data and failures', () => {
  /** A CSV of two Gaussian classes whose first half is written with 8 decimals and the second with 2. */
  function unevenCsv(records: number): Buffer {
    const lines: string[] = [];
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < records; i++) {
      const label = i % 2;
      const digits = i < records / 2 ? 8 : 2;
      const x = Array.from({ length: 10 }, () => (label * 1.5 + rand()).toFixed(digits));
      lines.push([label, ...x].join(','));
    }
    return Buffer.from(`${lines.join('\n')}\n`);
  }

  test('one split with far more records than the other never hangs a barrier: every worker does the same steps', async () => {
    await cluster.hdfs.mkdirs(`/user/${cluster.user}/it-uneven`);
    await cluster.hdfs.create(`/user/${cluster.user}/it-uneven/part-00000`, unevenCsv(20_000), { overwrite: true });
    await cluster.hdfs.create(`/user/${cluster.user}/it-uneven/_SUCCESS`, Buffer.alloc(0), { overwrite: true });
    const job: Job = {
      input: { format: 'csv', train: 'it-uneven', test: 'it-uneven/part-00000', csv: { labelColumn: 0, delimiter: ',', header: false } },
      model: { inputSize: 10, layers: [{ size: 16, activation: 'relu' }, { size: 2, activation: 'softmax' }] },
      training: { epochs: 2, batchSize: 32 },
      cluster: { am: { memoryMb: 512, vcores: 1 }, worker: { memoryMb: 512, vcores: 1 }, workers: 2 },
    };
    const { code, outcome } = await submit(writeJob('it-uneven', job));
    expect(code).toBe(0);
    const [a, b] = workers(outcome).map((w) => w.records!);
    console.log(`uneven splits: ${a} and ${b} records; test accuracy ${pct(outcome.result!.testAccuracy)}`);
    expect(Math.max(a!, b!) / Math.min(a!, b!)).toBeGreaterThan(1.1);
    expect(a! + b!).toBe(20_000); // the _SUCCESS file is skipped; every record read once
    expect(workers(outcome)[0]!.clock).toBe(workers(outcome)[1]!.clock);
    expect(outcome.result!.testAccuracy).toBeGreaterThan(0.9);
  });

  test('without restarts, a worker killed with SIGKILL mid-training fails the job within 15 s, naming it; no container remains', async () => {
    const job = example();
    job.training.epochs = 40;
    job.cluster.maxRestarts = { worker: 0, server: 0 };
    const run = startHorn(['submit', writeJob('it-dist-kill', job), '--json']);
    const [, id] = await run.waitForStderr(/submitted (application_\d+_\d+)/, 120_000);
    // A worker container of this application, found by its environment; it is our own process.
    const victim = await waitFor('a training worker', async () => {
      const status = await cluster.rm.getApplication(id!);
      if (status.state !== 'RUNNING' || status.progress < 5) return undefined;
      return containerProcesses(id!).find((p) => p.role === 'worker' && p.index === '2');
    }, 180_000, 1_000);
    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    const result = await run.done;
    const app = await cluster.rm.getApplication(id!);
    const seconds = ((app.finishedTime ?? Date.now()) - killedAt) / 1000;
    const outcome = JSON.parse(result.stdout) as Outcome;
    console.log(`killed worker 2 (pid ${victim.pid}); the job ended ${seconds.toFixed(1)} s later: ${outcome.diagnostics?.split('\n')[0]}`);
    expect(result.code).toBe(1);
    expect(outcome.finalStatus).toBe('FAILED');
    expect(seconds).toBeLessThan(15);
    expect(outcome.diagnostics).toMatch(/^worker 2 \(container container_\w+ on node\d\.test\) failed with exit status (137|-?\d+)/);
    await waitFor('no container of the job left', async () => (containerProcesses(id!).length === 0 ? true : undefined), 30_000);
  });
});

