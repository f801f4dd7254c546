// The entry point of the `horn` bundle (bin/horn.js requires it): runs the command line and turns
// its outcome into the documented exit code.
import { hideBin } from 'yargs/helpers';
import { runCli } from './cli';
import { ExitCode, errorMessageFor, exitCodeFor } from './exit-codes';

/** The one place where errors become the documented exit codes and a `horn: …` line on stderr. */
export function reportAndExit(err: unknown): never {
  const code = exitCodeFor(err);
  process.stderr.write(`horn: ${errorMessageFor(err, code)}\n`);
  process.exit(code);
}

// `horn logs … | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(ExitCode.Succeeded);
  reportAndExit(err);
});
runCli(hideBin(process.argv)).then(
  // Let stdout drain (piped JSON) before leaving; open keep-alive sockets must not keep horn alive.
  (code) => process.stdout.write('', () => process.exit(code)),
  reportAndExit,
);
