// `horn train --local JOB.yaml`: the job's training in this process, from local files, with the
// same engine and training code that YARN workers run.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import { localFiles, localLister } from '../../data';
import { saveModel } from '../../engine';
import { datasetFor, expandOutputPath, loadJobFile, resolveLocalPath, type JobSpec } from '../../job';
import { writeLatestLocal } from '../../storage/latest';
import { modelSpecFromJob } from '../../training/job-spec';
import { checkedInitialModel } from '../../training/warm-start';
import { runTraining } from '../../training/run';
import { limitsOf } from '../../coordinator/coordinator';
import { runLocalJob } from '../../coordinator/local';
import { STAGED_JOB_VERSION, type JobResult, type StagedJob } from '../../protocol';
import { runtimeBundlePath } from './submit';
import { readUserFiles, withStagedNeurons } from '../submit/user-files';
import { jsonLine, percent, plural } from '../format';
import { ProgressPrinter } from '../progress';

export interface TrainArgs {
  job: string;
  local: boolean;
  output?: string;
  json: boolean;
  /** Kernel threads (default: every core of this machine). */
  threads?: number;
  /** A model file to start from; overrides training.initFrom. */
  initFrom?: string;
}

export interface LocalTrainingSummary {
  readonly job: string;
  readonly model: string;
  readonly kernels: string;
  readonly threads: number;
  readonly epochs: number;
  /** Wall time of the whole command (reading, training, evaluation, saving). */
  readonly seconds: number;
  readonly trainingSeconds: number;
  readonly samplesPerSecond: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testAccuracy?: number;
  readonly testLoss?: number;
  readonly testSamples?: number;
  readonly malformedSkipped: number;
  /** Distributed local runs: the job's result (containers, staleness, bytes). */
  readonly result?: JobResult;
}

/** The YARN id's stand-in for `{appId}` in local runs: unique per second, so two runs do not collide. */
export function localRunId(now: Date): string {
  return `local-${expandOutputPath('{datetime}', { name: '', now })}`;
}

/**
 * Where a local run writes its model under the job's output.overwrite policy: the path itself,
 * or with `version` the next free `<path>.vN`; with `fail` an existing path is an input error
 * that names the ways out. An explicit --output is written (replaced) as given.
 */
export function localModelPath(path: string, policy: JobSpec['output']['overwrite'], explicit: boolean, exists: (p: string) => boolean): string {
  if (explicit || !exists(path) || policy === 'overwrite') return path;
  if (policy === 'version') {
    let v = 2;
    while (exists(`${path}.v${v}`)) v++;
    return `${path}.v${v}`;
  }
  throw new HornError(
    `the model path ${path} exists and output.overwrite is fail; write elsewhere with --output PATH, or set output.overwrite to overwrite or version in the job`,
    'input',
    { field: 'output.overwrite', path },
  );
}

export async function trainLocally(args: TrainArgs, stderr: NodeJS.WriteStream = process.stderr): Promise<LocalTrainingSummary> {
  if (!args.local) throw new HornError('horn train runs in this process and needs --local; use `horn submit` to train on YARN', 'input', { flag: 'local' });
  const started = performance.now();
  const { spec, baseDir } = loadJobFile(args.job);
  const mode = { kind: 'local', baseDir } as const;
  const train = datasetFor(spec, 'train', mode);
  const hasTest = (spec.input.local ?? spec.input).test !== undefined;
  const now = new Date();
  const planned = resolve(args.output ?? expandOutputPath(spec.output.model, { name: spec.name, now, appId: localRunId(now) }));
  const output = localModelPath(planned, spec.output.overwrite, args.output !== undefined, existsSync);
  const initSource = args.initFrom !== undefined ? resolve(args.initFrom) : spec.training.initFrom !== undefined ? resolveLocalPath(baseDir, spec.training.initFrom) : undefined;
  const latest = spec.output.latest !== undefined ? resolveLocalPath(baseDir, spec.output.latest) : undefined;
  if (initSource !== undefined) {
    if (!existsSync(initSource)) throw new HornError(`training.initFrom ${initSource}: no such file`, 'input', { field: 'training.initFrom', path: initSource });
    checkedInitialModel(readFileSync(initSource), initSource, modelSpecFromJob(spec.model, spec.training, baseDir));
  }
  const pointTo = async (model: string, testAccuracy: number | undefined): Promise<void> => {
    if (latest) await writeLatestLocal(latest, { model, applicationId: localRunId(now), testAccuracy, finishedAt: new Date().toISOString() });
  };
  const printer = new ProgressPrinter(stderr);
  const c = spec.cluster;
  if (c.workers > 1 || c.parameterServers.count > 0) {
    // The distributed path: the same coordinator, workers and servers as on YARN, as local processes.
    const userFiles = readUserFiles(spec, baseDir);
    const job: StagedJob = {
      version: STAGED_JOB_VERSION,
      applicationId: localRunId(now),
      user: process.env.USER ?? 'local',
      spec: withStagedNeurons(spec, userFiles),
      storage: 'local',
      train: train.dataset,
      test: hasTest ? datasetFor(spec, 'test', mode).dataset : undefined,
      readOptions: train.options,
      outputModel: output,
      userFiles: Object.fromEntries(userFiles.map((f) => [f.jobName, f.stagedName])),
      submittedAt: Date.now(),
      ...(initSource ? { initFrom: initSource } : {}),
      ...(spec.training.checkpoint.everyEpochs > 0 ? { checkpointRoot: join(process.env.HOME ?? tmpdir(), '.horn', 'checkpoints', spec.name, localRunId(now)) } : {}),
    };
    const outcome = await runLocalJob({
      job,
      files: userFiles.map((f) => ({ name: f.stagedName, bytes: f.bytes })),
      runtimeBundle: runtimeBundlePath(),
      limits: limitsOf(job),
      log: (m) => (process.env.HORN_LOCAL_VERBOSE ? stderr.write(`${m}\n`) : undefined),
      onStatus: (st) => {
        const d = st.doc;
        printer.update({ state: d.phase, epoch: d.epoch, epochs: d.epochs, loss: d.loss, accuracy: d.accuracy, samplesPerSecond: d.samplesPerSecond, progress: d.progress });
      },
    });
    printer.done();
    if (!outcome.succeeded) throw new HornError(`local training failed: ${outcome.diagnostics}\n(container logs: ${outcome.directory}/logs)`, 'application', { directory: outcome.directory });
    const r = outcome.result!;
    await pointTo(r.model ?? output, r.testAccuracy);
    const workers = r.containers?.filter((x) => x.role === 'worker') ?? [];
    return {
      job: spec.name,
      model: r.model ?? output,
      kernels: workersKernels(r),
      threads: spec.cluster.worker.vcores,
      epochs: spec.training.epochs,
      seconds: (performance.now() - started) / 1000,
      trainingSeconds: r.seconds ?? 0,
      samplesPerSecond: r.samplesPerSecond ?? 0,
      trainLoss: workers.reduce((t, w) => t + (w.loss ?? 0), 0) / Math.max(1, workers.length),
      trainAccuracy: workers.reduce((t, w) => t + (w.accuracy ?? 0), 0) / Math.max(1, workers.length),
      testAccuracy: r.testAccuracy,
      testLoss: r.testLoss,
      testSamples: r.testSamples,
      malformedSkipped: 0,
      result: r,
    };
  }
  const outcome = await runTraining({
    spec,
    source: localFiles,
    lister: localLister,
    train: train.dataset,
    test: hasTest ? datasetFor(spec, 'test', mode).dataset : undefined,
    readOptions: train.options,
    neuronDir: baseDir,
    threads: kernelThreads(args.threads),
    ...(initSource ? { initial: { bytes: readFileSync(initSource), source: initSource } } : {}),
    onPhase: (phase) => printer.update({ state: phase }),
    onProgress: (p) =>
      printer.update({ state: 'training', epoch: p.epoch, epochs: p.epochs, loss: p.loss, accuracy: p.accuracy, samplesPerSecond: p.samplesPerSecond, progress: p.fraction }),
  }).catch((err: unknown) => {
    printer.done();
    throw err;
  });
  printer.done({ state: 'done', progress: 1 });
  mkdirSync(dirname(output), { recursive: true });
  await saveModel(outcome.model, output); // atomic: a temporary file renamed into place
  await pointTo(output, outcome.test?.accuracy);
  return {
    job: spec.name,
    model: output,
    kernels: outcome.kernels.backend,
    threads: outcome.kernels.threads,
    epochs: outcome.summary.epochs,
    seconds: (performance.now() - started) / 1000,
    trainingSeconds: outcome.summary.seconds,
    samplesPerSecond: outcome.summary.samplesPerSecond,
    trainLoss: outcome.summary.loss,
    trainAccuracy: outcome.summary.accuracy,
    testAccuracy: outcome.test?.accuracy,
    testLoss: outcome.test?.loss,
    testSamples: outcome.test?.count,
    malformedSkipped: outcome.trainStats.malformed + (outcome.testStats?.malformed ?? 0),
  };
}

/** The summary: accuracy, epochs, training time of the wall time; then the model path. */
export function describeLocalTraining(s: LocalTrainingSummary): string {
  const test = s.testAccuracy === undefined ? 'no test set' : `test accuracy ${percent(s.testAccuracy)} on ${s.testSamples} samples`;
  const rate = `${Math.round(s.samplesPerSecond).toLocaleString('en-US')} samples/s, ${s.kernels} kernels on ${plural(s.threads, 'thread')}`;
  return `${s.job}: ${test}, ${plural(s.epochs, 'epoch')}, training ${s.trainingSeconds.toFixed(1)} s of ${s.seconds.toFixed(1)} s elapsed (${rate})\nmodel: ${s.model}\n`;
}

/** The workers' kernels, e.g. "native-avx2" (the containers' own choice). */
function workersKernels(r: JobResult): string {
  // A container reports "native-avx2 on 2 threads"; the summary names the thread count itself.
  const names = [...new Set((r.containers ?? []).filter((c) => c.role === 'worker').map((c) => (c.kernels ?? 'unknown').replace(/ on \d+ threads?$/, '')))];
  return names.join('/');
}

function kernelThreads(threads: number | undefined): number {
  if (threads === undefined) return availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new HornError(`--threads ${threads}: expected an integer from 1 to 256`, 'input', { flag: 'threads' });
  }
  return threads;
}

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train <job>',
  describe: 'Train a job in this process from local files (--local)',
  builder: (y: Argv<object>) =>
    y
      .positional('job', { type: 'string', demandOption: true, describe: 'the job file (YAML)' })
      .option('local', { type: 'boolean', default: false, describe: 'train here, without YARN (required)' })
      .option('output', { alias: 'o', type: 'string', describe: 'model file to write, replaced if it exists (default: output.model of the job, {appId} being local-<datetime>)' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary at the end' })
      .option('threads', { type: 'number', describe: 'kernel threads (default: every core of this machine; the model does not depend on it)' })
      .option('init-from', { type: 'string', describe: 'start from this model file (overrides training.initFrom; the architecture must match)' }) as unknown as Argv<TrainArgs>,
  handler: async (args) => {
    const s = await trainLocally(args);
    process.stdout.write(args.json ? jsonLine(s) : describeLocalTraining(s));
  },
};
