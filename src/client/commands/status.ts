// `horn status APP_ID [--json]`: what the ResourceManager says about one application.
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import type { ApplicationReport } from '../../hadoop/rm-rest/client';
import { createClientContext, type ClientContext } from '../context';
import { diagnosticsText, parseResult, type JobResult } from '../../protocol';
import { formatDuration, formatFields, isoTime, jsonLine, percent } from '../format';
import { finalTraining, formatTraining } from '../history';

const APPLICATION_ID = /^application_\d+_\d+$/;

/** The id as typed, or an input error (exit 2) before any request is made. */
export function requireApplicationId(value: unknown): string {
  const id = String(value ?? '').trim();
  if (!APPLICATION_ID.test(id)) {
    throw new HornError(`not an application id: ${JSON.stringify(value)} (expected application_<cluster timestamp>_<sequence>)`, 'input', { applicationId: id });
  }
  return id;
}

/** The machine-readable status of one application: stable field names, times as ISO strings. */
export interface ApplicationStatus {
  readonly id: string;
  readonly name: string;
  /** The YARN application type (HORN for horn's jobs). */
  readonly type: string;
  readonly user: string;
  readonly queue: string;
  readonly state: string;
  readonly finalStatus: string;
  /** 0–100; absent for a killed or failed application (state or final status), whose RM figure (100) says nothing. */
  readonly progress?: number;
  readonly trackingUrl?: string;
  /** The diagnostics as text, without the result line the ApplicationMaster embeds in them. */
  readonly diagnostics?: string;
  /** What a finished horn job reported (accuracy, model path, …), parsed from the diagnostics. */
  readonly result?: JobResult;
  readonly tags: string[];
  readonly startedTime?: string;
  readonly finishedTime?: string;
  readonly elapsedMs: number;
  readonly amHost?: string;
  readonly amContainerLogs?: string;
}

/** States and final statuses whose progress the RM reports as 100 % although the work did not complete. */
const UNFINISHED_ENDS = new Set(['KILLED', 'FAILED']);

/** The RM's progress (0–100) when it means something: not for a killed or failed application. */
export function meaningfulProgress(app: Pick<ApplicationReport, 'state' | 'finalStatus' | 'progress'>): number | undefined {
  return UNFINISHED_ENDS.has(app.state) || UNFINISHED_ENDS.has(app.finalStatus) ? undefined : app.progress;
}

/**
 * The job's result as data. It passes through whatever the ApplicationMaster reports, except the
 * wire frame's own header fields, which are not part of the result.
 */
export function publicResult(diagnostics: string | undefined): JobResult | undefined {
  const parsed = parseResult(diagnostics);
  if (!parsed) return undefined;
  const { type: _type, id: _id, ...result } = parsed as JobResult & { type?: unknown; id?: unknown };
  return result;
}

export function applicationStatus(app: ApplicationReport): ApplicationStatus {
  const progress = meaningfulProgress(app);
  return {
    id: app.id,
    name: app.name,
    type: app.applicationType,
    user: app.user,
    queue: app.queue,
    state: app.state,
    finalStatus: app.finalStatus,
    progress: progress === undefined ? undefined : Math.round(progress * 10) / 10,
    trackingUrl: app.trackingUrl || undefined,
    diagnostics: diagnosticsText(app.diagnostics),
    result: publicResult(app.diagnostics),
    tags: app.applicationTags ? app.applicationTags.split(',').filter((t) => t !== '') : [],
    startedTime: isoTime(app.startedTime),
    finishedTime: isoTime(app.finishedTime),
    elapsedMs: app.elapsedTime,
    amHost: app.amHostHttpAddress || undefined,
    amContainerLogs: app.amContainerLogs || undefined,
  };
}

export function formatStatus(s: ApplicationStatus): string {
  const r = s.result;
  return formatFields([
    ['Application', s.id],
    ['Name', s.name],
    ['Type', s.type],
    ['User', s.user],
    ['Queue', s.queue],
    ['State', s.state],
    ['Final status', s.finalStatus],
    ['Progress', s.progress === undefined ? undefined : `${s.progress.toFixed(1)}%`],
    ['Started', s.startedTime],
    ['Finished', s.finishedTime],
    ['Elapsed', formatDuration(s.elapsedMs)],
    ['Tracking URL', s.trackingUrl],
    ['Tags', s.tags.join(', ') || undefined],
    ['Test accuracy', r?.testAccuracy === undefined ? undefined : percent(r.testAccuracy)],
    ['Model', r?.model],
    ['Diagnostics', s.diagnostics],
  ]);
}

export interface StatusArgs {
  app: string;
  json: boolean;
}

export async function runStatus(ctx: Pick<ClientContext, 'rm'> & Partial<Pick<ClientContext, 'hdfs'>>, args: StatusArgs): Promise<string> {
  const id = requireApplicationId(args.app);
  const app = await ctx.rm.getApplication(id);
  const status = applicationStatus(app);
  // After the end, the final curves' key numbers from the history.json beside the model.
  const training = ctx.hdfs ? await finalTraining(ctx.hdfs, app) : undefined;
  if (args.json) return jsonLine(training ? { ...status, training } : status);
  return formatStatus(status) + (training ? `\n${formatTraining(training)}` : '');
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status <app>',
  describe: "Show an application's state, final status, progress, tracking URL and diagnostics",
  builder: (y: Argv<object>) =>
    y
      .positional('app', { type: 'string', demandOption: true, describe: 'application id (application_…)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the status as JSON' }) as unknown as Argv<StatusArgs>,
  handler: async (args) => {
    requireApplicationId(args.app);
    process.stdout.write(await runStatus(await createClientContext(), args));
  },
};
