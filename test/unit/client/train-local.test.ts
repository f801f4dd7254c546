import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { trainLocally } from '../../../src/client/commands/train';
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

test('without --local it refuses, naming the flag', async () => {
  await expect(trainLocally({ job: join(dir, 'job.yaml'), local: false, json: false }, quiet)).rejects.toThrow(/needs --local/);
});
