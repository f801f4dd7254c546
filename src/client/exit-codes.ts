import { HornError, type ErrorKind } from '../common/errors';

/**
 * The `horn` command's exit codes, documented in the README and fixed from now on:
 *
 *   0  succeeded
 *   1  the application failed
 *   2  invalid input (arguments, job file, a file or id the user named) — nothing was submitted
 *   3  the application was killed
 *   4  cluster or environment error (configuration missing, RM or NameNode unreachable, HDFS refused)
 *   5  a --timeout expired (the job is left running and its id printed)
 *  70  internal error: a bug in horn (BSD sysexits EX_SOFTWARE), kept apart from 1 so that a
 *      script never mistakes a horn crash for a failed training run
 */
export const ExitCode = {
  Succeeded: 0,
  ApplicationFailed: 1,
  InvalidInput: 2,
  Killed: 3,
  ClusterError: 4,
  Timeout: 5,
  Internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const BY_KIND: Readonly<Record<ErrorKind, ExitCode>> = {
  input: ExitCode.InvalidInput,
  cluster: ExitCode.ClusterError,
  application: ExitCode.ApplicationFailed,
  killed: ExitCode.Killed,
  timeout: ExitCode.Timeout,
  internal: ExitCode.Internal,
};

/** Local file errors: a path on the command line or in a job file that is not there or not readable. */
const INPUT_ERRNO_CODES = new Set(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EPERM']);

/** A command-line usage error (unknown option, missing argument…): exit 2. */
export class UsageError extends HornError {
  constructor(message: string) {
    super(message, 'input');
  }
}

/** Errors the user's input caused (their class says so with kind 'input'). */
export function isInputError(err: unknown): err is HornError {
  return err instanceof HornError && err.kind === 'input';
}

/** The exit code for anything a command throws. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof HornError) return BY_KIND[err.kind] ?? ExitCode.Internal;
  if (err instanceof Error) {
    // yargs' own validation errors (unknown option, missing argument).
    if (err.name === 'YError') return ExitCode.InvalidInput;
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && INPUT_ERRNO_CODES.has(code) && 'syscall' in err) return ExitCode.InvalidInput;
  }
  return ExitCode.Internal;
}

/** What to print after "horn: " for an error: the message, and for internal errors the stack (bugs need it). */
export function errorMessageFor(err: unknown, code: ExitCode = exitCodeFor(err)): string {
  if (!(err instanceof Error)) return String(err);
  if (code === ExitCode.Internal) return `internal error: ${err.stack ?? err.message}`;
  return err.message;
}

/**
 * Runs a model tool's handler (eval, export, predict): input errors are printed as
 * `horn <command>: …` with exit 2; every other error goes on to main's report.
 */
export async function reportInputErrors(command: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!isInputError(err)) throw err;
    process.stderr.write(`horn ${command}: ${err.message}\n`);
    process.exitCode = ExitCode.InvalidInput;
  }
}
