// The job file's model and training sections in the engine's terms. Pure: no I/O.
import type { ModelSpec as EngineModelSpec, OptimizerSpec as EngineOptimizerSpec, ScheduleSpec as EngineScheduleSpec, Activation } from '../engine';
import type { DataFiles, InputSpec, JobSpec } from '../job';
import type { DatasetSpec, ReadOptions } from '../data';

const ACTIVATION: Record<JobSpec['model']['layers'][number]['activation'], Activation> = {
  identity: 'identity',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  relu: 'relu',
  'leaky-relu': 'leakyRelu',
  softmax: 'softmax',
};

/** The engine model for a job; user neuron files are resolved against `neuronDir`. */
export function engineModelSpec(spec: JobSpec, resolveNeuronFile: (file: string) => string = (f) => f): EngineModelSpec {
  const m = spec.model;
  return {
    inputSize: m.inputSize,
    layers: m.layers.map((l) => ({
      size: l.size,
      activation: ACTIVATION[l.activation],
      dropout: l.dropout,
      neuron: l.neuron ? { module: resolveNeuronFile(l.neuron.file), export: l.neuron.class } : undefined,
    })),
    cost: m.cost === 'cross-entropy' ? 'crossEntropy' : 'squaredError',
    init: m.init === 'auto' ? undefined : m.init,
    seed: m.seed,
    optimizer: engineOptimizerSpec(spec),
  };
}

export function engineOptimizerSpec(spec: JobSpec): EngineOptimizerSpec {
  const t = spec.training;
  const o = t.optimizer;
  return {
    kind: o.type,
    learningRate: o.learningRate,
    momentum: o.type === 'momentum' || o.type === 'nesterov' ? o.momentum : undefined,
    beta1: o.type === 'adam' ? o.beta1 : undefined,
    beta2: o.type === 'adam' ? o.beta2 : undefined,
    epsilon: o.type === 'adam' ? o.epsilon : undefined,
    weightDecay: t.weightDecay,
    schedule: engineSchedule(spec),
  };
}

function engineSchedule(spec: JobSpec): EngineScheduleSpec {
  const s = spec.training.schedule;
  switch (s.type) {
    case 'constant':
      return { kind: 'constant' };
    case 'step':
      return { kind: 'step', every: s.stepEpochs!, factor: s.gamma! };
    case 'cosine':
      return { kind: 'cosine', epochs: spec.training.epochs, minLearningRate: s.minLearningRate };
  }
}

/** Classification when the output layer has several units: labels become one-hot rows. */
export function classCount(spec: JobSpec): number | undefined {
  const out = spec.model.layers[spec.model.layers.length - 1]!.size;
  return out > 1 ? out : undefined;
}

/** A reader's view of one data set of the job, with each path mapped by `resolve`. */
export function datasetSpec(input: InputSpec, files: DataFiles, resolve: (p: string) => string): DatasetSpec {
  if (typeof files === 'object') return { format: 'idx', images: resolve(files.images), labels: resolve(files.labels) };
  if (input.format === 'csv') return { format: 'csv', path: resolve(files), csv: input.csv! };
  if (input.format === 'libsvm') {
    const { features, indexBase } = input.libsvm!;
    return { format: 'libsvm', path: resolve(files), libsvm: { features, indexBase: indexBase === 0 ? 0 : 1 } };
  }
  throw new Error(`format ${input.format} needs an {images, labels} pair`);
}

export function readOptions(spec: JobSpec): ReadOptions {
  return { classes: classCount(spec), normalize: spec.input.normalize, maxMalformed: spec.input.maxMalformed };
}
