// Local mode of a distributed job: the same coordinator, workers and parameter servers as on YARN,
// with every container a process on this machine. The launcher stages what a NodeManager would
// localize (the job document, user neuron files, a credentials file holding the application
// secret) into a private directory, starts `node horn-runtime.js <role>` there, and reports exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localLister } from '../data';
import { Credentials } from '../hadoop/security';
import { ENV, RESOURCE, SECRET_ALIAS, testHooks, type ContainerRole, type StagedJob } from '../protocol';
import { Coordinator, type CoordinatorLimits, type Launcher, type Outcome } from './coordinator';
import { tailLines } from './diagnostics';
import { planJob } from './plan';
import { localStorage } from '../storage/files';
import type { CheckpointManifest } from '../storage/checkpoints';
import { JobStatus } from './status';

export interface LocalJobOptions {
  readonly job: StagedJob;
  /** Files a NodeManager would localize beside job.json (user neuron files, by staged name). */
  readonly files: ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array }>;
  /** dist/horn-runtime.js */
  readonly runtimeBundle: string;
  readonly limits: CoordinatorLimits;
  readonly log: (message: string) => void;
  /** Sees the status document as it changes (about once a second). */
  readonly onStatus?: (status: JobStatus) => void;
  /** Extra environment for the containers (test hooks), by role and index. */
  readonly environment?: (role: ContainerRole, index: number) => Record<string, string>;
  /** Keep the working directory (logs) even on success. */
  readonly keep?: boolean;
  /** Resume from this checkpoint (as a restarted ApplicationMaster does). */
  readonly resumeFrom?: CheckpointManifest;
}

export interface LocalJobOutcome extends Outcome {
  /** Where the containers' working directories and logs are (removed on success unless kept). */
  readonly directory: string;
  readonly status: JobStatus;
}

class ProcessLauncher implements Launcher {
  private readonly children = new Map<string, ChildProcess>();
  private coordinator!: Coordinator;

  constructor(
    private readonly dir: string,
    private readonly options: LocalJobOptions,
    private readonly amWire: string,
    private readonly tokenFile: string,
  ) {}

  attach(c: Coordinator): void {
    this.coordinator = c;
  }

  launch(role: ContainerRole, index: number, attempt: number): void {
    this.stop(role, index);
    const name = `${role}-${index}${attempt ? `-${attempt}` : ''}`;
    const logs = join(this.dir, 'logs', name);
    mkdirSync(logs, { recursive: true });
    const job = this.options.job;
    const memory = role === 'worker' ? job.spec.cluster.worker.memoryMb : job.spec.cluster.parameterServers.memoryMb;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      [ENV.role]: role,
      [ENV.index]: String(index),
      [ENV.attempt]: String(attempt),
      [ENV.user]: job.user,
      [ENV.amWire]: this.amWire,
      HADOOP_TOKEN_FILE_LOCATION: this.tokenFile,
      ...(process.env[ENV.logLevel] ? { [ENV.logLevel]: process.env[ENV.logLevel] } : {}),
      // Test hooks reach the containers as they do on YARN.
      ...testHooks(process.env),
      ...this.options.environment?.(role, index),
    };
    const out = join(logs, 'stdout');
    const err = join(logs, 'stderr');
    writeFileSync(out, '');
    writeFileSync(err, '');
    const child = spawn(process.execPath, [`--max-old-space-size=${Math.max(64, Math.floor(memory * 0.75))}`, this.options.runtimeBundle, role], {
      cwd: this.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const append = (file: string) => (chunk: Buffer) => writeFileSync(file, chunk, { flag: 'a' });
    child.stdout!.on('data', append(out));
    child.stderr!.on('data', append(err));
    this.children.set(`${role}-${index}`, child);
    this.coordinator.allocated(role, index, attempt, { containerId: `local-${name}`, host: 'localhost', ...(role === 'worker' ? { locality: 'node-local' as const } : {}) });
    this.coordinator.launched(role, index, attempt);
    child.on('exit', (code, signal) => {
      if (this.children.get(`${role}-${index}`) === child) this.children.delete(`${role}-${index}`);
      const exitStatus = code ?? 128 + (signal ? signalNumber(signal) : 0);
      this.coordinator.exited(role, index, attempt, { exitStatus, ...(exitStatus !== 0 ? { stderrTail: tailLines(readFileSync(err, 'utf8'), 20) } : {}) });
    });
    child.on('error', (e) => this.coordinator.launchFailed(role, index, attempt, e.message));
  }

  stop(role: ContainerRole, index: number): void {
    const child = this.children.get(`${role}-${index}`);
    if (child) {
      this.children.delete(`${role}-${index}`);
      child.kill('SIGKILL');
    }
  }

  blacklist(): void {
    // one machine: nowhere else to go
  }

  async stopAll(): Promise<void> {
    const running = [...this.children.values()];
    for (const c of running) c.kill('SIGTERM');
    await Promise.all(
      running.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const t = setTimeout(() => (c.kill('SIGKILL'), resolve()), 3_000);
            c.once('exit', () => (clearTimeout(t), resolve()));
          }),
      ),
    );
  }

  /** Pids of the running containers (tests kill one). */
  pids(): Map<string, number> {
    return new Map([...this.children].map(([n, c]) => [n, c.pid ?? -1]));
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
const signalNumber = (s: string): number => SIGNALS[s] ?? 0;

/** Runs a job with its containers as processes here; resolves when it has ended. */
export async function runLocalJob(options: LocalJobOptions, onLaunched?: (pids: () => Map<string, number>) => void): Promise<LocalJobOutcome> {
  const { job } = options;
  const dir = mkdtempSync(join(tmpdir(), `horn-local-${job.spec.name}-`));
  writeFileSync(join(dir, RESOURCE.job), JSON.stringify(job), { mode: 0o600 });
  for (const f of options.files) writeFileSync(join(dir, f.name), f.bytes, { mode: 0o600 });
  const tokenFile = join(dir, 'container_tokens');
  writeFileSync(tokenFile, new Credentials().addSecret(SECRET_ALIAS, randomBytes(32)).serialize(), { mode: 0o600 });
  const secret = (await Credentials.readFile(tokenFile)).getSecret(SECRET_ALIAS)!;
  const status = JobStatus.forJob(job);
  const plan = await planJob(job, { lister: localLister });
  const coordinator = new Coordinator(job, secret, status, plan.workers, options.limits, options.log, { storage: localStorage, resumeFrom: options.resumeFrom });
  const port = await coordinator.listen('127.0.0.1');
  const launcher = new ProcessLauncher(dir, options, `127.0.0.1:${port}`, tokenFile);
  launcher.attach(coordinator);
  const ticker = options.onStatus ? setInterval(() => options.onStatus!(status), 1_000) : undefined;
  let outcome: Outcome;
  try {
    coordinator.start(launcher);
    onLaunched?.(() => launcher.pids());
    outcome = await coordinator.outcome;
  } finally {
    if (ticker) clearInterval(ticker);
    await coordinator.close();
  }
  status.finish({ phase: outcome.succeeded ? 'succeeded' : 'failed', diagnostics: outcome.diagnostics, testAccuracy: outcome.result?.testAccuracy, model: outcome.result?.model });
  options.onStatus?.(status);
  if (outcome.succeeded && !options.keep && !process.env.HORN_LOCAL_KEEP) rmSync(dir, { recursive: true, force: true });
  return { ...outcome, directory: dir, status };
}
