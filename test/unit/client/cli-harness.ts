// Runs the `horn` command line in this process as bin/horn.js would (src/client/main.ts): the
// same parser, the same error report on stderr and exit code, with stdout and stderr captured.
import { runCli } from '../../../src/client/cli';
import { errorMessageFor, exitCodeFor } from '../../../src/client/exit-codes';

export interface CliRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export async function horn(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stdout += Buffer.from(chunk).toString();
    const done = rest.find((r): r is () => void => typeof r === 'function');
    done?.();
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += Buffer.from(chunk).toString()), true));
  // yargs prints --help and --version through console.log, which jest decorates.
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void (stdout += `${args.join(' ')}\n`));
  const previous = process.exitCode;
  const savedEnv = { ...process.env };
  Object.assign(process.env, env);
  process.exitCode = undefined;
  try {
    const exitCode = await runCli(argv).catch((e: unknown) => {
      const code = exitCodeFor(e);
      stderr += `horn: ${errorMessageFor(e, code)}\n`;
      return code;
    });
    return { stdout, stderr, exitCode };
  } finally {
    process.exitCode = previous;
    process.env = savedEnv;
    out.mockRestore();
    log.mockRestore();
    err.mockRestore();
  }
}
