// `horn submit JOB.yaml`: validate, check the cluster can run it, stage it to HDFS, submit it
// through the RM REST API and follow it to the end (or return at once with --detach).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import type { ApplicationReport } from '../../hadoop/rm-rest/client';
import { datasetFor, expandOutputPath, loadJobFile, resolveHdfsPath, type JobSpec } from '../../job';
import { expandInput, InputNotFoundError, type InputSpec } from '../../data';
import { hdfsLister } from '../../storage/hdfs';
import { RESOURCE, STAGED_JOB_VERSION, type JobResult, type StagedJob } from '../../protocol';
import { createClientContext, type ClientContext } from '../context';
import { ProgressPrinter } from '../progress';
import { followApplication, parseResult } from '../submit/follow';
import { capacityProblems, PreflightError, queueProblems, resourceProblems } from '../submit/preflight';
import { removeStaging, stageApplication } from '../submit/staging';
import { buildSubmission } from '../submit/submission';
import { readUserFiles, withStagedNeurons } from '../submit/user-files';

export interface SubmitArgs {
  job: string;
  detach: boolean;
  json: boolean;
  timeout?: number;
}

export interface SubmitOutcome {
  readonly applicationId: string;
  readonly state: string;
  readonly finalStatus: string;
  readonly trackingUrl?: string;
  readonly diagnostics?: string;
  readonly result?: JobResult;
}

/** Where the runtime bundle is: beside the `horn` bundle, or the build output in a checkout. */
export function runtimeBundlePath(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.HORN_RUNTIME_BUNDLE, join(__dirname, RESOURCE.runtime), join(__dirname, '..', '..', '..', 'dist', RESOURCE.runtime)].filter(
    (c): c is string => Boolean(c),
  );
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new HornError(`the runtime bundle ${RESOURCE.runtime} is missing (looked in ${candidates.join(', ')}); run npm run build`, 'cluster', { file: RESOURCE.runtime });
  return found;
}

export async function submitJob(args: SubmitArgs, stderr: NodeJS.WriteStream = process.stderr): Promise<SubmitOutcome> {
  const { spec, baseDir } = loadJobFile(args.job);
  const userFiles = readUserFiles(spec, baseDir);
  const runtime = readFileSync(runtimeBundlePath());
  const ctx = await createClientContext();
  const { applicationId, maximumResourceCapability } = await ctx.rm.newApplication();
  const cluster = { kind: 'cluster', user: ctx.user } as const;
  const train = datasetFor(spec, 'train', cluster);
  const test = spec.input.test ? datasetFor(spec, 'test', cluster).dataset : undefined;
  const outputModel = resolveHdfsPath(ctx.user, expandOutputPath(spec.output.model, { name: spec.name, now: new Date(), appId: applicationId }));
  const nodes = await preflight(ctx, spec, maximumResourceCapability, [train.dataset, ...(test ? [test] : [])], outputModel);

  const staged: StagedJob = {
    version: STAGED_JOB_VERSION,
    applicationId,
    user: ctx.user,
    spec: withStagedNeurons(spec, userFiles),
    storage: 'hdfs',
    train: train.dataset,
    test,
    readOptions: train.options,
    outputModel,
    userFiles: Object.fromEntries(userFiles.map((f) => [f.jobName, f.stagedName])),
    submittedAt: Date.now(),
    namenodeRpcAddress: new URL(ctx.endpoints.defaultFs).host,
    nodes,
  };
  try {
    const { stagingDir, resources, cached } = await stageApplication(ctx.hdfs, {
      user: ctx.user,
      applicationId,
      defaultFs: ctx.endpoints.defaultFs,
      // Reusable across applications: the runtime bundle, and the Node.js binary when shipped.
      cached: [
        { name: RESOURCE.runtime, bytes: runtime },
        ...(spec.cluster.runtime === 'ship' ? [{ name: RESOURCE.node, bytes: readFileSync(process.execPath) }] : []),
      ],
      files: [
        { name: RESOURCE.job, bytes: Buffer.from(JSON.stringify(staged)) },
        ...userFiles.map((f) => ({ name: f.stagedName, bytes: f.bytes })),
      ],
    });
    await ctx.rm.submitApplication(
      buildSubmission({
        applicationId,
        spec,
        user: ctx.user,
        resources,
        cached,
        stagingDir,
        namenodeHttpUrls: ctx.endpoints.namenodeHttpUrls,
        schedulerAddresses: ctx.endpoints.rmSchedulerAddresses,
        secret: randomBytes(32),
      }),
    );
  } catch (err) {
    await removeStaging(ctx.hdfs, ctx.user, applicationId).catch(() => false);
    throw err;
  }
  const ui = `${ctx.rm.webUrl}/cluster/app/${applicationId}`;
  if (args.detach) return { applicationId, state: 'SUBMITTED', finalStatus: 'UNDEFINED', trackingUrl: ui };

  stderr.write(`horn: submitted ${applicationId} (${ui})\n`);
  const printer = new ProgressPrinter(stderr);
  let final: ApplicationReport;
  try {
    final = await followApplication(ctx.rm, applicationId, {
      timeoutMs: args.timeout === undefined ? undefined : args.timeout * 1000,
      onUpdate: (view) => printer.update(view),
    });
  } finally {
    printer.done();
  }
  // The ApplicationMaster removes staging when it ends; a killed or crashed one cannot.
  await removeStaging(ctx.hdfs, ctx.user, applicationId).catch(() => false);
  return {
    applicationId,
    state: final.state,
    finalStatus: final.finalStatus,
    trackingUrl: final.trackingUrl,
    diagnostics: final.diagnostics,
    result: parseResult(final.diagnostics),
  };
}

/** Checks the job against the cluster; returns the running NodeManager hosts. */
async function preflight(ctx: ClientContext, spec: JobSpec, max: { memory: number; vCores: number }, inputs: InputSpec[], outputModel: string): Promise<string[]> {
  const lister = hdfsLister(ctx.hdfs);
  const expand = (input: InputSpec): Promise<string | undefined> =>
    expandInput(input, lister).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof InputNotFoundError) return `input ${err.message.replace(/^input /, '')}${input.format === 'idx' ? '' : ' in HDFS'}`;
        throw err;
      },
    );
  const [queues, nodes, inputProblems] = await Promise.all([ctx.rm.queues(), ctx.rm.nodes(['RUNNING']), Promise.all(inputs.map(expand))]);
  const problems = [...resourceProblems(spec, max), ...queueProblems(queues, spec.queue), ...inputProblems.filter((p): p is string => p !== undefined)];
  if (problems.length === 0) {
    problems.push(...capacityProblems(spec, nodes.map((n) => ({ host: n.nodeHostName, memory: n.availMemoryMB + n.usedMemoryMB, vCores: n.availableVirtualCores + n.usedVirtualCores }))));
  }
  if (spec.output.overwrite === 'fail' && (await ctx.hdfs.stat(outputModel))) {
    problems.push(`output.model ${outputModel} exists and output.overwrite is fail`);
  }
  if (problems.length) throw new PreflightError(problems);
  return nodes.map((n) => n.nodeHostName);
}

export function describeOutcome(o: SubmitOutcome): string {
  const r = o.result;
  const lines = [`${o.applicationId}: ${o.state}/${o.finalStatus}`];
  if (r?.testAccuracy !== undefined) lines.push(`test accuracy ${(r.testAccuracy * 100).toFixed(2)}%`);
  if (r?.model) lines.push(`model ${r.model}`);
  return lines.join('\n');
}

export const submitCommand: CommandModule<object, SubmitArgs> = {
  command: 'submit <job>',
  describe: 'Train a job on YARN: stage it to HDFS, submit it and follow it to the end',
  builder: (y: Argv<object>) =>
    y
      .positional('job', { type: 'string', demandOption: true, describe: 'the job file (YAML)' })
      .option('detach', { type: 'boolean', default: false, describe: 'return after submission, printing the application id' })
      .option('timeout', { type: 'number', describe: 'stop waiting after this many seconds (exit 5; the job keeps running)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the outcome as JSON' }) as unknown as Argv<SubmitArgs>,
  handler: async (args) => {
    const outcome = await submitJob(args);
    process.stdout.write(args.json ? `${JSON.stringify(outcome, null, 2)}\n` : args.detach ? `${outcome.applicationId}\n` : `${describeOutcome(outcome)}\n`);
    if (args.detach) return;
    if (outcome.state === 'KILLED' || outcome.finalStatus === 'KILLED') {
      throw new HornError(`${outcome.applicationId} was killed${outcome.diagnostics ? `: ${outcome.diagnostics}` : ''}`, 'killed', { applicationId: outcome.applicationId });
    }
    if (outcome.finalStatus !== 'SUCCEEDED') {
      throw new HornError(`${outcome.applicationId} failed: ${outcome.diagnostics ?? 'no diagnostics'}`, 'application', { applicationId: outcome.applicationId });
    }
  },
};
