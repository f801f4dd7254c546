// Labelled batches for `horn eval` from a local IDX pair, CSV or LibSVM file, through the data
// readers (which report malformed records with file and byte offset). Evaluation reads the whole
// file and fails on the first malformed record: a score over silently skipped rows would mislead.
import { HornError } from '../common/errors';
import { stat } from 'node:fs/promises';
import { type ByteSource, type DatasetSpec, localFiles, type Normalize, readIdxPair, readRecords } from '../data';
import type { LabelledBatch } from './evaluate';
import { ToolFileError } from './model-file';

interface CommonDataOptions {
  readonly file: string;
  readonly batchSize: number;
  readonly normalize: Normalize;
}

export type LabelledDataOptions =
  | (CommonDataOptions & { readonly format: 'idx'; readonly labelsFile: string })
  | (CommonDataOptions & { readonly format: 'csv'; readonly labelColumn: number; readonly delimiter?: string; readonly header?: boolean })
  | (CommonDataOptions & { readonly format: 'libsvm'; readonly indexBase?: 0 | 1 });

/** The data's feature count differs from the model's input size. */
export class FeatureCountMismatchError extends HornError {
  constructor(readonly file: string, readonly modelInputs: number, readonly dataFeatures: number) {
    super(`${file}: records have ${dataFeatures} features, the model takes ${modelInputs}`, 'input');
  }
}

export function datasetSpecFor(options: LabelledDataOptions, inputSize: number): DatasetSpec {
  switch (options.format) {
    case 'idx':
      return { format: 'idx', images: options.file, labels: options.labelsFile };
    case 'csv':
      return { format: 'csv', path: options.file, csv: { delimiter: options.delimiter ?? ',', labelColumn: options.labelColumn, header: options.header ?? false, features: inputSize } };
    case 'libsvm':
      return { format: 'libsvm', path: options.file, libsvm: { features: inputSize, indexBase: options.indexBase ?? 1 } };
  }
}

async function checkReadable(file: string): Promise<void> {
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw new ToolFileError(file, 'read', 'it is a directory');
  } catch (err) {
    if (err instanceof ToolFileError) throw err;
    throw new ToolFileError(file, 'read', (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message);
  }
}

export async function* openLabelledData(options: LabelledDataOptions, inputSize: number, classes: number, source: ByteSource = localFiles): AsyncGenerator<LabelledBatch> {
  if (source === localFiles) {
    await checkReadable(options.file);
    if (options.format === 'idx') await checkReadable(options.labelsFile);
  }
  const spec = datasetSpecFor(options, inputSize);
  if (spec.format === 'idx') {
    const headers = await readIdxPair(source, spec.images, spec.labels);
    if (headers.images.valuesPerRecord !== inputSize) throw new FeatureCountMismatchError(spec.images, inputSize, headers.images.valuesPerRecord);
  }
  let features = new Float32Array(options.batchSize * inputSize);
  let labels = new Int32Array(options.batchSize);
  let rows = 0;
  for await (const record of readRecords(source, spec, { classes, normalize: options.normalize, maxMalformed: 0 })) {
    features.set(record.features, rows * inputSize);
    labels[rows++] = record.label;
    if (rows === options.batchSize) {
      yield { features, labels, rows };
      features = new Float32Array(options.batchSize * inputSize);
      labels = new Int32Array(options.batchSize);
      rows = 0;
    }
  }
  if (rows > 0) yield { features: features.subarray(0, rows * inputSize), labels: labels.subarray(0, rows), rows };
}
