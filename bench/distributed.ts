// Distributed benchmark, two parts, every number beside a reference measured in the same run.
//  1. Wire: a push + pull of the full 648,010-parameter reference model (fp32, and fp16) between two
//     processes over horn's authenticated wire (frames, the parameter server's reply), beside raw
//     Node TCP moving the same bytes; interleaved rounds, medians and the ratio.
//  2. Training on the local cluster (when HADOOP_CONF_DIR points at it): samples/s of the reference
//     network with 1 worker, 2 workers in one all-reduce group (fp32 and fp16 on the wire), and 2
//     workers with 1 parameter server, the same per-worker batch of 128; beside them two 1-worker
//     jobs running at once, which is what two workers that never communicate get from this machine
//     (the ceiling of any 2-worker scheme here). The 2-vs-1 ratios and the workers' share of time
//     in communication and waiting, from the jobs' results.
//  3. A worker's threads on the local cluster: the reference job (examples/mnist.yaml) with one
//     worker of 1 vcore and one of 2 vcores, in pairs whose order alternates; samples/s from each
//     job's result, the ratio pair by pair and of the medians, and the kernels each worker reported;
//     beside them the same job in one process (horn train --local) on 1 and 2 threads after each
//     pair, the reference for what the host let a second thread give at that time.
// Usage: node build/bench-distributed.js [--rounds R] [--epochs E] [--training-rounds T]
//          [--vcores-rounds V] [--vcores-epochs E] [--only-vcores] [--skip-cluster]
import { spawn, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { connectWire, WireServer } from '../src/wire/channel';
import { nativeHalfConversions } from '../src/engine/kernels/native';
import { codecFor } from '../src/wire/tensors';

const P = 648_010;
const REPO = join(__dirname, '..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.lastIndexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

async function echoChild(kind: string): Promise<void> {
  const secret = Buffer.from(process.env.BENCH_SECRET!, 'hex');
  if (kind === 'raw') {
    const bytes = Number(process.env.BENCH_BYTES);
    const reply = Buffer.alloc(bytes);
    const server = createServer((s) => {
      s.setNoDelay(true);
      let got = 0;
      s.on('data', (d) => {
        got += d.length;
        while (got >= bytes) {
          got -= bytes;
          s.write(reply);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
    return;
  }
  // As a parameter server answers a push: decode the gradient, reply with (a copy of) the weights.
  const codec = codecFor(kind === 'wire-fp16' ? 'fp16' : 'fp32', nativeHalfConversions());
  const weights = new Float32Array(P);
  const gradient = new Float32Array(P);
  const server = new WireServer(secret, (c) =>
    c.on('message', (f) => {
      codec.decodeInto(f.body!, gradient);
      f.release?.();
      void c.reply(f, { type: 'weights' }, codec.name === 'fp32' ? new Uint8Array(weights.slice().buffer) : codec.encode(weights));
    }),
  );
  const a = await server.listen('127.0.0.1');
  process.send!(a.port);
}

async function timeRound(kind: string, n: number): Promise<number> {
  const secret = randomBytes(32).toString('hex');
  const bytesPerValue = kind === 'wire-fp16' || kind === 'raw-fp16' ? 2 : 4;
  const bytes = P * bytesPerValue;
  const child = fork(__filename, ['--echo', kind.startsWith('raw') ? 'raw' : kind], { env: { ...process.env, BENCH_SECRET: secret, BENCH_BYTES: String(bytes) } });
  const port: number = await new Promise((r) => child.once('message', (m) => r(m as number)));
  const times: number[] = [];
  try {
    if (kind.startsWith('raw')) {
      const s = connect(port, '127.0.0.1');
      s.setNoDelay(true);
      await new Promise((r) => s.once('connect', r));
      const out = Buffer.alloc(bytes);
      let got = 0;
      let resolve: () => void = () => undefined;
      s.on('data', (d) => {
        got += d.length;
        if (got >= bytes) {
          got -= bytes;
          resolve();
        }
      });
      for (let i = 0; i < n + 5; i++) {
        const t0 = performance.now();
        const done = new Promise<void>((r) => (resolve = r));
        s.write(out);
        await done;
        if (i >= 5) times.push(performance.now() - t0);
      }
      s.destroy();
    } else {
      const codec = codecFor(kind === 'wire-fp16' ? 'fp16' : 'fp32', nativeHalfConversions());
      const c = await connectWire('127.0.0.1', port, Buffer.from(secret, 'hex'), { role: 'worker', id: '0' });
      const gradient = Float32Array.from({ length: P }, (_, i) => Math.sin(i));
      const params = new Float32Array(P);
      for (let i = 0; i < n + 5; i++) {
        const t0 = performance.now();
        const reply = await c.request({ type: 'push' }, codec.encode(gradient));
        codec.decodeInto(reply.body!, params);
        reply.release?.();
        if (i >= 5) times.push(performance.now() - t0);
      }
      c.close();
    }
  } finally {
    child.kill();
  }
  return median(times);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

async function wire(rounds: number): Promise<void> {
  console.log(`== push + pull of the ${P.toLocaleString('en-US')}-parameter model between two processes (median ms of 100 per round, ${rounds} interleaved rounds)`);
  const results: Record<string, number[]> = { raw: [], wire: [], 'raw-fp16': [], 'wire-fp16': [] };
  for (let r = 0; r < rounds; r++) for (const kind of Object.keys(results)) results[kind]!.push(await timeRound(kind, 100));
  const m = (k: string) => median(results[k]!);
  console.log(`raw Node TCP, ${((P * 8) / 1e6).toFixed(1)} MB   ${m('raw').toFixed(2)} ms`);
  console.log(`horn wire fp32 (same bytes)   ${m('wire').toFixed(2)} ms   ${(m('wire') / m('raw')).toFixed(2)}× raw`);
  console.log(`raw Node TCP, ${((P * 4) / 1e6).toFixed(1)} MB   ${m('raw-fp16').toFixed(2)} ms`);
  console.log(`horn wire fp16 (same bytes)   ${m('wire-fp16').toFixed(2)} ms   ${(m('wire-fp16') / m('raw-fp16')).toFixed(2)}× raw (with conversions)`);
}

interface Result {
  testAccuracy: number;
  samplesPerSecond: number;
  containers: Array<{ role: string; kernels?: string; shares?: { compute: number; communication: number; waiting: number } }>;
}

async function submit(file: string): Promise<Result> {
  return ((await horn(['submit', file, '--json'])) as { result: Result }).result;
}

/** The horn command with `args`, its progress on this process's stderr; the JSON it prints. */
async function horn(args: string[]): Promise<unknown> {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'horn.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? 1)));
  if (code !== 0) throw new Error(`horn ${args.join(' ')} exited ${code}`);
  return JSON.parse(out);
}

/** A training job of the benchmark: the reference network with `workers` workers in one group and `servers` servers. */
function benchJob(dir: string, base: Record<string, any>, epochs: number, name: string, workers: number, servers: number, wire: 'fp32' | 'fp16'): string {
  const job = structuredClone(base);
  job.training = { ...job.training, epochs, batchSize: 128, consistency: 'bsp', wire };
  delete job.training.staleness;
  job.cluster = { ...job.cluster, workers, groups: 1, parameterServers: { count: servers, memoryMb: 512, vcores: 1 } };
  return writeBenchJob(dir, name, job);
}

/** Writes `job` as dir/name.yaml for the cluster: its model to bench-models/, overwritten; no local inputs. */
function writeBenchJob(dir: string, name: string, job: Record<string, any>): string {
  job.name = name;
  job.output = { model: 'bench-models/{name}/{appId}', overwrite: 'overwrite' };
  delete job.input.local;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(job));
  return file;
}

const communicationShares = (r: Result): string => {
  const w = r.containers.filter((c) => c.role === 'worker' && c.shares);
  const share = (k: 'communication' | 'waiting') => w.reduce((t, c) => t + c.shares![k], 0) / Math.max(1, w.length);
  return `communication ${(share('communication') * 100).toFixed(0)}%, waiting ${(share('waiting') * 100).toFixed(0)}%`;
};

/**
 * Samples/s of 1 worker, of two 1-worker jobs at once (summed: what two workers that never
 * exchange anything get from this machine and cluster, the ceiling for any 2-worker scheme), of
 * 2 workers all-reducing (fp32 and fp16 on the wire) and of 2 workers with a server, in `rounds`
 * interleaved rounds; medians, and the ratios the issue asks for.
 */
async function training(epochs: number, rounds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'horn-bench-'));
  const base = parse(readFileSync(join(REPO, 'examples', 'mnist-distributed.yaml'), 'utf8')) as Record<string, any>;
  const shapes: Array<{ label: string; run: () => Promise<{ rate: number; detail: string }> }> = [
    { label: '1 worker', run: async () => one(await submit(benchJob(dir, base, epochs, 'bench-1w', 1, 0, 'fp32')), '') },
    {
      label: 'two 1-worker jobs at once (sum)',
      run: async () => {
        const [a, b] = await Promise.all(['a', 'b'].map((x) => submit(benchJob(dir, base, epochs, `bench-1w-${x}`, 1, 0, 'fp32'))));
        return { rate: a!.samplesPerSecond + b!.samplesPerSecond, detail: `${Math.round(a!.samplesPerSecond).toLocaleString('en-US')} + ${Math.round(b!.samplesPerSecond).toLocaleString('en-US')}` };
      },
    },
    { label: '2 workers, all-reduce', run: async () => one(await submit(benchJob(dir, base, epochs, 'bench-2w', 2, 0, 'fp32')), 'fp32') },
    { label: '2 workers, all-reduce, fp16', run: async () => one(await submit(benchJob(dir, base, epochs, 'bench-2w-fp16', 2, 0, 'fp16')), 'fp16') },
    { label: '2 workers + 1 parameter server', run: async () => one(await submit(benchJob(dir, base, epochs, 'bench-2w1s', 2, 1, 'fp32')), 'fp32') },
  ];
  console.log(`== training 784-500-500-10 on the local cluster (${epochs} epochs of MNIST, per-worker batch 128, 1 vcore per worker; ${rounds} interleaved rounds, medians)`);
  const rates = shapes.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, shape] of shapes.entries()) {
      const { rate, detail } = await shape.run();
      rates[i]!.push(rate);
      console.log(`  round ${r + 1}: ${shape.label.padEnd(32)} ${Math.round(rate).toLocaleString('en-US').padStart(7)} samples/s   ${detail}`);
    }
  }
  const m = rates.map(median);
  shapes.forEach((shape, i) => console.log(`${shape.label.padEnd(32)} ${Math.round(m[i]!).toLocaleString('en-US').padStart(7)} samples/s`));
  console.log(`2 workers / 1 worker: ${(m[2]! / m[0]!).toFixed(2)}× (all-reduce), ${(m[3]! / m[0]!).toFixed(2)}× (all-reduce, fp16), ${(m[4]! / m[0]!).toFixed(2)}× (with a server)`);
  console.log(`two workers that never exchange anything: ${(m[1]! / m[0]!).toFixed(2)}× 1 worker; the all-reduce reaches ${((100 * m[2]!) / m[1]!).toFixed(0)}% of that (fp16 ${((100 * m[3]!) / m[1]!).toFixed(0)}%)`);
}

/**
 * One-worker jobs of the reference network with 1 and 2 vcores, `rounds` pairs, the order within
 * a pair alternating (on a shared host the second job of a pair is not always the luckier one).
 * A one-vcore worker trains on one thread and leaves the machine's other core to the cluster's
 * own processes; a two-vcore worker shares its cores with them: this is the ratio a user sees.
 * After each pair, the reference: the same job trained in one process here (`horn train --local`,
 * the cluster idle) on 1 and on 2 threads, what the host let a process gain from a second thread
 * at that time.
 */
async function workerThreads(epochs: number, rounds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'horn-bench-'));
  const examples = join(REPO, 'examples');
  const base = parse(readFileSync(join(examples, 'mnist.yaml'), 'utf8')) as Record<string, any>;
  base.training = { ...base.training, epochs };
  const file = (vcores: number): string => {
    const job = structuredClone(base);
    job.cluster = { ...job.cluster, worker: { ...job.cluster.worker, vcores } };
    return writeBenchJob(dir, `bench-1w-${vcores}vc`, job);
  };
  const files = [file(1), file(2)];
  const localJob = structuredClone(base);
  localJob.input.local = absolutePaths(localJob.input.local, examples);
  const localFile = join(dir, 'bench-local.yaml');
  writeFileSync(localFile, stringify(localJob));
  console.log(`== a worker's threads on the local cluster (examples/mnist.yaml, ${epochs} epochs, 1 worker of 1 and of 2 vcores; ${rounds} pairs, order alternating; after each pair the same job in one process, horn train --local, on 1 and 2 threads)`);
  const rates: number[][] = [[], []];
  const local: number[][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const result = await submit(files[i]!);
      const worker = result.containers.find((c) => c.role === 'worker');
      rates[i]![r] = result.samplesPerSecond;
      console.log(`  pair ${r + 1}: ${i + 1} vcore${i ? 's' : ' '}  ${Math.round(result.samplesPerSecond).toLocaleString('en-US').padStart(7)} samples/s   ${worker?.kernels ?? 'kernels not reported'}, test accuracy ${(result.testAccuracy * 100).toFixed(2)}%`);
    }
    for (const i of order) {
      const summary = await trainLocally(localFile, i + 1, join(dir, 'local.model'));
      local[i]![r] = summary.samplesPerSecond;
      console.log(`  pair ${r + 1}: local ${i + 1} thread${i ? 's' : ' '} ${Math.round(summary.samplesPerSecond).toLocaleString('en-US').padStart(7)} samples/s   ${summary.kernels} on ${summary.threads} thread${summary.threads > 1 ? 's' : ''}, test accuracy ${(summary.testAccuracy * 100).toFixed(2)}%`);
    }
    console.log(`  pair ${r + 1}: 2 vcores / 1 vcore ${(rates[1]![r]! / rates[0]![r]!).toFixed(2)}×; local 2 threads / 1 thread ${(local[1]![r]! / local[0]![r]!).toFixed(2)}×`);
  }
  const summarize = (what: string, [one, two]: number[][]): number => {
    const ratios = one!.map((x, r) => two![r]! / x);
    const [m1, m2] = [median(one!), median(two!)];
    console.log(`${what}: 1 ${Math.round(m1).toLocaleString('en-US')}, 2 ${Math.round(m2).toLocaleString('en-US')} samples/s (medians); ${(m2 / m1).toFixed(2)}× by the medians; pair by pair ${ratios.map((x) => x.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)}×)`);
    return m2 / m1;
  };
  const containers = summarize('containers of 1 and 2 vcores', rates);
  const reference = summarize('one process on 1 and 2 threads (reference)', local);
  console.log(`the containers' ratio is ${((100 * containers) / reference).toFixed(0)}% of the one process's in the same run`);
}

/** `files` (input.local of a job) with every path made absolute against `baseDir`. */
function absolutePaths(files: unknown, baseDir: string): unknown {
  if (typeof files === 'string') return resolve(baseDir, files);
  if (files && typeof files === 'object') return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, absolutePaths(v, baseDir)]));
  return files;
}

interface LocalSummary { samplesPerSecond: number; kernels: string; threads: number; testAccuracy: number }

/** `horn train --local` of `file` on `threads` threads; its JSON summary. */
async function trainLocally(file: string, threads: number, model: string): Promise<LocalSummary> {
  return (await horn(['train', '--local', file, '--threads', String(threads), '--json', '-o', model])) as LocalSummary;
}

function one(r: Result, wire: string): { rate: number; detail: string } {
  return { rate: r.samplesPerSecond, detail: `${wire ? `${wire}, ` : ''}${communicationShares(r)}, test accuracy ${(r.testAccuracy * 100).toFixed(2)}%` };
}

async function main(): Promise<void> {
  if (args[0] === '--echo') return echoChild(args[1]!);
  const onlyVcores = args.includes('--only-vcores');
  if (!onlyVcores) await wire(flag('--rounds', 3));
  if (args.includes('--skip-cluster') || !process.env.HADOOP_CONF_DIR) {
    console.log('== training on the local cluster: skipped (no HADOOP_CONF_DIR; run `eval "$(scripts/cluster env)"` first)');
    return;
  }
  if (!onlyVcores) await training(flag('--epochs', 3), flag('--training-rounds', 2));
  const vcoreRounds = flag('--vcores-rounds', 2);
  if (vcoreRounds > 0) await workerThreads(flag('--vcores-epochs', 5), vcoreRounds);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
