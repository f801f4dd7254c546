// The data arguments `horn eval` and `horn predict` share: the file, its format (from the name or
// --format), how to parse it and how to scale it, resolved into the readers' options.
import type { Argv } from 'yargs';
import { HornError } from '../../common/errors';
import type { ByteSource, Normalize } from '../../data';
import { loadModel, type Model } from '../../engine';
import type { DataOptions } from '../../engine-export/data-batches';
import { classifierOf, type ModelClassifier } from '../../engine-export/horn-model';
import type { ToolFiles } from '../files';
import { parseLocation, siblingLocation, type Location } from '../locations';

export type DataFormat = 'idx' | 'csv' | 'libsvm';
export const DATA_FORMATS: readonly DataFormat[] = ['idx', 'csv', 'libsvm'];

export interface DataArgs {
  data: string;
  format?: DataFormat;
  /** eval only: the IDX labels file. */
  labels?: string;
  labelColumn?: number;
  delimiter?: string;
  header?: boolean;
  indexBase?: 0 | 1;
  /** Feature scaling the model was trained with; default from the model's metadata, else `byte` for IDX and `none` otherwise. */
  normalize?: Normalize;
  batchSize: number;
}

/** A command line that cannot be executed as given; names the option and its value. */
export class DataUsageError extends HornError {
  constructor(readonly option: string, readonly value: unknown, reason: string) {
    super(value === null ? `${option}: ${reason}` : `${option} ${JSON.stringify(value)}: ${reason}`, 'input');
  }
}

function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** Format from the file name: *.csv, *.libsvm/*.svm, *-idx<N>-ubyte or *.idx; undefined when unknown. */
export function inferDataFormat(file: string): DataFormat | undefined {
  const name = baseName(file).toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv') || name.endsWith('.tsv')) return 'csv';
  if (name.endsWith('.libsvm') || name.endsWith('.svm')) return 'libsvm';
  if (/idx\d-ubyte$/.test(name) || name.endsWith('.idx')) return 'idx';
  return undefined;
}

/** The MNIST naming convention: `X-images-idx3-ubyte` has its labels in `X-labels-idx1-ubyte`. */
export function defaultIdxLabelsName(imagesFile: string): string | undefined {
  const name = baseName(imagesFile);
  if (!name.includes('images-idx3-ubyte')) return undefined;
  return name.replace('images-idx3-ubyte', 'labels-idx1-ubyte');
}

/**
 * The scaling to apply: --normalize, else what the model's metadata says it was trained with
 * (`normalize`, or `input.normalize` of a saved job), else `byte` for IDX (pixels) and `none`.
 */
export function resolveNormalize(explicit: Normalize | undefined, metadata: Readonly<Record<string, unknown>>, format: DataFormat): Normalize {
  if (explicit !== undefined) return explicit;
  const input = metadata.input;
  const saved = metadata.normalize ?? (typeof input === 'object' && input !== null ? (input as Record<string, unknown>).normalize : undefined);
  if (saved === 'none' || saved === 'byte') return saved;
  return format === 'idx' ? 'byte' : 'none';
}

export function resolveFormat(args: Pick<DataArgs, 'format' | 'data'>): DataFormat {
  const format = args.format ?? inferDataFormat(args.data);
  if (format === undefined) throw new DataUsageError('--format', null, `cannot tell the format of ${args.data} from its name; pass --format idx|csv|libsvm`);
  if (!DATA_FORMATS.includes(format)) throw new DataUsageError('--format', format, `must be one of ${DATA_FORMATS.join(', ')}`);
  return format;
}

function checkBatchSize(batchSize: number): void {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new DataUsageError('--batch-size', batchSize, 'must be a positive integer');
}

export interface ResolvedData {
  readonly options: DataOptions;
  /** Every file the readers will open (the data, and for labelled IDX its labels). */
  readonly files: readonly Location[];
}

/**
 * The readers' options and files. `labelled`: eval needs labels (IDX labels beside the images
 * or --labels, CSV label column 0 unless --label-column); predict reads none unless
 * --label-column says a CSV file has one (it is then skipped); LibSVM labels are optional there.
 */
export function resolveData(args: DataArgs, normalize: Normalize, labelled: boolean): ResolvedData {
  const format = resolveFormat(args);
  const data = parseLocation(args.data);
  const common = { file: data.name, batchSize: args.batchSize, normalize };
  if (format === 'idx') {
    if (!labelled) return { options: { ...common, format, labelled: false }, files: [data] };
    const defaultName = defaultIdxLabelsName(data.name);
    const labels = args.labels !== undefined ? parseLocation(args.labels) : defaultName !== undefined ? siblingLocation(data, defaultName) : undefined;
    if (labels === undefined) throw new DataUsageError('--labels', null, `IDX images (${args.data}) need a labels file; pass --labels FILE`);
    return { options: { ...common, format, labelled: true, labelsFile: labels.name }, files: [data, labels] };
  }
  if (args.labels !== undefined) throw new DataUsageError('--labels', args.labels, `${format} files carry their labels; --labels is for IDX only`);
  if (format === 'csv') {
    if (args.delimiter !== undefined && args.delimiter.length !== 1) throw new DataUsageError('--delimiter', args.delimiter, 'must be one character');
    const csvLabelled = labelled || args.labelColumn !== undefined;
    const csv = { ...common, format, labelled: csvLabelled, labelColumn: args.labelColumn ?? 0, header: args.header ?? false, ...(args.delimiter !== undefined ? { delimiter: args.delimiter } : {}) };
    return { options: csv, files: [data] };
  }
  return { options: { ...common, format, labelled, indexBase: args.indexBase ?? 1 }, files: [data] };
}

export interface ModelAndData extends ResolvedData {
  /** The model argument as given. */
  readonly modelName: string;
  readonly model: Model;
  readonly classifier: ModelClassifier;
  readonly format: DataFormat;
  /** The data files, keyed by their names. */
  readonly source: ByteSource;
}

/** What eval and predict start from: the model, loaded from where it lives, and its data's readers' options and files. */
export async function openModelAndData(args: DataArgs & { model: string }, files: ToolFiles, labelled: boolean): Promise<ModelAndData> {
  checkBatchSize(args.batchSize);
  const format = resolveFormat(args);
  const modelLocation = parseLocation(args.model);
  const model = await loadModel(await files.read(modelLocation), modelLocation.name);
  const classifier = classifierOf(model);
  const data = resolveData(args, resolveNormalize(args.normalize, classifier.metadata, format), labelled);
  return { ...data, modelName: modelLocation.name, model, classifier, format, source: await files.source(data.files) };
}

/** How the model tools describe their MODEL argument. */
export const MODEL_ARGUMENT = { type: 'string', demandOption: true, describe: 'horn model file: HDFS path (/…, relative, hdfs://…) or local (./…, file:…)' } as const;

/** MODEL, DATA and the data options on a command's parser; eval's --label-column names the label, predict's one to skip. */
export function withModelAndData<T>(y: Argv<T>, command: 'eval' | 'predict'): Argv<T> {
  const data = command === 'eval' ? 'labelled data (IDX images, CSV or LibSVM), HDFS or local' : 'records to predict (IDX images, CSV or LibSVM; no labels needed), HDFS or local';
  const parser = y
    .positional('model', MODEL_ARGUMENT)
    .positional('data', { type: 'string', demandOption: true, describe: data })
    .option('format', { type: 'string', choices: DATA_FORMATS, describe: 'data format (default: from the file name)' })
    .option('label-column', {
      type: 'number',
      describe:
        command === 'eval'
          ? 'CSV: zero-based column of the label, negative from the end (default 0)'
          : 'CSV: the file has a label column here (zero-based, negative from the end); it is skipped (default: every field is a feature)',
    })
    .option('delimiter', { type: 'string', describe: 'CSV: field delimiter (default ,)' })
    .option('header', { type: 'boolean', describe: 'CSV: the first line is a header' })
    .option('index-base', { type: 'number', choices: [0, 1], describe: 'LibSVM: first feature index (default 1)' })
    .option('normalize', { type: 'string', choices: ['none', 'byte'], describe: 'feature scaling (default: as saved with the model, else byte for IDX, none otherwise)' })
    .option('batch-size', { type: 'number', default: 1000, describe: 'samples per forward pass' })
    .option('json', { type: 'boolean', default: false, describe: command === 'eval' ? 'print a JSON summary instead of the table' : 'write predictions (and the summary) as JSON objects, one per line' });
  return command === 'eval'
    ? parser.option('labels', { type: 'string', describe: 'IDX labels file (default: the MNIST-style *-labels-idx1-ubyte beside the images)' })
    : parser;
}
