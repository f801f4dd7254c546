// `horn kill APP_ID`: ask the RM to kill an application and wait until it has ended.
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import { sleep } from '../../common/sleep';
import { createClientContext, type ClientContext } from '../context';
import { jsonLine } from '../format';
import { ENDED_STATES } from '../../hadoop/rm-rest/client';
import { requireApplicationId } from './status';
import { removeStaging } from '../submit/staging';

export interface KillArgs {
  app: string;
  json: boolean;
  wait: number;
}

export interface KillOutcome {
  readonly id: string;
  /** killed: this call ended it; ended: it had already ended. */
  readonly outcome: 'killed' | 'ended';
  readonly state: string;
  readonly finalStatus: string;
}

/**
 * Exit 0 when the application is killed or had already ended; an unknown id is an input error
 * (exit 2); an application that is still not ended after `waitSeconds` is a timeout (exit 5).
 */
export async function killApplication(ctx: Pick<ClientContext, 'rm'>, appId: string, waitSeconds: number, pollMs = 500): Promise<KillOutcome> {
  const id = requireApplicationId(appId);
  const before = await ctx.rm.getApplication(id);
  if (ENDED_STATES.has(before.state)) return { id, outcome: 'ended', state: before.state, finalStatus: before.finalStatus };
  const deadline = Date.now() + waitSeconds * 1000;
  for (let poll = 0; ; poll++) {
    // The RM answers 202 while the kill is in progress and documents repeating the PUT until it
    // answers KILLED; every few polls is enough.
    if (poll % 10 === 0) {
      const state = await ctx.rm.killApplication(id);
      if (ENDED_STATES.has(state)) break;
    }
    const now = await ctx.rm.getApplication(id);
    if (ENDED_STATES.has(now.state)) break;
    if (Date.now() > deadline) {
      throw new HornError(`asked the ResourceManager to kill ${id}, but it is still ${now.state} after ${waitSeconds} s`, 'timeout', { applicationId: id, state: now.state });
    }
    await sleep(pollMs);
  }
  const after = await ctx.rm.getApplication(id);
  return { id, outcome: after.state === 'KILLED' ? 'killed' : 'ended', state: after.state, finalStatus: after.finalStatus };
}

export function formatKill(k: KillOutcome): string {
  return k.outcome === 'killed' ? `${k.id} killed\n` : `${k.id} had already ended: ${k.state}/${k.finalStatus}\n`;
}

export const killCommand: CommandModule<object, KillArgs> = {
  command: 'kill <app>',
  describe: 'Kill an application (exit 0 once killed or if it had already ended)',
  builder: (y: Argv<object>) =>
    y
      .positional('app', { type: 'string', demandOption: true, describe: 'application id (application_…)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the outcome as JSON' })
      .option('wait', { type: 'number', default: 60, describe: 'seconds to wait for the application to end (then exit 5)' }) as unknown as Argv<KillArgs>,
  handler: async (args) => {
    requireApplicationId(args.app);
    const ctx = await createClientContext();
    const outcome = await killApplication(ctx, args.app, args.wait);
    // A killed AM may not have removed its staging (a later attempt would have needed it).
    if (outcome.outcome === 'killed') await removeStaging(ctx.hdfs, ctx.user, outcome.id).catch(() => false);
    process.stdout.write(args.json ? jsonLine(outcome) : formatKill(outcome));
  },
};
