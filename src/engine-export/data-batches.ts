// Batches of feature rows for `horn eval` (labelled) and `horn predict` (labels optional) from an
// IDX file (with its labels file when labelled), CSV or LibSVM, through the data readers (which
// report malformed records with file and byte offset) over any ByteSource. Reading fails on the
// first malformed record: a score or a prediction file over silently skipped rows would mislead.
import { HornError } from '../common/errors';
import { type ByteSource, type DatasetSpec, type Normalize, readIdxPair, readRecords } from '../data';

interface CommonDataOptions {
  /** The data file, as the ByteSource names it. */
  readonly file: string;
  readonly batchSize: number;
  readonly normalize: Normalize;
  /** Records carry labels (eval); without, every CSV field is a feature and LibSVM labels are optional (predict). */
  readonly labelled: boolean;
}

export type DataOptions =
  /** `labelsFile` is read when labelled. */
  | (CommonDataOptions & { readonly format: 'idx'; readonly labelsFile?: string })
  | (CommonDataOptions & { readonly format: 'csv'; readonly labelColumn: number; readonly delimiter?: string; readonly header?: boolean })
  | (CommonDataOptions & { readonly format: 'libsvm'; readonly indexBase?: 0 | 1 });

export interface DataBatch {
  /** rows×inputSize, row-major. */
  readonly features: Float32Array;
  /** One label per row (NaN when unlabelled). */
  readonly labels: Float64Array;
  readonly rows: number;
}

/** The data's feature count differs from the model's input size. */
export class FeatureCountMismatchError extends HornError {
  constructor(readonly file: string, readonly modelInputs: number, readonly dataFeatures: number) {
    super(`${file}: records have ${dataFeatures} features, the model takes ${modelInputs}`, 'input');
  }
}

export function datasetSpecFor(options: DataOptions, inputSize: number): DatasetSpec {
  switch (options.format) {
    case 'idx':
      // Unlabelled IDX data is read without a labels file (the readers do not open it).
      return { format: 'idx', images: options.file, labels: options.labelsFile ?? '' };
    case 'csv':
      return { format: 'csv', path: options.file, csv: { delimiter: options.delimiter ?? ',', labelColumn: options.labelColumn, header: options.header ?? false, features: inputSize } };
    case 'libsvm':
      return { format: 'libsvm', path: options.file, libsvm: { features: inputSize, indexBase: options.indexBase ?? 1 } };
  }
}

/**
 * Every record of the data file, `batchSize` rows at a time. `classes`: labels must be class
 * indices below it (labelled data only). Memory is one batch, whatever the file's size.
 */
export async function* openDataBatches(options: DataOptions, inputSize: number, source: ByteSource, classes?: number): AsyncGenerator<DataBatch> {
  const spec = datasetSpecFor(options, inputSize);
  // Labelled IDX: the headers say the feature count before any label is checked against the classes.
  if (spec.format === 'idx' && options.labelled) {
    const headers = await readIdxPair(source, spec.images, spec.labels);
    if (headers.images.valuesPerRecord !== inputSize) throw new FeatureCountMismatchError(options.file, inputSize, headers.images.valuesPerRecord);
  }
  let features = new Float32Array(options.batchSize * inputSize);
  let labels = new Float64Array(options.batchSize);
  let rows = 0;
  let checked = false;
  for await (const record of readRecords(source, spec, { classes, normalize: options.normalize, maxMalformed: 0, unlabelled: !options.labelled })) {
    if (!checked) {
      if (record.features.length !== inputSize) throw new FeatureCountMismatchError(options.file, inputSize, record.features.length);
      checked = true;
    }
    features.set(record.features, rows * inputSize);
    labels[rows++] = record.label;
    if (rows === options.batchSize) {
      yield { features, labels, rows };
      features = new Float32Array(options.batchSize * inputSize);
      labels = new Float64Array(options.batchSize);
      rows = 0;
    }
  }
  if (rows > 0) yield { features: features.subarray(0, rows * inputSize), labels: labels.subarray(0, rows), rows };
}
