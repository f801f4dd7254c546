// `horn submit JOB.yaml`: validate, check the cluster can run it, stage it to HDFS, submit it
// through the RM REST API and follow it to the end (or return at once with --detach).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import { datasetFor, expandOutputPath, loadJobFile, resolveHdfsPath, resolveLocalPath, type JobSpec } from '../../job';
import { primaryPath, type DatasetSpec } from '../../data';
import { toCommonJs } from '../../engine';
import { RESOURCE, STAGED_JOB_VERSION, type StagedJob } from '../../protocol';
import { createClientContext, type ClientContext } from '../context';
import { jsonLine, percent, plural } from '../format';
import { ProgressPrinter } from '../progress';
import { applicationStatus, publicResult, type ApplicationStatus } from './status';
import { followApplication } from '../submit/follow';
import { PreflightError, queueProblems, resourceProblems } from '../submit/preflight';
import { removeStaging, stageApplication } from '../submit/staging';
import { buildSubmission } from '../submit/submission';

export interface SubmitArgs {
  job: string;
  detach: boolean;
  json: boolean;
  timeout?: number;
}

/** What `submit` reports: the application's status as `horn status --json` gives it, and how the wait ended. */
export interface SubmitOutcome {
  readonly status: ApplicationStatus;
  /** submitted: --detach; timedOut: --timeout expired (the job keeps running); ended: it reached a final state. */
  readonly wait: 'submitted' | 'timedOut' | 'ended';
  /** Wall time of this command, from the start to the end of the wait. */
  readonly seconds: number;
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
  const started = performance.now();
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
  const seconds = () => (performance.now() - started) / 1000;
  if (args.detach) return { status: applicationStatus(await ctx.rm.getApplication(applicationId)), wait: 'submitted', seconds: seconds() };

  stderr.write(`horn: submitted ${applicationId} (${ui})\n`);
  const printer = new ProgressPrinter(stderr);
  const followed = await followApplication(ctx.rm, applicationId, {
    timeoutMs: args.timeout === undefined ? undefined : args.timeout * 1000,
    onUpdate: (view) => printer.update(view),
  }).catch((err: unknown) => {
    printer.done();
    throw err;
  });
  // A job that succeeded has done all its work: the display ends at 100 %, with the job's own
  // figures (the last status poll may predate the last epoch).
  const result = publicResult(followed.app.diagnostics);
  if (followed.app.finalStatus === 'SUCCEEDED') {
    printer.done({ state: 'done', progress: 1, epoch: result?.epochs, epochs: result?.epochs, samplesPerSecond: result?.samplesPerSecond }, true);
  } else {
    printer.done({ state: followed.app.state });
  }
  if (followed.timedOut) return { status: applicationStatus(followed.app), wait: 'timedOut', seconds: seconds() };
  // The ApplicationMaster removes staging when it ends; a killed or crashed one cannot.
  await removeStaging(ctx.hdfs, ctx.user, applicationId).catch(() => false);
  return { status: applicationStatus(followed.app), wait: 'ended', seconds: seconds() };
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

/** The summary line of an ended job: final status, accuracy, training time of the wall time; then the model. */
export function describeOutcome(o: SubmitOutcome): string {
  const s = o.status;
  const r = s.result;
  const facts: string[] = [];
  if (r?.testAccuracy !== undefined) facts.push(`test accuracy ${percent(r.testAccuracy)}`);
  if (r?.epochs !== undefined) facts.push(plural(r.epochs, 'epoch'));
  facts.push(r?.seconds !== undefined ? `training ${r.seconds.toFixed(1)} s of ${o.seconds.toFixed(1)} s elapsed` : `${o.seconds.toFixed(1)} s elapsed`);
  const lines = [`${s.id} ${s.state}/${s.finalStatus}: ${facts.join(', ')}`];
  if (r?.model) lines.push(`model: ${r.model}`);
  return `${lines.join('\n')}\n`;
}

/** What stdout gets: the status as JSON, or the id (--detach, --timeout: for the next command to use), or the summary. */
export function outcomeOutput(o: SubmitOutcome, json: boolean): string {
  if (json) return jsonLine(o.status);
  return o.wait === 'ended' ? describeOutcome(o) : `${o.status.id}\n`;
}

/** The outcome as an error for main to report with its exit code, or undefined for success. */
export function outcomeError(o: SubmitOutcome, timeoutSeconds: number | undefined): HornError | undefined {
  const s = o.status;
  if (o.wait === 'submitted') return undefined;
  if (o.wait === 'timedOut') return new HornError(`timed out after ${timeoutSeconds} s; ${s.id} is still ${s.state} and keeps running`, 'timeout', { applicationId: s.id });
  if (s.state === 'KILLED' || s.finalStatus === 'KILLED') return new HornError(`${s.id} was killed${s.diagnostics ? `: ${s.diagnostics}` : ''}`, 'killed', { applicationId: s.id });
  if (s.finalStatus !== 'SUCCEEDED') return new HornError(`${s.id} failed: ${s.diagnostics ?? 'no diagnostics'}`, 'application', { applicationId: s.id });
  return undefined;
}

export const submitCommand: CommandModule<object, SubmitArgs> = {
  command: 'submit <job>',
  describe: 'Train a job on YARN: stage it to HDFS, submit it and follow it to the end',
  builder: (y: Argv<object>) =>
    y
      .positional('job', { type: 'string', demandOption: true, describe: 'the job file (YAML)' })
      .option('detach', { type: 'boolean', default: false, describe: 'return after submission, printing the application id' })
      .option('timeout', { type: 'number', describe: 'stop waiting after this many seconds: print the application id, exit 5 (the job keeps running)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the outcome as `horn status --json` does' }) as unknown as Argv<SubmitArgs>,
  handler: async (args) => {
    if (args.timeout !== undefined && !(Number.isFinite(args.timeout) && args.timeout > 0)) {
      throw new HornError(`--timeout ${JSON.stringify(args.timeout)}: must be a positive number of seconds`, 'input', { option: 'timeout' });
    }
    const outcome = await submitJob(args);
    process.stdout.write(outcomeOutput(outcome, args.json));
    const error = outcomeError(outcome, args.timeout);
    if (error) throw error;
  },
};
