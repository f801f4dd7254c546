// The `horn` command line: the yargs parser with every command, `--version`, and the checks that
// make every mistyped command or option an input error (exit 2) that names it with a
// did-you-mean. Separate from main.ts (the bundle's entry point) so tests can run it in-process.
import yargs, { type Argv, type CommandModule } from 'yargs';
import packageJson from '../../package.json';
import { didYouMean } from '../job/schema-kit';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { killCommand } from './commands/kill';
import { renewCommand } from './commands/renew';
import { listCommand } from './commands/list';
import { logsCommand } from './commands/logs';
import { predictCommand } from './commands/predict';
import { reportCommand } from './commands/report';
import { statusCommand } from './commands/status';
import { submitCommand } from './commands/submit';
import { trainCommand } from './commands/train';
import { validateCommand } from './commands/validate';
import { ExitCode, UsageError } from './exit-codes';

export const HORN_VERSION: string = packageJson.version;

const EPILOGUE = [
  'Exit codes: 0 succeeded; 1 the application failed; 2 invalid input (nothing was submitted); 3 the application was killed; ' +
    '4 cluster or environment error (configuration, ResourceManager, NameNode, HDFS); 5 --timeout expired (the job keeps running); 70 internal error in horn.',
  'Paths of models and data (eval, export, predict): /abs/path, relative/path and hdfs://… are in HDFS (relative ones under /user/<you>); ./path, ../path and file:path are local files.',
  'The cluster is found through HADOOP_CONF_DIR (core-site.xml, hdfs-site.xml, yarn-site.xml); the user is HADOOP_USER_NAME or the OS user.',
].join('\n\n');

// Each module's own Args type; yargs only needs them as commands of the root parser.
export const COMMANDS: ReadonlyArray<CommandModule<object, never>> = [
  submitCommand,
  statusCommand,
  listCommand,
  killCommand,
  renewCommand,
  logsCommand,
  reportCommand,
  validateCommand,
  trainCommand,
  evalCommand,
  exportCommand,
  predictCommand,
] as unknown as ReadonlyArray<CommandModule<object, never>>;

/** Options every command takes (yargs adds the first three; the others are horn's security options). */
const GLOBAL_OPTIONS = ['help', 'h', 'version', 'keytab', 'principal', 'ca-file', 'caFile'];

function commandName(c: CommandModule<object, never>): string {
  return String(c.command).split(' ')[0]!;
}

/** The options a command's builder declares, with their aliases, as yargs parses them. */
export function declaredOptions(command: CommandModule<object, never>): Set<string> {
  const probe = yargs([]);
  if (typeof command.builder === 'function') (command.builder as (y: Argv<object>) => unknown)(probe);
  // getOptions() is how yargs itself reads what a builder declared; its typings leave it out.
  const options = (probe as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
  const names = new Set<string>(GLOBAL_OPTIONS);
  for (const key of Object.keys(options.key)) names.add(key);
  for (const aliases of Object.values(options.alias)) for (const a of aliases) names.add(a);
  return names;
}

const camelCase = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebabCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `--name`, `--name=value`, `--no-name` and `-n` as the option names yargs would look up. */
function optionNames(token: string): string[] {
  if (token.startsWith('--')) {
    const name = token.slice(2).split('=')[0]!;
    return name.startsWith('no-') ? [name, name.slice(3)] : [name];
  }
  // A short option (or a cluster of them, -ab): its first letter names the first option.
  return [token.slice(1, 2)];
}

function isOptionToken(token: string): boolean {
  // Negative numbers are values (`--label-column -1`), `-` alone is a file name (stdout).
  return token.startsWith('-') && token !== '-' && token !== '--' && !/^-\d/.test(token);
}

function isKnown(names: readonly string[], known: ReadonlySet<string>): boolean {
  return names.some((n) => known.has(n) || known.has(kebabCase(n)) || known.has(camelCase(n)));
}

/**
 * The first problem with the command and option names on a command line, as a message, or
 * undefined. yargs checks positional counts before unknown options, so `submit --detatch job.yaml`
 * (the option taking job.yaml as its value) would otherwise be reported as a missing argument.
 */
export function unknownNameProblem(argv: readonly string[], commands: ReadonlyArray<CommandModule<object, never>> = COMMANDS): string | undefined {
  const end = argv.indexOf('--');
  const tokens = end < 0 ? argv : argv.slice(0, end);
  const commandAt = tokens.findIndex((t) => !isOptionToken(t));
  const byName = new Map(commands.map((c) => [commandName(c), c]));
  const typed = commandAt < 0 ? undefined : tokens[commandAt]!;
  const command = typed === undefined ? undefined : byName.get(typed);
  if (typed !== undefined && command === undefined) {
    const guess = didYouMean(typed, [...byName.keys()]);
    return `unknown command ${typed} (${guess ? `did you mean ${guess}?` : `commands: ${[...byName.keys()].join(', ')}`}); see horn --help`;
  }
  const known = new Set([...(command ? declaredOptions(command) : []), ...GLOBAL_OPTIONS]);
  const unknown = tokens.filter((t) => isOptionToken(t) && !isKnown(optionNames(t), known)).map((t) => t.split('=')[0]!);
  if (unknown.length === 0) return undefined;
  const where = command ? `horn ${typed}` : 'horn';
  const candidates = [...known].filter((k) => k.length > 1 && k !== 'version').map((k) => `--${k}`);
  const described = unknown.map((u) => {
    const guess = u.startsWith('--') ? didYouMean(u, candidates) : undefined;
    return guess ? `${u} (did you mean ${guess}?)` : u;
  });
  return `${command ? `${typed}: ` : ''}unknown option${unknown.length === 1 ? '' : 's'} ${described.join(', ')}; see ${where} --help`;
}

/** yargs' usage messages, reworded where they would not tell a user what to do. */
export function usageMessage(message: string, argv: readonly string[]): string {
  const typed = argv.find((t) => !isOptionToken(t));
  const command = COMMANDS.find((c) => commandName(c) === typed);
  const help = command ? `horn ${typed} --help` : 'horn --help';
  if (/^Not enough non-option arguments/.test(message) && command) {
    const usage = String(command.command);
    return `${typed}: missing ${(usage.match(/<[^>]+>/g) ?? []).join(' ')} (usage: horn ${usage} [options]); see ${help}`;
  }
  return `${command ? `${typed}: ` : ''}${message.replace(/\n+/g, '; ')}; see ${help}`;
}

export function buildParser(argv: readonly string[]): Argv<object> {
  const cli = yargs([...argv]);
  let parser = cli
    .scriptName('horn')
    .usage('$0 <command> [options]\n\nDistributed neural-network training as a native Hadoop YARN application.')
    .epilogue(EPILOGUE)
    .demandCommand(1, 'name a command')
    .option('keytab', { type: 'string', global: true, describe: 'Kerberos: log in with this keytab (with --principal) instead of the ticket cache; also HORN_KEYTAB' })
    .option('principal', { type: 'string', global: true, describe: 'Kerberos: the principal for --keytab, e.g. alice@EXAMPLE.COM; also HORN_PRINCIPAL' })
    .option('ca-file', { type: 'string', global: true, describe: 'PEM file of the CA that signed the cluster\'s HTTPS certificates; also HORN_CA_FILE' })
    // The cluster layer reads them from the environment, where every command (and nothing else) finds them.
    .middleware((a) => {
      for (const [option, variable] of [['keytab', 'HORN_KEYTAB'], ['principal', 'HORN_PRINCIPAL'], ['ca-file', 'HORN_CA_FILE']] as const) {
        const v = a[option];
        if (typeof v === 'string' && v !== '') process.env[variable] = v;
      }
    })
    .recommendCommands()
    .strict()
    .help()
    .alias('help', 'h')
    .version(HORN_VERSION)
    // --help and --version print and return; main exits (tests run the parser in-process).
    .exitProcess(false)
    .wrap(Math.min(120, cli.terminalWidth()))
    // Usage mistakes become input errors (exit 2); errors thrown by handlers pass through unchanged.
    .fail((message, err) => {
      if (err) throw err;
      throw new UsageError(usageMessage(message, argv));
    });
  for (const command of COMMANDS) parser = parser.command(command);
  return parser;
}

/** Parses and runs one command line; resolves to the exit code (commands may also set process.exitCode). */
export async function runCli(argv: readonly string[]): Promise<number> {
  const problem = unknownNameProblem(argv);
  if (problem) throw new UsageError(problem);
  await buildParser(argv).parseAsync();
  return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Succeeded;
}
