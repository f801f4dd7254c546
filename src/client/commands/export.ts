// `horn export --onnx MODEL [-o OUT]`: converts a saved horn model into an ONNX file that any
// ONNX runtime can serve (input `input` [batch, features], output `probabilities` after softmax).
// Model and output are in HDFS or local (see ../locations.ts); the default output is beside the model.
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import { loadModel } from '../../engine';
import { denseLayersOf } from '../../engine-export/horn-model';
import { exportDenseLayersToOnnx } from '../../engine-export/onnx';
import { reportInputErrors } from '../exit-codes';
import { ToolFiles } from '../files';
import { jsonLine } from '../format';
import { parseLocation, sameLocation, siblingLocation } from '../locations';
import { MODEL_ARGUMENT } from './data-args';

export interface ExportArgs {
  model: string;
  onnx: boolean;
  output?: string;
  json: boolean;
}

export interface ExportResult {
  model: string;
  output: string;
  format: 'onnx';
  bytes: number;
  layers: number;
  inputSize: number;
  outputSize: number;
}

/** A command line that cannot be executed as given (e.g. no output format chosen). */
export class ExportUsageError extends HornError {
  constructor(readonly option: string, reason: string) {
    super(`${option}: ${reason}`, 'input');
  }
}

/** `model.horn` → `model.onnx` (a name without extension gets `.onnx` appended). */
export function onnxFileName(modelName: string): string {
  const base = modelName.slice(modelName.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return `${dot > 0 ? base.slice(0, dot) : base}.onnx`;
}

export async function runExport(args: ExportArgs, files: ToolFiles = new ToolFiles()): Promise<ExportResult> {
  if (!args.onnx) throw new ExportUsageError('--onnx', 'choose an output format; ONNX is the only one horn writes');
  const model = parseLocation(args.model);
  const output = args.output !== undefined ? parseLocation(args.output) : siblingLocation(model, onnxFileName(model.name));
  const user = model.fs === 'hdfs' || output.fs === 'hdfs' ? await files.user() : '';
  if (sameLocation(model, output, user)) throw new ExportUsageError('--output', `${output.name} is the model file itself; choose another path`);
  const layers = denseLayersOf(await loadModel(await files.read(model), model.name), model.name);
  const bytes = exportDenseLayersToOnnx(layers, { metadata: { 'horn.source': model.name.slice(model.name.lastIndexOf('/') + 1) } });
  await files.write(output, bytes);
  return {
    model: model.name,
    output: output.name,
    format: 'onnx',
    bytes: bytes.length,
    layers: layers.length,
    inputSize: layers[0].inputSize,
    outputSize: layers[layers.length - 1].outputSize,
  };
}

export function formatExportResult(r: ExportResult): string {
  return `wrote ${r.output} (ONNX, ${r.layers} dense layer${r.layers === 1 ? '' : 's'}, ${r.inputSize} → ${r.outputSize}, ${r.bytes} bytes)\n`;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export <model>',
  describe: 'Convert a saved horn model to another format (ONNX), in HDFS or locally',
  builder: (yargs: Argv<object>): Argv<ExportArgs> =>
    yargs
      .positional('model', MODEL_ARGUMENT)
      .option('onnx', { type: 'boolean', default: false, describe: 'write an ONNX model (opset 13)' })
      .option('output', { alias: 'o', type: 'string', describe: 'output file, HDFS or local (default: beside MODEL, with extension .onnx)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 export --onnx models/mnist/2026-01-01/application_1_0001', 'writes application_1_0001.onnx beside the model in HDFS')
      .example('$0 export --onnx ./mnist.horn -o ./mnist.onnx', 'local files') as unknown as Argv<ExportArgs>,
  handler: (args) =>
    reportInputErrors('export', async () => {
      const result = await runExport(args);
      process.stdout.write(args.json ? jsonLine(result) : formatExportResult(result));
    }),
};
