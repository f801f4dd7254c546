// The job file's model and training sections in the engine's terms. Pure: no I/O.
import type { ModelSpec as EngineModelSpec, OptimizerSpec as EngineOptimizerSpec, ScheduleSpec as EngineScheduleSpec, Activation } from '../engine';
import type { JobSpec } from '../job';

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
