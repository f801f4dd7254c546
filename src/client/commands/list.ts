// `horn list [--all] [--json]`: the user's HORN applications, running ones unless --all.
import type { Argv, CommandModule } from 'yargs';
import { ACTIVE_STATES, type ApplicationReport } from '../../hadoop/rm-rest/client';
import { APPLICATION_TYPE } from '../../protocol';
import { createClientContext, type ClientContext } from '../context';
import { formatDuration, formatTable, jsonLine } from '../format';
import { applicationStatus, meaningfulProgress } from './status';

export interface ListArgs {
  all: boolean;
  json: boolean;
  user?: string;
  'all-users': boolean;
  limit?: number;
}

/** Newest first. */
export function sortApplications(apps: readonly ApplicationReport[]): ApplicationReport[] {
  return [...apps].sort((a, b) => b.startedTime - a.startedTime || b.id.localeCompare(a.id));
}

/** The table `yarn application -list` prints, tracking URL last (names may hold spaces, URLs do not). */
export function formatList(apps: readonly ApplicationReport[]): string {
  if (apps.length === 0) return 'no applications\n';
  return formatTable(
    ['APPLICATION', 'STATE', 'FINAL', 'PROGRESS', 'ELAPSED', 'QUEUE', 'USER', 'NAME', 'TRACKING URL'],
    apps.map((a) => {
      const progress = meaningfulProgress(a);
      return [a.id, a.state, a.finalStatus, progress === undefined ? '-' : `${progress.toFixed(0)}%`, formatDuration(a.elapsedTime), a.queue, a.user, a.name, a.trackingUrl || '-'];
    }),
  );
}

export async function runList(ctx: Pick<ClientContext, 'rm' | 'user'>, args: ListArgs): Promise<string> {
  const user = args['all-users'] ? undefined : (args.user ?? ctx.user);
  const apps = sortApplications(
    await ctx.rm.listApplications({
      applicationTypes: [APPLICATION_TYPE],
      user,
      states: args.all ? undefined : ACTIVE_STATES,
      limit: args.limit,
    }),
  );
  // One application per line, each as `horn status --json` prints it.
  if (args.json) return apps.map((a) => jsonLine(applicationStatus(a))).join('');
  return formatList(apps);
}

export const listCommand: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'List your HORN applications (running ones unless --all)',
  builder: (y: Argv<object>) =>
    y
      .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'include finished, failed and killed applications' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object per application, one per line' })
      .option('user', { type: 'string', describe: 'whose applications (default: HADOOP_USER_NAME or the OS user)' })
      .option('all-users', { type: 'boolean', default: false, describe: "everyone's HORN applications" })
      .option('limit', { type: 'number', describe: 'at most this many (the RM keeps a bounded history anyway)' }) as unknown as Argv<ListArgs>,
  handler: async (args) => {
    process.stdout.write(await runList(await createClientContext(), args));
  },
};
