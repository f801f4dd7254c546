import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { killCommand } from './commands/kill';
import { listCommand } from './commands/list';
import { logsCommand } from './commands/logs';
import { statusCommand } from './commands/status';
import { submitCommand } from './commands/submit';
import { trainCommand } from './commands/train';
import { validateCommand } from './commands/validate';
import { ExitCode, UsageError, errorMessageFor, exitCodeFor } from './exit-codes';

const EPILOGUE = [
  'Exit codes: 0 succeeded; 1 the application failed; 2 invalid input (nothing was submitted); 3 the application was killed; ' +
    '4 cluster or environment error (configuration, ResourceManager, NameNode, HDFS); 5 --timeout expired (the job keeps running); 70 internal error in horn.',
  'The cluster is found through HADOOP_CONF_DIR (core-site.xml, hdfs-site.xml, yarn-site.xml); the user is HADOOP_USER_NAME or the OS user.',
].join('\n\n');

// Each module's own Args type; yargs only needs them as commands of the root parser.
const COMMANDS: ReadonlyArray<CommandModule<object, never>> = [
  submitCommand,
  statusCommand,
  listCommand,
  killCommand,
  logsCommand,
  validateCommand,
  trainCommand,
  evalCommand,
  exportCommand,
] as unknown as ReadonlyArray<CommandModule<object, never>>;

/** Parses and runs one command line; resolves to the exit code (commands may also set process.exitCode). */
export async function main(argv: string[]): Promise<number> {
  const cli = yargs(argv);
  let parser = cli
    .scriptName('horn')
    .usage('$0 <command> [options]\n\nDistributed neural-network training as a native Hadoop YARN application.')
    .epilogue(EPILOGUE)
    .demandCommand(1, 'Name a command; see horn --help.')
    .recommendCommands()
    .strict()
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(Math.min(120, cli.terminalWidth()))
    // Usage mistakes become input errors (exit 2); errors thrown by handlers pass through unchanged.
    .fail((message, err) => {
      if (err) throw err;
      throw new UsageError(`${message}\n(see horn --help, or horn <command> --help)`);
    });
  for (const command of COMMANDS) parser = parser.command(command);
  await parser.parseAsync();
  return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Succeeded;
}

/** The one place where errors become the documented exit codes and a `horn: …` line on stderr. */
export function reportAndExit(err: unknown): never {
  const code = exitCodeFor(err);
  process.stderr.write(`horn: ${errorMessageFor(err, code)}\n`);
  process.exit(code);
}

// This module is the entry point of the `horn` bundle (bin/horn.js requires it).
// `horn logs … | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(ExitCode.Succeeded);
  reportAndExit(err);
});
main(hideBin(process.argv)).then(
  // Let stdout drain (piped JSON) before leaving; open keep-alive sockets must not keep horn alive.
  (code) => process.stdout.write('', () => process.exit(code)),
  reportAndExit,
);
