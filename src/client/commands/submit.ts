// `horn submit JOB.yaml`: validate, check the cluster can run it, stage it to HDFS, submit it
// through the RM REST API and follow it to the end (or return at once with --detach).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import { datasetFor, expandOutputPath, loadJobFile, resolveHdfsPath, type JobSpec } from '../../job';
import { expandInput, InputNotFoundError, type InputSpec } from '../../data';
import { hdfsLister } from '../../storage/hdfs';
import { RESOURCE, STAGED_JOB_VERSION, testHooks, type ContainerView, type StagedJob } from '../../protocol';
import { findNativeKernelsFile } from '../../engine/kernels';
import { createClientContext, type ClientContext } from '../context';
import { jsonLine, percent, plural } from '../format';
import { ProgressPrinter } from '../progress';
import { applicationStatus, publicResult, type ApplicationStatus } from './status';
import { finalTraining } from '../history';
import { followApplication } from '../submit/follow';
import { capacityProblems, PreflightError, queueProblems, resourceProblems } from '../submit/preflight';
import { removeStaging, stageApplication } from '../submit/staging';
import { buildSubmission } from '../submit/submission';
import { secureSubmission } from '../submit/tokens';
import { readUserFiles, withStagedNeurons } from '../submit/user-files';
import { ModelFormatError } from '../../engine';
import { modelSpecFromJob } from '../../training/job-spec';
import { checkedInitialModel } from '../../training/warm-start';

export interface SubmitArgs {
  job: string;
  detach: boolean;
  json: boolean;
  timeout?: number;
  /** A model to start from; overrides training.initFrom. */
  initFrom?: string;
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
  const initSource = args.initFrom ?? spec.training.initFrom;
  const initFrom = initSource === undefined ? undefined : await followLatest(ctx, resolveHdfsPath(ctx.user, initSource));
  const nodes = await preflight(ctx, spec, maximumResourceCapability, [train.dataset, ...(test ? [test] : [])], outputModel, initFrom, baseDir);

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
    ...(initFrom ? { initFrom } : {}),
    ...(spec.output.latest ? { latest: resolveHdfsPath(ctx.user, spec.output.latest) } : {}),
    ...(spec.training.checkpoint.everyEpochs > 0 ? { checkpointRoot: `/user/${ctx.user}/.horn/checkpoints/${spec.name}/${applicationId}` } : {}),
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
        testHooks: testHooks(process.env),
        ...(await secureSubmission(ctx)),
      }),
    );
  } catch (err) {
    await removeStaging(ctx.hdfs, ctx.user, applicationId).catch(() => false);
    throw err;
  }
  const ui = `${ctx.rm.webUrl}/cluster/app/${applicationId}`;
  const seconds = () => (performance.now() - started) / 1000;
  if (args.detach) return { status: applicationStatus(await ctx.rm.getApplication(applicationId)), wait: 'submitted', seconds: seconds() };

  stderr.write(`horn: submitted ${applicationId} (${ui})\nhorn: training page ${ctx.rm.webUrl}/proxy/${applicationId}/ (the tracking URL)\n`);
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
  // The same document `horn status --json` gives: with the training summary from history.json.
  const training = await finalTraining(ctx.hdfs, followed.app).catch(() => undefined);
  return { status: { ...applicationStatus(followed.app), ...(training ? { training } : {}) }, wait: 'ended', seconds: seconds() };
}

/** Checks the job against the cluster; returns the running NodeManager hosts. */
async function preflight(ctx: ClientContext, spec: JobSpec, max: { memory: number; vCores: number }, inputs: InputSpec[], outputModel: string, initFrom: string | undefined, baseDir: string): Promise<string[]> {
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
  if (initFrom) problems.push(...(await initProblems(ctx, spec, initFrom, baseDir)));
  if (problems.length) throw new PreflightError(problems);
  return nodes.map((n) => n.nodeHostName);
}

/** A pointer file written by output.latest stands for the model it names (so a nightly job starts from yesterday's). */
async function followLatest(ctx: ClientContext, path: string): Promise<string> {
  const st = await ctx.hdfs.stat(path);
  if (!st || st.type !== 'FILE' || st.length > 64 * 1024) return path;
  const text = (await ctx.hdfs.readFile(path)).toString('utf8');
  if (!text.startsWith('{')) return path;
  try {
    const model = (JSON.parse(text) as { model?: unknown }).model;
    return typeof model === 'string' ? model : path;
  } catch {
    return path;
  }
}

/** The model to start from must exist in HDFS and have the job's architecture. */
async function initProblems(ctx: ClientContext, spec: JobSpec, initFrom: string, baseDir: string): Promise<string[]> {
  if (!(await ctx.hdfs.stat(initFrom))) return [`training.initFrom ${initFrom} does not exist in HDFS`];
  try {
    checkedInitialModel(await ctx.hdfs.readFile(initFrom), initFrom, modelSpecFromJob(spec.model, spec.training, baseDir));
    return [];
  } catch (err) {
    if (err instanceof HornError && err.kind === 'input') return [err.message];
    if (err instanceof ModelFormatError) return [`training.initFrom ${initFrom} is not a horn model: ${err.message}`];
    throw err;
  }
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
  if (r?.containers && (r.workers ?? 1) + (r.servers ?? 0) > 1) lines.push(...describeContainers(r.containers));
  if (r?.model) lines.push(`model: ${r.model}`);
  return `${lines.join('\n')}\n`;
}

/** Where each container ran, one line each: "worker 0 (group 0) on node1.test, node-local, 11.8 MB read, 100% node-locally". */
export function describeContainers(containers: readonly ContainerView[]): string[] {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return containers.map((c) => {
    const where = `${c.role} ${c.index}${c.group !== undefined ? ` (group ${c.group})` : ''} on ${c.host ?? '?'}`;
    if (c.role === 'server') return `  ${where}${c.shard ? `: parameters [${c.shard.start}, ${c.shard.end}), ${c.updates ?? 0} updates` : ''}`;
    const bytes = (c.bytesLocal ?? 0) + (c.bytesRemote ?? 0);
    return `  ${where}${c.locality ? `, ${c.locality}` : ''}${bytes ? `, ${mb(bytes)} read, ${percent((c.bytesLocal ?? 0) / bytes, 0)} node-locally` : ''}${c.samplesPerSecond ? `, ${Math.round(c.samplesPerSecond).toLocaleString('en-US')} samples/s` : ''}`;
  });
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
      .option('json', { type: 'boolean', default: false, describe: 'print the outcome as `horn status --json` does' })
      .option('init-from', { type: 'string', describe: 'start from this horn model in HDFS (overrides training.initFrom; the architecture must match)' }) as unknown as Argv<SubmitArgs>,
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
