// Local file access for the model tools (`horn eval`, `export`, `predict`): every failure to read
// or write names the file as the user gave it, so a user sees which path to fix.
import { HornError } from '../common/errors';
import { describeFsError } from '../common/fs-errors';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A model, data or output file that cannot be read or written; `file` is the name as given. */
export class ToolFileError extends HornError {
  constructor(readonly file: string, readonly operation: 'read' | 'write', reason: string) {
    super(`${file}: cannot ${operation}: ${reason}`, 'input');
  }
}

export async function readToolFile(path: string, name: string = path): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ToolFileError(name, 'read', describeFsError(err));
  }
}

/** A temporary name beside `path`, renamed into place when the file is complete. */
export function temporaryBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

/** Writes atomically: a reader never sees half a file, and a failed write leaves none behind. */
export async function writeToolFile(path: string, bytes: Uint8Array, name: string = path): Promise<void> {
  const temporary = temporaryBeside(path);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new ToolFileError(name, 'write', describeFsError(err));
  }
}
