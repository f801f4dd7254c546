// From a JobSpec to what the data readers need: which files (local or HDFS, resolved by the
// conventions in paths.ts) and the reader options.
import type { ReadOptions } from '../data/dataset';
import type { InputSpec } from '../data/inputs';
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
export function datasetFor(spec: JobSpec, which: 'train' | 'test', mode: DataMode): { dataset: InputSpec; options: ReadOptions } {
  const input = spec.input;
  const files: DataFiles | undefined = mode.kind === 'local' ? (input.local?.[which] ?? input[which]) : input[which];
  if (files === undefined) throw new MissingDatasetError(which);
  const resolve = (p: string) => (mode.kind === 'local' ? resolveLocalPath(mode.baseDir, p) : resolveHdfsPath(mode.user, p));
  let dataset: InputSpec;
  if (typeof files === 'object' && !Array.isArray(files)) {
    dataset = { format: 'idx', images: resolve(files.images), labels: resolve(files.labels) };
  } else {
    const paths = (typeof files === 'string' ? [files] : files).map(resolve);
    if (input.format === 'csv') dataset = { format: 'csv', paths, csv: { ...input.csv!, features: spec.model.inputSize } };
    else {
      const libsvm = input.libsvm!;
      dataset = { format: 'libsvm', paths, libsvm: { features: libsvm.features, indexBase: libsvm.indexBase === 0 ? 0 : 1 } };
    }
  }
  const last = spec.model.layers[spec.model.layers.length - 1]!;
  // Cross-entropy means classification over the output layer's units; otherwise a single target.
  const classes = spec.model.cost === 'cross-entropy' ? last.size : undefined;
  return { dataset, options: { classes, normalize: input.normalize, maxMalformed: input.maxMalformed } };
}
