import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');
export const HORN = join(REPO, 'bin', 'horn.js');

let nodeOnly: string | undefined;

/** A PATH that holds `node` and nothing else: proof that horn needs no java (or anything else). */
export function nodeOnlyPath(): string {
  if (!nodeOnly) {
    nodeOnly = mkdtempSync(join(tmpdir(), 'horn-path-'));
    symlinkSync(process.execPath, join(nodeOnly, 'node'));
  }
  return nodeOnly;
}

export interface HornRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunningHorn {
  readonly done: Promise<HornRun>;
  /** Resolves with the first line of stderr that matches. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** The environment `horn` runs with in tests: the cluster's configuration and a node-only PATH. */
export function hornEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: process.env.HOME, HADOOP_CONF_DIR: process.env.HADOOP_CONF_DIR, HADOOP_USER_NAME: process.env.HADOOP_USER_NAME, PATH: nodeOnlyPath(), ...overrides };
}

/** Starts the built `horn` command with exactly `env`; `onStdout` sees all stdout so far. */
export function spawnHorn(args: readonly string[], env: NodeJS.ProcessEnv, onStdout?: (stdout: string) => void): RunningHorn {
  const started = Date.now();
  const child = spawn(process.execPath, [HORN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    onStdout?.(stdout);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of [...watchers]) {
      const m = stderr.match(w.pattern);
      if (m) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const done = new Promise<HornRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
  return {
    done,
    waitForStderr(pattern, timeoutMs = 60_000) {
      const m = stderr.match(pattern);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`horn ${args.join(' ')} printed no ${pattern} within ${timeoutMs} ms; stderr so far:\n${stderr}`)), timeoutMs);
        watchers.push({ pattern, resolve: (x) => (clearTimeout(timer), resolve(x)) });
      });
    },
  };
}

/** Starts `horn` with `hornEnv(overrides)`. */
export function startHorn(args: readonly string[], overrides: NodeJS.ProcessEnv = {}): RunningHorn {
  return spawnHorn(args, hornEnv(overrides));
}

export function runHorn(args: readonly string[], overrides: NodeJS.ProcessEnv = {}): Promise<HornRun> {
  return startHorn(args, overrides).done;
}
