import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainLocally } from '../../../src/client/commands/train';
import { ArchitectureMismatchError } from '../../../src/training/warm-start';

const dir = mkdtempSync(join(tmpdir(), 'horn-warm-'));
jest.setTimeout(60_000);

function data(): string {
  let seed = 9;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const lines = Array.from({ length: 3000 }, (_, i) => [i % 2, ...Array.from({ length: 6 }, () => ((i % 2) * 0.8 + rand()).toFixed(3))].join(','));
  writeFileSync(join(dir, 'd.csv'), `${lines.join('\n')}\n`);
  return 'd.csv';
}

function job(name: string, hidden: number, extra = ''): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ninput:\n  format: csv\n  train: ${data()}\n  test: d.csv\nmodel:\n  inputSize: 6\n  layers:\n    - { size: ${hidden}, activation: relu }\n    - { size: 2, activation: softmax }\ntraining: { epochs: 2, validation: { everyEpochs: 0, holdout: 0 } }\noutput:\n  model: "${dir}/m/{name}"\n  overwrite: overwrite\n  latest: m/latest.json\n${extra}`);
  return file;
}

const quiet = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;

test('warm start: a second run starts from the first model; output.latest names the newest model; another architecture is refused naming both shapes', async () => {
  const first = await trainLocally({ job: job('first', 8), local: true, json: true, threads: 1 }, quiet);
  const pointer = JSON.parse(readFileSync(join(dir, 'm/latest.json'), 'utf8'));
  expect(pointer).toMatchObject({ model: first.model, testAccuracy: first.testAccuracy });
  const second = await trainLocally({ job: job('second', 8), local: true, json: true, threads: 1, initFrom: first.model }, quiet);
  expect(Math.abs(second.testAccuracy! - first.testAccuracy!)).toBeLessThan(0.05);
  expect(JSON.parse(readFileSync(join(dir, 'm/latest.json'), 'utf8')).model).toBe(second.model);
  await expect(trainLocally({ job: job('third', 9), local: true, json: true, threads: 1, initFrom: first.model }, quiet)).rejects.toThrow(ArchitectureMismatchError);
  await expect(trainLocally({ job: job('third', 9), local: true, json: true, threads: 1, initFrom: first.model }, quiet)).rejects.toThrow(/has architecture 6-8 relu-2 softmax; the job's model is 6-9 relu-2 softmax/);
});
