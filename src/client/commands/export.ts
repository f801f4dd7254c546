// `horn export --onnx MODEL [-o OUT]`: converts a saved horn model into an ONNX file that any
// ONNX runtime can serve (input `input` [batch, features], output `probabilities` after softmax).
import { HornError } from '../../common/errors';
import { basename, dirname, extname, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode, isInputError } from '../exit-codes';
import type { DenseLayerDescription } from '../../engine-export/dense-layers';
import { exportDenseLayersToOnnx } from '../../engine-export/onnx';
import { writeToolFile } from '../../engine-export/model-file';
import { loadDenseLayersFromModelFile } from '../../engine-export/horn-model';

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

/** What export needs from the outside world; tests replace it. */
export interface ExportIo {
  loadDenseLayers(modelFile: string): Promise<readonly DenseLayerDescription[]>;
  writeFile(file: string, bytes: Uint8Array): Promise<void>;
}

const defaultIo: ExportIo = { loadDenseLayers: loadDenseLayersFromModelFile, writeFile: writeToolFile };

/** A command line that cannot be executed as given (e.g. no output format chosen). */
export class ExportUsageError extends HornError {
  constructor(readonly option: string, reason: string) {
    super(`${option}: ${reason}`, 'input');
  }
}

/** `model.horn` → `model.onnx` next to it (a name without extension gets `.onnx` appended). */
export function defaultOnnxPath(modelFile: string): string {
  const ext = extname(modelFile);
  return join(dirname(modelFile), `${basename(modelFile, ext)}.onnx`);
}

export async function runExport(args: ExportArgs, io: ExportIo = defaultIo): Promise<ExportResult> {
  if (!args.onnx) throw new ExportUsageError('--onnx', 'choose an output format; ONNX is the only one horn writes');
  const output = args.output ?? defaultOnnxPath(args.model);
  if (output === args.model) throw new ExportUsageError('--output', `${output} is the model file itself; choose another path`);
  const layers = await io.loadDenseLayers(args.model);
  const bytes = exportDenseLayersToOnnx(layers, { metadata: { 'horn.source': basename(args.model) } });
  await io.writeFile(output, bytes);
  return {
    model: args.model,
    output,
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
  describe: 'Convert a saved horn model to another format (ONNX)',
  builder: (yargs: Argv<object>): Argv<ExportArgs> =>
    yargs
      .positional('model', { type: 'string', demandOption: true, describe: 'horn model file' })
      .option('onnx', { type: 'boolean', default: false, describe: 'write an ONNX model (opset 13)' })
      .option('output', { alias: 'o', type: 'string', describe: 'output file (default: MODEL with extension .onnx)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 export --onnx mnist.horn -o mnist.onnx', 'write mnist.onnx') as unknown as Argv<ExportArgs>,
  handler: async (args) => {
    try {
      const result = await runExport(args);
      process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : formatExportResult(result));
    } catch (err) {
      if (!isInputError(err)) throw err;
      process.stderr.write(`horn export: ${err.message}\n`);
      process.exitCode = ExitCode.InvalidInput;
    }
  },
};
