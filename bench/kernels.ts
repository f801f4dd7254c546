// GFLOPS of the three matrix products of training at the shapes of a 784-500-500-10 MLP with
// batch 128, for every kernel backend this runtime supports (and with --threads N, the native
// backends on N threads too), measured in one process so the ratios are comparable.
// Run: bash bench/run-kernels.sh [--batch-seconds S] [--rounds R] [--budget-seconds S] [--threads N] [--json]

import { loadKernels, supportedKernelBackends, type Kernels } from '../src/engine/kernels';

type Product = 'matmul' | 'matmulTN' | 'matmulNT';

interface Case {
  product: Product;
  label: string;
  m: number;
  k: number;
  n: number;
}

const BATCH = 128;
const LAYERS: [number, number][] = [[784, 500], [500, 500], [500, 10]];

// Forward Y = X·W, weight gradient dW = Xᵀ·dY, input gradient dX = dY·Wᵀ for each layer (the
// first layer's input gradient is never computed in training, but it is the largest A·Bᵀ shape).
const CASES: Case[] = [
  ...LAYERS.map(([fanIn, fanOut]): Case => ({ product: 'matmul', label: `X·W     ${BATCH}×${fanIn}·${fanIn}×${fanOut}`, m: BATCH, k: fanIn, n: fanOut })),
  ...LAYERS.map(([fanIn, fanOut]): Case => ({ product: 'matmulTN', label: `Xᵀ·dY   ${fanIn}×${BATCH}·${BATCH}×${fanOut}`, m: fanIn, k: BATCH, n: fanOut })),
  ...LAYERS.map(([fanIn, fanOut]): Case => ({ product: 'matmulNT', label: `dY·Wᵀ   ${BATCH}×${fanOut}·${fanOut}×${fanIn}`, m: BATCH, k: fanOut, n: fanIn })),
];

interface Options {
  /** Target length of one timed batch of calls (a batch is at least one call). */
  batchSeconds: number;
  /** Most batches per backend and shape. */
  rounds: number;
  /** Time budget per backend and shape; rounds stop early once it is spent (after 5). */
  budgetSeconds: number;
  /** Threads of the extra native columns (1: none). */
  threads: number;
  /** Only this backend (bench/compare.ts measures each library alone in its process, as numpy is). */
  only?: string;
  json: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { batchSeconds: 0.002, rounds: 200, budgetSeconds: 1, threads: 1, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') options.json = true;
    else if (arg === '--batch-seconds') options.batchSeconds = Number(argv[++i]);
    else if (arg === '--rounds') options.rounds = Number(argv[++i]);
    else if (arg === '--budget-seconds') options.budgetSeconds = Number(argv[++i]);
    else if (arg === '--threads') options.threads = Number(argv[++i]);
    else if (arg === '--only') options.only = argv[++i];
    else throw new Error(`bench/kernels: unknown argument ${arg} (expected --batch-seconds S, --rounds R, --budget-seconds S, --threads N, --only BACKEND, --json)`);
  }
  if (!(options.batchSeconds > 0) || !(options.rounds >= 1) || !(options.budgetSeconds > 0)) {
    throw new Error('bench/kernels: --batch-seconds, --rounds and --budget-seconds must be positive');
  }
  return options;
}

interface Operands {
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
}

function operands(kernels: Kernels, c: Case): Operands {
  let seed = 12345;
  const fill = (length: number): Float32Array => {
    const x = kernels.alloc(length);
    for (let i = 0; i < length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      x[i] = seed / 2 ** 32 - 0.5;
    }
    return x;
  };
  return { a: fill(c.m * c.k), b: fill(c.k * c.n), c: kernels.alloc(c.m * c.n) };
}

function batch(kernels: Kernels, c: Case, x: Operands, calls: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) kernels[c.product](x.a, x.b, x.c, c.m, c.k, c.n);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

interface Timing {
  best: number;
  median: number;
}

/**
 * Seconds per call for each backend. Rounds interleave the backends, so a burst of load from
 * other processes hits them alike; short batches make it likely that some run undisturbed.
 * The best batch is the figure, and the median shows how disturbed the machine was.
 */
function timeCase(c: Case, runs: { kernels: Kernels; x: Operands }[], options: Options): Timing[] {
  const calls = runs.map(({ kernels, x }) => {
    // Warm up (JavaScript and WebAssembly tier-up) while sizing the batch.
    let n = 1;
    for (;;) {
      const elapsed = batch(kernels, c, x, n);
      if (elapsed >= options.batchSeconds / 2 || n >= 1 << 20) return Math.max(1, Math.round((n * options.batchSeconds) / elapsed));
      n *= 2;
    }
  });
  const samples: number[][] = runs.map(() => []);
  const spent = runs.map(() => 0);
  for (let r = 0; r < options.rounds; r++) {
    runs.forEach(({ kernels, x }, i) => {
      if (r >= 5 && spent[i] >= options.budgetSeconds) return;
      const elapsed = batch(kernels, c, x, calls[i]);
      spent[i] += elapsed;
      samples[i].push(elapsed / calls[i]);
    });
  }
  return samples.map((s) => {
    const sorted = [...s].sort((p, q) => p - q);
    return { best: sorted[0], median: sorted[Math.floor(sorted.length / 2)] };
  });
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  // Columns: every backend on one thread, then the native ones on --threads threads.
  const all: Record<string, Kernels> = {};
  for (const backend of supportedKernelBackends().filter((b) => options.only === undefined || b === options.only)) {
    all[backend] = await loadKernels({ backend, memoryBytes: 64 * 1024 * 1024 });
  }
  if (options.threads > 1 && options.only === undefined) {
    for (const backend of supportedKernelBackends().filter((b) => b.startsWith('native-'))) {
      all[`${backend} ×${options.threads}`] = await loadKernels({ backend, threads: options.threads, memoryBytes: 64 * 1024 * 1024 });
    }
  }
  const backends = Object.keys(all);

  const gflops: Record<string, Record<string, number>> = {};
  const medianGflops: Record<string, Record<string, number>> = {};
  const seconds: Record<string, Record<Product, number>> = {};
  const flops: Record<Product, number> = { matmul: 0, matmulTN: 0, matmulNT: 0 };
  for (const backend of backends) seconds[backend] = { matmul: 0, matmulTN: 0, matmulNT: 0 };
  for (const c of CASES) {
    const work = 2 * c.m * c.n * c.k;
    flops[c.product] += work;
    const runs = backends.map((backend) => ({ kernels: all[backend], x: operands(all[backend], c) }));
    const timings = timeCase(c, runs, options);
    gflops[c.label] = {};
    medianGflops[c.label] = {};
    backends.forEach((backend, i) => {
      gflops[c.label][backend] = work / timings[i].best / 1e9;
      medianGflops[c.label][backend] = work / timings[i].median / 1e9;
      seconds[backend][c.product] += timings[i].best;
    });
    for (const { kernels, x } of runs) for (const array of [x.a, x.b, x.c]) kernels.free(array);
  }
  const perProduct: Record<string, Record<string, number>> = {};
  for (const product of ['matmul', 'matmulTN', 'matmulNT'] as const) {
    perProduct[product] = {};
    for (const backend of backends) perProduct[product][backend] = flops[product] / seconds[backend][product] / 1e9;
  }

  if (options.json) {
    process.stdout.write(`${JSON.stringify({ node: process.version, backends, gflopsPerShape: gflops, medianGflopsPerShape: medianGflops, gflopsPerProduct: perProduct }, null, 2)}\n`);
    return;
  }
  const fastest = backends[0];
  const header = ['product (batch 128, 784-500-500-10)', ...backends, `${fastest} / typescript`];
  const threadsNote = options.threads > 1 ? `, ×${options.threads}: on ${options.threads} threads` : '';
  const rows: string[][] = [];
  for (const c of CASES) {
    const g = gflops[c.label];
    rows.push([c.label, ...backends.map((b) => `${g[b].toFixed(1)} (${medianGflops[c.label][b].toFixed(1)})`), `${(g[fastest] / g.typescript).toFixed(1)}×`]);
  }
  for (const product of ['matmul', 'matmulTN', 'matmulNT'] as const) {
    const g = perProduct[product];
    const name = { matmul: 'A·B', matmulTN: 'Aᵀ·B', matmulNT: 'A·Bᵀ' }[product];
    rows.push([`${name} all three layers (flop-weighted)`, ...backends.map((b) => g[b].toFixed(1)), `${(g[fastest] / g.typescript).toFixed(1)}×`]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(`kernel GFLOPS, one thread${threadsNote}, fp32, GFLOPS = 2·M·N·K/s; best of up to ${options.rounds} interleaved batches of ≥1 call and ~${options.batchSeconds * 1000} ms, ≤${options.budgetSeconds} s per cell (median in brackets); node ${process.version}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const [i, row] of rows.entries()) {
    if (i === CASES.length) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    console.log(line(row));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
