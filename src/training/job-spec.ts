// Maps the `model` and `training` sections of a validated job file (src/job) onto engine specs,
// so the local CLI and the YARN worker build identical models from one job.
import { resolve } from 'node:path';
import type { Activation, Cost, ModelSpec, OptimizerSpec, ScheduleSpec } from '../engine';
import type { ModelSpec as JobModelSpec, TrainingSpec as JobTrainingSpec } from '../job';

const ACTIVATION: Record<JobModelSpec['layers'][number]['activation'], Activation> = {
  identity: 'identity', sigmoid: 'sigmoid', tanh: 'tanh', relu: 'relu', 'leaky-relu': 'leakyRelu', softmax: 'softmax',
};
const COST: Record<JobModelSpec['cost'], Cost> = { 'squared-error': 'squaredError', 'cross-entropy': 'crossEntropy' };

/**
 * `jobDir` is the directory of the job file: user neuron files are relative to it. The
 * optimizer (with the schedule and weight decay) is part of the result, so `trainStep` and the
 * Trainer use it.
 */
export function modelSpecFromJob(model: JobModelSpec, training: JobTrainingSpec, jobDir: string): ModelSpec {
  return {
    inputSize: model.inputSize,
    layers: model.layers.map((l) => ({
      size: l.size,
      activation: ACTIVATION[l.activation],
      ...(l.dropout ? { dropout: l.dropout } : {}),
      ...(l.neuron ? { neuron: { module: resolve(jobDir, l.neuron.file), export: l.neuron.class } } : {}),
    })),
    cost: COST[model.cost],
    ...(model.init === 'auto' ? {} : { init: model.init }),
    seed: model.seed,
    optimizer: optimizerSpecFromJob(training),
  };
}

export function optimizerSpecFromJob(training: JobTrainingSpec): OptimizerSpec {
  const o = training.optimizer;
  const s = training.schedule;
  const warmupEpochs = s.warmupEpochs;
  let schedule: ScheduleSpec;
  if (s.type === 'step') schedule = { kind: 'step', every: s.stepEpochs as number, factor: s.gamma as number, warmupEpochs };
  // The job's cosine ends at minLearningRate in the last epoch; the engine's reaches it at `epochs`.
  else if (s.type === 'cosine') schedule = { kind: 'cosine', epochs: Math.max(1, training.epochs - warmupEpochs - 1), minLearningRate: s.minLearningRate, warmupEpochs };
  else schedule = { kind: 'constant', warmupEpochs };
  return {
    kind: o.type,
    learningRate: o.learningRate,
    ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
    ...(o.beta1 !== undefined ? { beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon } : {}),
    weightDecay: training.weightDecay,
    schedule,
  };
}
