// One training run of a job: read the training set, train, evaluate on the test set. The same
// code runs in `horn train --local` (local files) and in a YARN worker (HDFS through WebHDFS);
// only the ByteSource differs.
import { createModel, describeKernels, Trainer, type Evaluation, type KernelBackendName, type Model, type TrainingProgress, type TrainingSummary, type Batch as EngineBatch } from '../engine';
import { datasetOfFile, expandInput, newStats, readBatches, type Batch, type ByteSource, type FileLister, type InputSpec, type ReadOptions, type ReadStats } from '../data';
import type { JobSpec } from '../job';
import { modelSpecFromJob } from './job-spec';
import { warmStart } from './warm-start';

export interface TrainingRun {
  readonly spec: JobSpec;
  readonly source: ByteSource;
  /** Expands directories and globs of the input (local files or HDFS). */
  readonly lister: FileLister;
  readonly train: InputSpec;
  readonly test?: InputSpec;
  readonly readOptions: ReadOptions;
  /** The directory user neuron files named in the job are relative to. */
  readonly neuronDir: string;
  readonly onProgress?: (progress: RunProgress) => void;
  readonly onPhase?: (phase: 'reading' | 'training' | 'evaluating') => void;
  readonly signal?: AbortSignal;
  /** Saved in the model file. */
  readonly metadata?: Record<string, unknown>;
  /** A saved model of the same architecture to start from (warm start). */
  readonly initial?: { readonly bytes: Uint8Array; readonly source: string };
  /**
   * Threads for the kernels (default 1): a YARN worker passes its container's vcores, local mode
   * the machine's cores or --threads. The result does not depend on it.
   */
  readonly threads?: number;
  /** A kernel backend instead of the fastest available one (default: HORN_KERNELS, else auto). */
  readonly backend?: KernelBackendName | 'auto';
  /** Told which kernels train, once they are loaded (before the first step). */
  readonly onKernels?: (kernels: TrainingOutcome['kernels']) => void;
}

/** Trainer progress plus the fraction of all training done (0–1). */
export type RunProgress = TrainingProgress & { readonly fraction: number };

export interface TrainingOutcome {
  readonly model: Model;
  /** The kernels that trained it, for the log and the result: backend and threads. */
  readonly kernels: { readonly backend: KernelBackendName; readonly threads: number; readonly description: string };
  readonly summary: TrainingSummary;
  readonly test?: Evaluation;
  readonly trainStats: ReadStats;
  readonly testStats?: ReadStats;
}

export async function runTraining(run: TrainingRun): Promise<TrainingOutcome> {
  const { spec } = run;
  const options = run.readOptions;
  run.onPhase?.('reading');
  const trainStats = newStats();
  const trainSet = await readAll(run.source, run.lister, run.train, options, trainStats);
  const model = await createModel(modelSpecFromJob(spec.model, spec.training, run.neuronDir), {
    metadata: { job: spec.name, normalize: spec.input.normalize, ...run.metadata },
    threads: run.threads,
    backend: run.backend,
  });
  const kernels = { backend: model.kernels.backend, threads: model.kernels.threads, description: describeKernels(model.kernels) };
  run.onKernels?.(kernels);
  if (run.initial) warmStart(model, run.initial.bytes, run.initial.source);
  run.onPhase?.('training');
  const trainer = new Trainer(model, {
    epochs: spec.training.epochs,
    batchSize: spec.training.batchSize,
    seed: spec.model.seed,
    onProgress: run.onProgress && ((p) => run.onProgress?.({ ...p, fraction: Math.min(1, (p.epoch - 1 + p.samples / Math.max(1, trainSet.count)) / p.epochs) })),
    signal: run.signal,
  });
  const summary = await trainer.train(trainSet);
  if (!run.test) return { model, kernels, summary, trainStats };
  run.onPhase?.('evaluating');
  const testStats = newStats();
  const test = await model.evaluate(inputBatches(run.source, run.lister, run.test, 1024, options, testStats));
  return { model, kernels, summary, test, trainStats, testStats };
}

/** Batches of every file of an input, in order. */
export async function* inputBatches(source: ByteSource, lister: FileLister, input: InputSpec, batchSize: number, options: ReadOptions, stats: ReadStats): AsyncGenerator<Batch> {
  for (const file of input.format === 'idx' ? [{ path: input.images }] : await expandInput(input, lister)) {
    yield* readBatches(source, datasetOfFile(input, file.path), batchSize, options, stats);
  }
}

/** The whole data set as one in-memory batch, so that every epoch is shuffled in full. */
async function readAll(source: ByteSource, lister: FileLister, input: InputSpec, options: ReadOptions, stats: ReadStats): Promise<EngineBatch> {
  return concatBatches(inputBatches(source, lister, input, 8192, options, stats));
}

/** One batch holding all of the given ones. */
export async function concatBatches(batches: AsyncIterable<{ x: Float32Array; y: Float32Array; count: number }>): Promise<EngineBatch> {
  const parts: { x: Float32Array; y: Float32Array; count: number }[] = [];
  let count = 0;
  for await (const b of batches) {
    parts.push(b);
    count += b.count;
  }
  const x = new Float32Array(parts.reduce((n, p) => n + p.x.length, 0));
  const y = new Float32Array(parts.reduce((n, p) => n + p.y.length, 0));
  let xo = 0;
  let yo = 0;
  for (const p of parts) {
    x.set(p.x, xo);
    y.set(p.y, yo);
    xo += p.x.length;
    yo += p.y.length;
  }
  return { x, y, count };
}
