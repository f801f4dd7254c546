// Typed errors of job-file validation. Each one names the file, the 1-based line and column, the
// dotted field path, what the schema expected and what the file held, so a user can fix every
// problem in one pass.

import { HornError } from '../common/errors';

export class JobFieldError extends HornError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    /** Dotted path such as `training.optimizer.learningRate` or `model.layers[1].size`; '' for syntax errors. */
    readonly field: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${file}:${line}:${column}: ${field || '(document)'}: expected ${expected}, found ${found}`, 'input');
  }

  toJSON(): { file: string; line: number; column: number; field: string; expected: string; found: string; message: string } {
    const { file, line, column, field, expected, found, message } = this;
    return { file, line, column, field, expected, found, message };
  }
}

/** Thrown by `loadJobFile` when the file is invalid; carries every error found, in file order. */
export class JobValidationError extends HornError {
  constructor(readonly file: string, readonly errors: readonly JobFieldError[]) {
    super(`${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}\n${errors.map((e) => e.message).join('\n')}`, 'input');
  }
}

/** The job file (or the defaults file) could not be read at all: "no such file: nope.yaml". */
export class JobFileReadError extends HornError {
  constructor(readonly file: string, readonly reason: string) {
    super(`${reason}: ${file}`, 'input');
  }
}
