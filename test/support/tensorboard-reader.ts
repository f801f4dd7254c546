// TensorBoard's own event reader (the tensorboard package in the venv scripts/setup-test-tools
// makes), run on an event file: how many records it accepted and the scalars it found.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const REPO = join(__dirname, '..', '..');
const PYTHON = join(REPO, '.test-tools', 'venv', 'bin', 'python');

export interface TensorBoardRead {
  readonly records: number;
  readonly scalars: Record<string, [step: number, value: number][]>;
}

export async function readWithTensorBoard(eventFile: string): Promise<TensorBoardRead> {
  if (!existsSync(PYTHON)) throw new Error(`no TensorBoard venv at ${PYTHON}: run scripts/setup-test-tools`);
  const { stdout } = await promisify(execFile)(PYTHON, [join(__dirname, 'read-tensorboard.py'), eventFile], { timeout: 120_000, maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as TensorBoardRead;
}
