// `horn train --local JOB.yaml`: the job's training in this process, from local files, with the
// same engine and training code that YARN workers run.
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import { localFiles } from '../../data';
import { saveModel } from '../../engine';
import { datasetFor, expandOutputPath, loadJobFile } from '../../job';
import { runTraining } from '../../training/run';
import { ProgressPrinter } from '../progress';

export interface TrainArgs {
  job: string;
  local: boolean;
  output?: string;
  json: boolean;
  /** Kernel threads (default: every core of this machine). */
  threads?: number;
}

export interface LocalTrainingSummary {
  readonly job: string;
  readonly model: string;
  readonly kernels: string;
  readonly threads: number;
  readonly epochs: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testAccuracy?: number;
  readonly testLoss?: number;
  readonly testSamples?: number;
  readonly malformedSkipped: number;
}

export async function trainLocally(args: TrainArgs, stderr: NodeJS.WriteStream = process.stderr): Promise<LocalTrainingSummary> {
  if (!args.local) throw new HornError('horn train runs in this process and needs --local; use `horn submit` to train on YARN', 'input', { flag: 'local' });
  const { spec, baseDir } = loadJobFile(args.job);
  const mode = { kind: 'local', baseDir } as const;
  const train = datasetFor(spec, 'train', mode);
  const hasTest = (spec.input.local ?? spec.input).test !== undefined;
  const output = resolve(args.output ?? expandOutputPath(spec.output.model, { name: spec.name, now: new Date(), appId: 'local' }));
  if (existsSync(output) && spec.output.overwrite === 'fail' && !args.output) {
    throw new HornError(`the model path ${output} exists and output.overwrite is fail`, 'input', { field: 'output.model', path: output });
  }
  const printer = new ProgressPrinter(stderr);
  const started = performance.now();
  const outcome = await runTraining({
    spec,
    source: localFiles,
    train: train.dataset,
    test: hasTest ? datasetFor(spec, 'test', mode).dataset : undefined,
    readOptions: train.options,
    neuronDir: baseDir,
    threads: kernelThreads(args.threads),
    onPhase: (phase) => printer.update({ state: phase }),
    onProgress: (p) =>
      printer.update({ state: 'training', epoch: p.epoch, epochs: p.epochs, loss: p.loss, accuracy: p.accuracy, samplesPerSecond: p.samplesPerSecond, progress: p.fraction }),
  });
  printer.done();
  mkdirSync(dirname(output), { recursive: true });
  await saveModel(outcome.model, output); // atomic: a temporary file renamed into place
  return {
    job: spec.name,
    model: output,
    kernels: outcome.kernels.backend,
    threads: outcome.kernels.threads,
    epochs: outcome.summary.epochs,
    seconds: (performance.now() - started) / 1000,
    samplesPerSecond: outcome.summary.samplesPerSecond,
    trainLoss: outcome.summary.loss,
    trainAccuracy: outcome.summary.accuracy,
    testAccuracy: outcome.test?.accuracy,
    testLoss: outcome.test?.loss,
    testSamples: outcome.test?.count,
    malformedSkipped: outcome.trainStats.malformed + (outcome.testStats?.malformed ?? 0),
  };
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
      .option('output', { alias: 'o', type: 'string', describe: 'model file to write (default: output.model of the job, expanded locally)' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary at the end' })
      .option('threads', { type: 'number', describe: 'kernel threads (default: every core of this machine; the model does not depend on it)' }) as unknown as Argv<TrainArgs>,
  handler: async (args) => {
    const s = await trainLocally(args);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    } else {
      const test = s.testAccuracy === undefined ? 'no test set' : `test accuracy ${(s.testAccuracy * 100).toFixed(2)}% on ${s.testSamples} samples`;
      process.stdout.write(`${s.job}: ${test}; ${s.epochs} epochs in ${s.seconds.toFixed(1)} s (${Math.round(s.samplesPerSecond)} samples/s, ${s.kernels} kernels on ${s.threads} thread${s.threads === 1 ? '' : 's'})\nmodel: ${s.model}\n`);
    }
  },
};
