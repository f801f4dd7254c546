// From a JobSpec to what the data readers need: which files (local or HDFS, resolved by the
// conventions in paths.ts) and the reader options.
import type { DatasetSpec, ReadOptions } from '../data/dataset';
import { resolveHdfsPath, resolveLocalPath } from './paths';
import type { DataFiles, JobSpec } from './schema';

export type DataMode = { kind: 'local'; baseDir: string } | { kind: 'cluster'; user: string };

/** Thrown when the job has no test set but one is asked for. */
export class MissingDatasetError extends Error {
  constructor(readonly which: 'train' | 'test') {
    super(`the job file has no input.${which}`);
    this.name = 'MissingDatasetError';
  }
}

/**
 * The data set `which` for the given mode. Local mode reads input.local.<which> when present (else
 * input.<which>) relative to the job file; cluster mode reads input.<which> as HDFS paths.
 */
export function datasetFor(spec: JobSpec, which: 'train' | 'test', mode: DataMode): { dataset: DatasetSpec; options: ReadOptions } {
  const input = spec.input;
  const files: DataFiles | undefined = mode.kind === 'local' ? (input.local?.[which] ?? input[which]) : input[which];
  if (files === undefined) throw new MissingDatasetError(which);
  const resolve = (p: string) => (mode.kind === 'local' ? resolveLocalPath(mode.baseDir, p) : resolveHdfsPath(mode.user, p));
  let dataset: DatasetSpec;
  if (typeof files === 'object') {
    dataset = { format: 'idx', images: resolve(files.images), labels: resolve(files.labels) };
  } else if (input.format === 'csv') {
    dataset = { format: 'csv', path: resolve(files), csv: { ...input.csv!, features: spec.model.inputSize } };
  } else {
    const libsvm = input.libsvm!;
    dataset = { format: 'libsvm', path: resolve(files), libsvm: { features: libsvm.features, indexBase: libsvm.indexBase === 0 ? 0 : 1 } };
  }
  const last = spec.model.layers[spec.model.layers.length - 1]!;
  // Cross-entropy means classification over the output layer's units; otherwise a single target.
  const classes = spec.model.cost === 'cross-entropy' ? last.size : undefined;
  return { dataset, options: { classes, normalize: input.normalize, maxMalformed: input.maxMalformed } };
}
