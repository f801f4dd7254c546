import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describeLocalTraining, localModelPath, localRunId, trainLocally } from '../../../src/client/commands/train';
import { readModelFile } from '../../../src/engine';

// `horn train --local` end to end on a small, separable CSV problem: the summary it prints with
// --json, the model file it writes, and its refusals.
const dir = mkdtempSync(join(tmpdir(), 'horn-train-local-'));
const quiet = Object.assign(new Writable({ write: (_c, _e, done) => done() }), { isTTY: false }) as unknown as NodeJS.WriteStream;

function points(n: number, seed: number): string {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = [next(), next()];
    rows.push(`${x + y > 0 ? 1 : 0},${x.toFixed(4)},${y.toFixed(4)}`);
  }
  return rows.join('\n') + '\n';
}

beforeAll(() => {
  writeFileSync(join(dir, 'train.csv'), points(2000, 1));
  writeFileSync(join(dir, 'test.csv'), points(500, 2));
  writeFileSync(
    join(dir, 'job.yaml'),
    `name: halfplane
input:
  format: csv
  train: train.csv
  test: test.csv
model:
  inputSize: 2
  layers:
    - { size: 8, activation: tanh }
    - { size: 2, activation: softmax }
training:
  epochs: 5
  batchSize: 32
output:
  model: "out/{name}.horn"
`,
  );
});

test('trains, evaluates and writes the model; the summary has what --json promises', async () => {
  const output = join(dir, 'model.horn');
  const s = await trainLocally({ job: join(dir, 'job.yaml'), local: true, output, json: true }, quiet);
  expect(s).toMatchObject({ job: 'halfplane', model: output, epochs: 5, testSamples: 500, malformedSkipped: 0 });
  expect(s.testAccuracy).toBeGreaterThan(0.9);
  expect(s.seconds).toBeGreaterThan(0);
  expect(s.samplesPerSecond).toBeGreaterThan(0);
  const model = await readModelFile(output);
  expect(model.metadata).toMatchObject({ job: 'halfplane', normalize: 'none' });
  expect(existsSync(`${output}.tmp-${process.pid}`)).toBe(false);
});

test('with two workers (the distributed path as local processes) the summary counts the test set and names the kernels once', async () => {
  const job = readFileSync(join(dir, 'job.yaml'), 'utf8') + 'cluster:\n  workers: 2\n';
  writeFileSync(join(dir, 'job2.yaml'), job);
  const s = await trainLocally({ job: join(dir, 'job2.yaml'), local: true, output: join(dir, 'model2.horn'), json: true }, quiet);
  expect(s).toMatchObject({ job: 'halfplane', epochs: 5, testSamples: 500 });
  expect(s.testAccuracy).toBeGreaterThan(0.9);
  expect(s.kernels).not.toMatch(/ on \d+ thread/);
  expect(describeLocalTraining(s)).toMatch(new RegExp(`on 500 samples, 5 epochs, .*, ${s.kernels} kernels on 1 thread\\)`));
});

test('without --local it refuses, naming the flag', async () => {
  await expect(trainLocally({ job: join(dir, 'job.yaml'), local: false, json: false }, quiet)).rejects.toThrow(/needs --local/);
});

describe('local runs (issue 12, Build 5)', () => {
  test('{appId} of a local run is local-<datetime>, so two runs a second apart do not collide', () => {
    expect(localRunId(new Date(Date.UTC(2026, 10, 22, 9, 5, 7)))).toBe('local-20261122T090507Z');
    expect(localRunId(new Date(Date.UTC(2026, 10, 22, 9, 5, 8)))).not.toBe(localRunId(new Date(Date.UTC(2026, 10, 22, 9, 5, 7))));
  });

  test('an existing model path: fail names the ways out, version takes the next free .vN, overwrite and --output replace', () => {
    const taken = new Set(['/m/x', '/m/x.v2']);
    const exists = (p: string) => taken.has(p);
    expect(() => localModelPath('/m/x', 'fail', false, exists)).toThrow(
      'the model path /m/x exists and output.overwrite is fail; write elsewhere with --output PATH, or set output.overwrite to overwrite or version in the job',
    );
    expect(localModelPath('/m/x', 'version', false, exists)).toBe('/m/x.v3');
    expect(localModelPath('/m/x', 'overwrite', false, exists)).toBe('/m/x');
    expect(localModelPath('/m/x', 'fail', true, exists)).toBe('/m/x');
    expect(localModelPath('/m/y', 'fail', false, exists)).toBe('/m/y');
  });

  test('the summary says "1 epoch" and gives training time beside the wall time', () => {
    const text = describeLocalTraining({
      job: 'j', model: '/m', kernels: 'wasm-simd', threads: 1, epochs: 1, seconds: 3.04, trainingSeconds: 2.51, samplesPerSecond: 12345.4,
      trainLoss: 0.1, trainAccuracy: 0.9, testAccuracy: 0.98634, testSamples: 500, malformedSkipped: 0,
    });
    expect(text).toBe('j: test accuracy 98.63% on 500 samples, 1 epoch, training 2.5 s of 3.0 s elapsed (12,345 samples/s, wasm-simd kernels on 1 thread)\nmodel: /m\n');
  });

  test('the same job twice: refused with the ways out when the output has no time in it, never overwritten', async () => {
    const job = join(dir, 'fixed-output.yaml');
    writeFileSync(job, readFileSync(join(dir, 'job.yaml'), 'utf8').replace('model: "out/{name}.horn"', `model: "${dir}/fixed/{name}.horn"`));
    const first = await trainLocally({ job, local: true, json: true }, quiet);
    const written = readFileSync(first.model);
    await expect(trainLocally({ job, local: true, json: true }, quiet)).rejects.toThrow(/exists and output\.overwrite is fail; write elsewhere with --output PATH/);
    expect(readFileSync(first.model).equals(written)).toBe(true);
  });
});
