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
let settled = false;
// The event loop ran empty while the command still waited for something that can no longer
// happen: a bug, which must not pass for success (exit 0) in a cron log.
process.on('beforeExit', () => {
  if (!settled) reportAndExit(new Error('horn stopped: the command was waiting for an operation that can no longer finish'));
});
runCli(hideBin(process.argv)).finally(() => (settled = true)).then(
  // Let stdout drain (piped JSON) before leaving; open keep-alive sockets must not keep horn alive.
  (code) => process.stdout.write('', () => process.exit(code)),
  reportAndExit,
);
