// File access for the model tools (`horn export`, `horn eval`): every failure to read or write
// names the file, so a user sees which path to fix.
import { HornError } from '../common/errors';
import { readFile, writeFile } from 'node:fs/promises';

/** A model, data or output file that cannot be read or written; `file` is the path as given. */
export class ToolFileError extends HornError {
  constructor(readonly file: string, readonly operation: 'read' | 'write', reason: string) {
    super(`${file}: cannot ${operation}: ${reason}`, 'input');
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EISDIR': return 'it is a directory';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    default: return err instanceof Error ? err.message : String(err);
  }
}

export async function readToolFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ToolFileError(file, 'read', describeFsError(err));
  }
}

export async function writeToolFile(file: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(file, bytes);
  } catch (err) {
    throw new ToolFileError(file, 'write', describeFsError(err));
  }
}
