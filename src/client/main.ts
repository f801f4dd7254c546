import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

// The `horn` command. Each sub-command lives in its own module under src/client/commands.
export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('horn')
    .usage('$0 <command> [options]\n\nDistributed neural-network training as a native Hadoop YARN application.')
    .demandCommand(1, 'Name a command; see --help.')
    .strict()
    .help()
    .version(false)
    .parseAsync();
}

main(hideBin(process.argv)).catch((err: unknown) => {
  process.stderr.write(`horn: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
