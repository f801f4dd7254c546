// `horn renew APP_ID`: fresh delegation tokens for a running application on a Kerberized
// cluster. The RM renews the tokens of a submission only up to their maximum lifetime
// (dfs.namenode.delegation.token.max-lifetime, 7 days by default); a job that runs longer needs
// new ones. They go into the application's private staging directory, where only the user (and
// HDFS) can write: the ApplicationMaster and every container read them from there within seconds.
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import { decodeDelegationIdentifier, TokenKind } from '../../hadoop/security';
import { RENEWED_TOKENS_FILE } from '../../hadoop/webhdfs/delegation';
import { ENDED_STATES } from '../../hadoop/rm-rest/client';
import { createClientContext, type ClientContext } from '../context';
import { jsonLine } from '../format';
import { requireApplicationId } from './status';
import { stagingDir } from '../submit/staging';
import { applicationTokens, tokensAsCredentials } from '../submit/tokens';

export interface RenewArgs {
  app: string;
  json: boolean;
}

export interface RenewOutcome {
  readonly id: string;
  /** Where the tokens went. */
  readonly path: string;
  /** Per token kind: when it must be renewed by, at the latest (its maximum lifetime), ISO times. */
  readonly tokens: ReadonlyArray<{ readonly kind: string; readonly maxDate: string }>;
}

export async function renewApplication(ctx: ClientContext, id: string): Promise<RenewOutcome> {
  if (!ctx.security.kerberos) {
    throw new HornError('horn renew is for clusters with Kerberos (hadoop.security.authentication kerberos): without it there are no delegation tokens to renew', 'input', { applicationId: id });
  }
  const app = await ctx.rm.getApplication(id);
  if (ENDED_STATES.has(app.state)) throw new HornError(`${id} has ended (${app.state}/${app.finalStatus}); there is nothing to renew`, 'input', { applicationId: id, state: app.state });
  if (app.user !== ctx.user) throw new HornError(`${id} belongs to ${app.user}, not to ${ctx.user}: only its owner can renew its tokens`, 'input', { applicationId: id });
  const tokens = await applicationTokens(ctx);
  const path = `${stagingDir(ctx.user, id)}/${RENEWED_TOKENS_FILE}`;
  const credentials = tokensAsCredentials(tokens);
  if (!(await ctx.hdfs.createAtomically(path, credentials.serialize(), { permission: '600', replace: true }))) {
    throw new HornError(`could not place the renewed tokens at ${path}`, 'cluster', { path });
  }
  return {
    id,
    path,
    tokens: [...credentials.tokens.values()]
      .filter((t) => t.kind === TokenKind.HDFS_DELEGATION || t.kind === TokenKind.RM_DELEGATION)
      .map((t) => ({ kind: t.kind, maxDate: new Date(decodeDelegationIdentifier(t).maxDate).toISOString() })),
  };
}

export const renewCommand: CommandModule<object, RenewArgs> = {
  command: 'renew <app>',
  describe: 'Give a running application fresh delegation tokens (Kerberos; for jobs longer than the tokens\' maximum lifetime)',
  builder: (y: Argv<object>) =>
    y
      .positional('app', { type: 'string', demandOption: true, describe: 'application id (application_…)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the outcome as JSON' }) as unknown as Argv<RenewArgs>,
  handler: async (args) => {
    requireApplicationId(args.app);
    const outcome = await renewApplication(await createClientContext(), args.app);
    process.stdout.write(args.json ? jsonLine(outcome) : `${outcome.id}: renewed ${outcome.tokens.map((t) => `${t.kind} (usable until ${t.maxDate})`).join(', ')}\n`);
  },
};
