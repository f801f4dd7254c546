// `horn predict MODEL DATA [-o OUT]`: one prediction per record of DATA (IDX images, CSV or
// LibSVM; labels are not needed), to stdout or to OUT in HDFS or locally. Streams: one batch of
// records is in memory at a time, whatever the size of DATA, and OUT appears (atomically) only
// when it is complete.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Argv, CommandModule } from 'yargs';
import type { Normalize } from '../../data';
import { openDataBatches } from '../../engine-export/data-batches';
import { predictionKindOf, predictionText, type PredictionKind } from '../../engine-export/predictions';
import { reportInputErrors } from '../exit-codes';
import { ToolFiles } from '../files';
import { jsonLine } from '../format';
import { parseLocation } from '../locations';
import { openModelAndData, withModelAndData, type DataArgs, type DataFormat } from './data-args';

export interface PredictArgs extends DataArgs {
  model: string;
  output?: string;
  json: boolean;
}

export interface PredictResult {
  model: string;
  data: string;
  /** undefined: stdout. */
  output?: string;
  format: DataFormat;
  normalize: Normalize;
  predictions: PredictionKind;
  records: number;
  seconds: number;
}

export async function runPredict(args: PredictArgs, files: ToolFiles = new ToolFiles()): Promise<PredictResult> {
  const outputLocation = args.output === undefined || args.output === '-' ? undefined : parseLocation(args.output);
  const started = process.hrtime.bigint();
  const { modelName, model, classifier, format, options, files: dataFiles, source } = await openModelAndData(args, files, false);
  // Missing data fails here, before an output is opened.
  await Promise.all(dataFiles.map((f) => source.size(f.name)));
  const kind = predictionKindOf(model.spec.cost);
  const count = { records: 0 };
  const lines = predictionText(classifier, openDataBatches(options, classifier.inputSize, source), kind, args.json ? 'json' : 'csv', count);
  const sink = await files.output(outputLocation);
  try {
    // pipeline waits for the sink to take each batch (backpressure) before the next is read.
    await pipeline(Readable.from(lines, { objectMode: false }), sink.stream, { end: outputLocation !== undefined });
    await sink.finish();
  } catch (err) {
    await sink.abort();
    throw err;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { model: modelName, data: options.file, output: outputLocation?.name, format, normalize: options.normalize, predictions: kind, records: count.records, seconds };
}

export function formatPredictResult(r: PredictResult): string {
  const what = r.predictions === 'class' ? 'class and probabilities' : 'output values';
  return `wrote ${r.records} prediction${r.records === 1 ? '' : 's'} (${what}) of ${r.model} on ${r.data} (${r.format}, normalize ${r.normalize}) to ${r.output ?? 'stdout'} in ${r.seconds.toFixed(2)} s\n`;
}

export const predictCommand: CommandModule<object, PredictArgs> = {
  command: 'predict <model> <data>',
  describe: 'One prediction per record (class and probabilities, or output values), streamed to stdout or a file in HDFS or locally',
  builder: (yargs: Argv<object>) =>
    withModelAndData(
      yargs.option('output', { alias: 'o', type: 'string', describe: 'where the predictions go, HDFS or local (default, or -: stdout; with a file, a summary is printed)' }),
      'predict',
    )
      .example('$0 predict models/m/app_1 mnist/t10k-images-idx3-ubyte -o predictions/t10k.csv', 'HDFS to HDFS: lines class,p0,…,p9')
      .example('$0 predict ./m.horn ./new.csv --json | head', 'local file to stdout, one JSON object per line') as unknown as Argv<PredictArgs>,
  handler: (args) =>
    reportInputErrors('predict', async () => {
      const result = await runPredict(args);
      // Predictions on stdout are all that stdout holds; with -o, a summary follows.
      if (result.output !== undefined) process.stdout.write(args.json ? jsonLine(result) : formatPredictResult(result));
    }),
};
