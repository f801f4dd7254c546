// `horn submit JOB.yaml`: validate, check the cluster can run it, stage it to HDFS, submit it
// through the RM REST API and follow it to the end (or return at once with --detach).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import type { ApplicationReport } from '../../hadoop/rm-rest/client';
import { datasetFor, expandOutputPath, loadJobFile, resolveHdfsPath, resolveLocalPath, type JobSpec } from '../../job';
import { primaryPath, type DatasetSpec } from '../../data';
import { toCommonJs } from '../../engine';
import { findNativeKernelsFile } from '../../engine/kernels';
import { RESOURCE, STAGED_JOB_VERSION, type JobResult, type StagedJob } from '../../protocol';
import { createClientContext, type ClientContext } from '../context';
import { ProgressPrinter } from '../progress';
import { followApplication, parseResult } from '../submit/follow';
import { PreflightError, queueProblems, resourceProblems } from '../submit/preflight';
import { removeStaging, stageApplication } from '../submit/staging';
import { buildSubmission } from '../submit/submission';

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
  await preflight(ctx, spec, maximumResourceCapability, [train.dataset, ...(test ? [test] : [])], outputModel);

  const staged: StagedJob = {
    version: STAGED_JOB_VERSION,
    applicationId,
    user: ctx.user,
    spec: withStagedNeurons(spec, userFiles),
    train: train.dataset,
    test,
    readOptions: train.options,
    outputModel,
    userFiles: Object.fromEntries(userFiles.map((f) => [f.jobName, f.stagedName])),
    submittedAt: Date.now(),
  };
  try {
    const { stagingDir, resources, cached } = await stageApplication(ctx.hdfs, {
      user: ctx.user,
      applicationId,
      defaultFs: ctx.endpoints.defaultFs,
      // Reusable across applications: the runtime bundle, the Node.js binary when shipped, the native kernels.
      cached: [
        { name: RESOURCE.runtime, bytes: runtime },
        ...(spec.cluster.runtime === 'ship' ? [{ name: RESOURCE.node, bytes: readFileSync(process.execPath) }] : []),
        // The native kernels where this machine built them; a container that cannot load them says so and runs WebAssembly.
        ...[findNativeKernelsFile()].flatMap((path) => (path ? [{ name: RESOURCE.nativeKernels, bytes: readFileSync(path) }] : [])),
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

async function preflight(ctx: ClientContext, spec: JobSpec, max: { memory: number; vCores: number }, datasets: DatasetSpec[], outputModel: string): Promise<void> {
  const inputs = [...new Set(datasets.flatMap((d) => (d.format === 'idx' ? [d.images, d.labels] : [primaryPath(d)])))];
  const [queues, statuses] = await Promise.all([ctx.rm.queues(), Promise.all(inputs.map((p) => ctx.hdfs.stat(p)))]);
  const problems = [...resourceProblems(spec, max), ...queueProblems(queues, spec.queue)];
  inputs.forEach((p, i) => {
    const status = statuses[i];
    if (!status) problems.push(`input ${p} does not exist in HDFS`);
    else if (status.type !== 'FILE') problems.push(`input ${p} is a ${status.type.toLowerCase()}, not a file`);
  });
  if (spec.output.overwrite === 'fail' && (await ctx.hdfs.stat(outputModel))) {
    problems.push(`output.model ${outputModel} exists and output.overwrite is fail`);
  }
  if (problems.length) throw new PreflightError(problems);
}

interface UserFile {
  readonly jobName: string;
  readonly stagedName: string;
  readonly bytes: Buffer;
}

/**
 * User neuron files, as CommonJS: containers have no TypeScript compiler, so TypeScript and ES
 * modules are transpiled here, on the edge node.
 */
function readUserFiles(spec: JobSpec, baseDir: string): UserFile[] {
  const names = [...new Set(spec.model.layers.flatMap((l) => (l.neuron ? [l.neuron.file] : [])))];
  return names.map((jobName, i) => {
    const path = resolveLocalPath(baseDir, jobName);
    if (!existsSync(path)) throw new HornError(`neuron file ${jobName} (${path}) does not exist`, 'input', { field: 'model.layers[].neuron.file', file: path });
    const code = toCommonJs(path, readFileSync(path, 'utf8'));
    return { jobName, stagedName: `${RESOURCE.userCode}-${i}-${basename(path).replace(/\.[cm]?[jt]s$/, '')}.js`, bytes: Buffer.from(code) };
  });
}

/** The job as staged: neuron files renamed to their staged CommonJS copies. */
function withStagedNeurons(spec: JobSpec, files: readonly UserFile[]): JobSpec {
  const staged = new Map(files.map((f) => [f.jobName, f.stagedName]));
  return { ...spec, model: { ...spec.model, layers: spec.model.layers.map((l) => (l.neuron ? { ...l, neuron: { ...l.neuron, file: staged.get(l.neuron.file) ?? l.neuron.file } } : l)) } };
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
