// The job file's model/training sections map onto engine specs that build a valid Model.
import { join } from 'node:path';
import { modelSpecFromJob } from '../../../src/training/job-spec';
import { Model } from '../../../src/engine/model';
import { scheduledLearningRate } from '../../../src/engine/optimizer';
import { loadJobFile } from '../../../src/job';
import { kernels } from '../engine/helpers';

const ROOT = join(__dirname, '../../..');

test('examples/mnist.yaml becomes the 784-500-500-10 engine spec', () => {
  const job = loadJobFile(join(ROOT, 'examples/mnist.yaml'));
  const spec = modelSpecFromJob(job.spec.model, job.spec.training, job.baseDir);
  expect(spec).toMatchObject({
    inputSize: 784,
    layers: [{ size: 500, activation: 'relu', dropout: 0.2 }, { size: 500, activation: 'relu', dropout: 0.2 }, { size: 10, activation: 'softmax' }],
    cost: 'crossEntropy',
    init: 'he',
    seed: 1,
    optimizer: { kind: 'momentum', learningRate: 0.08, momentum: 0.9, weightDecay: 0.0001, schedule: { kind: 'cosine', epochs: 14, minLearningRate: 0.0005, warmupEpochs: 0 } },
  });
  const model = new Model(spec, kernels);
  expect(model.parameterCount).toBe(648010);
  model.optimizer.epoch = 14; // the last of 15 epochs runs at minLearningRate
  expect(model.optimizer.learningRate).toBeCloseTo(0.0005, 10);
});

test('warm-up epochs ramp the rate, then the schedule starts', () => {
  const s = { kind: 'cosine' as const, epochs: 4, minLearningRate: 0, warmupEpochs: 2 };
  expect([0, 1, 2, 4, 6].map((e) => scheduledLearningRate(0.3, s, e))).toEqual([expect.closeTo(0.1, 10), expect.closeTo(0.2, 10), 0.3, expect.closeTo(0.15, 10), 0]);
});

test('leaky-relu, squared-error, user neurons relative to the job file', () => {
  const spec = modelSpecFromJob(
    { inputSize: 3, layers: [{ size: 4, activation: 'leaky-relu', neuron: { file: 'neurons/sigmoid-neuron.ts', class: 'SigmoidNeuron' } }, { size: 1, activation: 'identity' }], cost: 'squared-error', init: 'auto', seed: 2 },
    { optimizer: { type: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, schedule: { type: 'step', stepEpochs: 3, gamma: 0.5, warmupEpochs: 0 }, batchSize: 8, epochs: 9, weightDecay: 0 } as never,
    join(ROOT, 'examples'),
  );
  expect(spec.layers[0]).toEqual({ size: 4, activation: 'leakyRelu', neuron: { module: join(ROOT, 'examples/neurons/sigmoid-neuron.ts'), export: 'SigmoidNeuron' } });
  expect(spec.init).toBeUndefined();
  expect(spec.optimizer).toMatchObject({ kind: 'adam', beta2: 0.999, schedule: { kind: 'step', every: 3, factor: 0.5 } });
  const model = new Model(spec, kernels);
  expect(model.layerInfo()[0].neuron).toBe('SigmoidNeuron');
});

test('examples/neurons/mnist-sigmoid-neuron.yaml loads its user neuron relative to the job file', () => {
  const job = loadJobFile(join(ROOT, 'examples/neurons/mnist-sigmoid-neuron.yaml'));
  const model = new Model(modelSpecFromJob(job.spec.model, job.spec.training, job.baseDir), kernels);
  expect(model.layerInfo().map((l) => l.neuron)).toEqual(['SigmoidNeuron', null]);
});
