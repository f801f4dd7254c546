// Every error horn raises on purpose is a HornError: its `kind` says whose problem it is, which is
// what the `horn` command turns into its documented exit code, and `context` carries the facts
// (file, field, host, value…) that the message names.

export type ErrorKind =
  | 'input' //       the user's arguments, job file or data: nothing was submitted
  | 'cluster' //     configuration, ResourceManager, NameNode or other service problems
  | 'application' // the application ran and failed
  | 'killed' //      the application was killed
  | 'timeout' //     a wait ran out
  | 'internal'; //   a bug in horn

export type ErrorContext = Readonly<Record<string, string | number | boolean | undefined>>;

export class HornError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind,
    readonly context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The message of anything thrown, for diagnostics. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * A saved state (a checkpoint's part) does not fit what it is restored into; `field` names the
 * part, e.g. `optimizer.kind` or `order.position`.
 */
export class StateMismatchError extends HornError {
  constructor(readonly field: string, readonly expected: string, readonly found: string) {
    super(`cannot restore ${field}: expected ${expected}, found ${found}`, 'input', { field, expected, found });
  }
}
