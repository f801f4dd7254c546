// The yargs command module itself: parsed the way main.ts will wire it.
import { join } from 'node:path';
import yargs from 'yargs';
import { validateCommand } from '../../../src/client/commands/validate';

const root = join(__dirname, '../../..');

async function run(args: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
  let out = '';
  let err = '';
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const se = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await yargs(args).command(validateCommand).strict().exitProcess(false).parseAsync();
    return { code: process.exitCode as number | undefined, out, err };
  } finally {
    process.exitCode = saved;
    so.mockRestore();
    se.mockRestore();
  }
}

test('horn validate examples/mnist.yaml exits 0', async () => {
  const r = await run(['validate', join(root, 'examples/mnist.yaml')]);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/valid \(job "mnist-mlp", 3 layers, 15 epochs\)/);
});

test('horn validate --json on a malformed file exits 2 with the errors as JSON', async () => {
  const file = join(__dirname, 'malformed/03-negative-learning-rate.yaml');
  const r = await run(['validate', file, '--json']);
  expect(r.code).toBe(2);
  const body = JSON.parse(r.out);
  expect(body.valid).toBe(false);
  expect(body.errors[0]).toMatchObject({ field: 'training.optimizer.learningRate', expected: 'a number > 0', found: '-0.1 (a number)' });
});

test('a missing file exits 2', async () => {
  const missing = join(__dirname, 'no-such-job.yaml');
  const r = await run(['validate', missing]);
  expect(r.code).toBe(2);
  expect(r.err).toBe(`no such file: ${missing}\n`);
});
