// horn beside the reference frameworks, each run as its own process and interleaved round by
// round so that load from other processes hits all alike; one core (taskset -c 0) and then all
// cores. Prints GEMM GFLOPS per backend beside numpy/OpenBLAS, and training samples/s per
// backend beside JAX (jit) and PyTorch (eager), with the ratios measured in this run; each
// one's ratio of all threads to one (the peers' show what the host lets any framework gain); and
// horn's measured in adjacent windows of one process, which the host's drift between processes
// does not blur.
//
//   node build/bench-compare.js [--rounds R] [--seconds S] [--python PATH]
// Without --python (the venv scripts/bench --peers makes), only horn's own numbers are printed.

import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { supportedKernelBackends } from '../src/engine/kernels';

interface Options {
  rounds: number;
  seconds: number;
  python?: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { rounds: 3, seconds: 6 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rounds') options.rounds = Number(argv[++i]);
    else if (a === '--seconds') options.seconds = Number(argv[++i]);
    else if (a === '--python') options.python = argv[++i];
    else throw new Error(`bench/compare: unknown argument ${a} (expected --rounds R, --seconds S, --python PATH)`);
  }
  if (!(options.rounds >= 1) || !(options.seconds > 0)) throw new Error('bench/compare: --rounds and --seconds must be positive');
  return options;
}

const root = join(__dirname, '..');
const cores = availableParallelism();

/** Runs a benchmark process pinned to the first `threads` cores and returns the JSON it printed last. */
function run(threads: number, command: string, args: string[], env: Record<string, string> = {}): Record<string, unknown> {
  const cpus = Array.from({ length: threads }, (_, i) => i).join(',');
  const out = execFileSync('taskset', ['-c', cpus, command, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  // bench-kernels prints one indented JSON document, the others one JSON line after any logs.
  const text = out.trim();
  return JSON.parse(text.startsWith('{') ? text : text.slice(text.lastIndexOf('\n{') + 1)) as Record<string, unknown>;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const fmt = (x: number, digits = 1): string => x.toFixed(digits);
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// GEMM: best GFLOPS per shape over the rounds, one core.
// ---------------------------------------------------------------------------------------------

type ShapeTable = Record<string, Record<string, number>>;

function gemm(options: Options): void {
  const best: ShapeTable = {};
  const note = (column: string, perShape: Record<string, number>): void => {
    for (const [shape, g] of Object.entries(perShape)) {
      best[shape] ??= {};
      best[shape][column] = Math.max(best[shape][column] ?? 0, g);
    }
  };
  let library = '';
  for (let r = 0; r < options.rounds; r++) {
    // One process per backend, like numpy: each measured with its own operands warm in cache.
    for (const backend of supportedKernelBackends().filter((b) => b !== 'typescript')) {
      const horn = run(1, process.execPath, [join(root, 'build/bench-kernels.js'), '--json', '--budget-seconds', '1', '--only', backend]) as { gflopsPerShape: ShapeTable };
      for (const [shape, perBackend] of Object.entries(horn.gflopsPerShape)) for (const [b, g] of Object.entries(perBackend)) note(b, { [shape]: g });
    }
    if (options.python) {
      const numpy = run(1, options.python, [join(root, 'bench/peers/gemm.py'), '--budget-seconds', '1'], { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' }) as { library: string; gflopsPerShape: Record<string, number> };
      library = numpy.library;
      note('numpy', numpy.gflopsPerShape);
    }
  }
  const shapes = Object.keys(best);
  const columns = [...new Set(shapes.flatMap((s) => Object.keys(best[s])))];
  const fastest = columns[0];
  console.log(`== GEMM GFLOPS, one core (taskset -c 0), each backend and numpy in its own process, best of ${options.rounds} interleaved rounds${library ? `; numpy = ${library}, OPENBLAS_NUM_THREADS=1` : ''}`);
  const header = ['shape', ...columns, ...(library ? [`${fastest} / numpy`] : [])];
  const rows = shapes.map((s) => [s, ...columns.map((c) => fmt(best[s][c])), ...(library ? [`${fmt(best[s][fastest] / best[s].numpy, 2)}×`] : [])]);
  // Flop-weighted per product: total work over total best time.
  const work = (s: string): number => {
    const [m, k, , n] = s.replace(/^\S+\s+/, '').split(/[×·]/).map(Number); // "m×k·k×n"
    return 2 * m * k * n;
  };
  const ratios: number[] = [];
  for (const [prefix, name] of [['X·W', 'A·B'], ['Xᵀ·dY', 'Aᵀ·B'], ['dY·Wᵀ', 'A·Bᵀ']] as const) {
    const group = shapes.filter((s) => s.startsWith(prefix));
    const rate = (c: string): number => group.reduce((t, s) => t + work(s), 0) / group.reduce((t, s) => t + work(s) / (best[s][c] * 1e9), 0) / 1e9;
    const ratio = library ? rate(fastest) / rate('numpy') : 0;
    ratios.push(ratio);
    rows.push([`${name}, all three layers`, ...columns.map((c) => fmt(rate(c))), ...(library ? [`${fmt(ratio, 2)}×`] : [])]);
  }
  printTable(header, rows);
  if (library) console.log(`worst of the three products: ${fmt(Math.min(...ratios), 2)}× numpy/OpenBLAS per core`);
}

// ---------------------------------------------------------------------------------------------
// Training: samples/s per configuration; per process the median of its windows, over rounds the
// median and the range.
// ---------------------------------------------------------------------------------------------

/** Pairs of adjacent one-thread and all-thread windows per round (bench/training.ts --paired). */
const PAIRS_PER_ROUND = 10;

interface Config {
  label: string;
  threads: number;
  command: string;
  args: string[];
}

function training(options: Options): void {
  const backends = supportedKernelBackends();
  const fastest = backends[0];
  const threadCounts = cores > 1 ? [1, cores] : [1];
  const configs: Config[] = [];
  const horn = (backend: string, threads: number): Config => ({
    label: `horn ${backend}`, threads, command: process.execPath,
    args: [join(root, 'build/bench-training.js'), '--json', '--backend', backend, '--threads', String(threads), '--seconds', String(options.seconds)],
  });
  for (const threads of threadCounts) {
    configs.push(horn(fastest, threads));
    if (threads === 1 && fastest !== 'wasm-relaxed-simd' && backends.includes('wasm-relaxed-simd')) configs.push(horn('wasm-relaxed-simd', 1));
    if (options.python) {
      for (const framework of ['jax', 'torch']) {
        configs.push({ label: framework, threads, command: options.python, args: [join(root, 'bench/peers/mlp.py'), '--framework', framework, '--threads', String(threads), '--seconds', String(options.seconds)] });
      }
    }
  }
  const results = configs.map(() => [] as number[]);
  const bests = configs.map(() => 0);
  const names = configs.map((c) => c.label);
  const pairedRatios: number[] = [];
  for (let r = 0; r < options.rounds; r++) {
    configs.forEach((c, i) => {
      const out = run(c.threads, c.command, c.args);
      const m = (out.measurement ?? out) as { windows: number[] };
      if (out.framework) names[i] = String(out.framework);
      results[i].push(median(m.windows));
      bests[i] = Math.max(bests[i], ...m.windows);
    });
    if (threadCounts.length > 1) {
      const args = [join(root, 'build/bench-training.js'), '--json', '--backend', fastest, '--paired', String(cores), '--seconds', String(options.seconds), '--windows', String(PAIRS_PER_ROUND)];
      pairedRatios.push(...(run(cores, process.execPath, args).paired as { ratios: number[] }).ratios);
    }
  }
  console.log(`== training samples/s, 784-500-500-10 ReLU, softmax cross-entropy, batch 128, momentum SGD; ${options.rounds} interleaved rounds of ${options.seconds} s per process; per process the median of 5 windows, over the rounds the median [min–max]; best: the best window of all rounds`);
  const rows: string[][] = [];
  const med = results.map(median);
  const index = (label: string, threads: number): number => configs.findIndex((c) => c.label === label && c.threads === threads);
  configs.forEach((c, i) => {
    const h = index(`horn ${fastest}`, c.threads);
    const isHorn = c.label.startsWith('horn');
    rows.push([
      `${c.threads} thread${c.threads > 1 ? 's' : ''}`, isHorn ? c.label : names[i],
      `${int(med[i])} [${int(Math.min(...results[i]))}–${int(Math.max(...results[i]))}]`, int(bests[i]),
      isHorn ? '' : `${fmt(med[h] / med[i], 2)}×`, isHorn ? '' : `${fmt(bests[h] / bests[i], 2)}×`,
    ]);
  });
  printTable(['threads', 'what', 'samples/s', 'best', `horn ${fastest} / it`, 'best / best'], rows);
  if (threadCounts.length > 1) {
    // The peers' own ratios are the host's reference: what it let other frameworks gain from the
    // same threads in the same rounds.
    for (const label of [`horn ${fastest}`, ...(options.python ? ['jax', 'torch'] : [])]) {
      const one = index(label, 1);
      const all = index(label, cores);
      const name = label.startsWith('horn') ? label : names[one];
      console.log(`${name}: ${cores} threads / 1 thread = ${fmt(med[all] / med[one], 2)}× (medians), ${fmt(bests[all] / bests[one], 2)}× (best windows)`);
    }
    console.log(`horn ${fastest}: ${cores} threads / 1 thread in one process, adjacent windows of ${fmt((options.seconds / (2 * PAIRS_PER_ROUND)), 2)} s = ${fmt(median(pairedRatios), 2)}× (median of ${pairedRatios.length} pairs) [${fmt(Math.min(...pairedRatios), 2)}–${fmt(Math.max(...pairedRatios), 2)}]`);
  }
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

const options = parseArgs(process.argv.slice(2));
gemm(options);
training(options);
