// The plain-object description of a model and its validation. Everything a job file says about
// the network ends up here; the Model is built only from a validated spec.
import { ModelSpecError } from './errors';
import type { NeuronClass } from './neuron';

export type Activation = 'identity' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'softmax';
export type Cost = 'crossEntropy' | 'squaredError';
export type InitKind = 'xavier' | 'he';

/** A user neuron: the class itself, or where to load it from (see loadNeuronClass). */
export type NeuronReference = NeuronClass | { module: string; export?: string };

export interface LayerSpec {
  /** Number of neurons (outputs) of this dense layer. */
  size: number;
  /** Built-in activation; ignored (and may be omitted) when `neuron` is given. */
  activation?: Activation;
  /** Negative slope of leakyRelu (default 0.01). */
  alpha?: number;
  /** Probability of dropping each output of this layer while training (inverted dropout). */
  dropout?: number;
  /** Weight initialisation; default `he` for relu/leakyRelu, `xavier` otherwise. */
  init?: InitKind;
  /** Run this layer neuron by neuron with a user class instead of as matrix operations. */
  neuron?: NeuronReference;
}

/**
 * Per-epoch learning-rate schedules. With `warmupEpochs` = w, epoch e < w uses lr·(e+1)/(w+1)
 * and the schedule proper starts at epoch w (as its epoch 0).
 */
export type ScheduleSpec =
  | { kind: 'constant'; warmupEpochs?: number }
  /** lr · factor^floor(epoch / every) */
  | { kind: 'step'; every: number; factor: number; warmupEpochs?: number }
  /** Cosine annealing from lr to minLearningRate over `epochs` epochs. */
  | { kind: 'cosine'; epochs: number; minLearningRate?: number; warmupEpochs?: number };

export interface OptimizerSpec {
  kind: 'sgd' | 'momentum' | 'nesterov' | 'adam';
  learningRate: number;
  /** momentum / nesterov: default 0.9. */
  momentum?: number;
  /** L2 decay added to weight gradients (not to biases); default 0. */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  schedule?: ScheduleSpec;
}

export interface ModelSpec {
  inputSize: number;
  /** Drop probability for the input features while training. */
  inputDropout?: number;
  layers: LayerSpec[];
  cost: Cost;
  /** Default initialisation for layers that do not name one. */
  init?: InitKind;
  /** Seed of weight init and dropout masks; default 1. */
  seed?: number;
  /** Used by trainStep/applyGradients when no optimizer is passed; default momentum 0.01/0.9. */
  optimizer?: OptimizerSpec;
}

export const ACTIVATIONS: readonly Activation[] = ['identity', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax'];
const OPTIMIZERS: readonly OptimizerSpec['kind'][] = ['sgd', 'momentum', 'nesterov', 'adam'];

export const DEFAULT_OPTIMIZER: OptimizerSpec = { kind: 'momentum', learningRate: 0.01, momentum: 0.9 };

/** Throws ModelSpecError naming the first invalid field. */
export function validateModelSpec(spec: ModelSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new ModelSpecError('spec', spec, 'must be an object');
  positiveInt('inputSize', spec.inputSize);
  if (spec.inputDropout !== undefined) probability('inputDropout', spec.inputDropout);
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw new ModelSpecError('layers', spec.layers, 'need at least one layer');
  if (spec.cost !== 'crossEntropy' && spec.cost !== 'squaredError') throw new ModelSpecError('cost', spec.cost, "must be 'crossEntropy' or 'squaredError'");
  if (spec.init !== undefined && spec.init !== 'xavier' && spec.init !== 'he') throw new ModelSpecError('init', spec.init, "must be 'xavier' or 'he'");
  if (spec.seed !== undefined && !Number.isInteger(spec.seed)) throw new ModelSpecError('seed', spec.seed, 'must be an integer');
  spec.layers.forEach((layer, i) => {
    const at = `layers[${i}]`;
    positiveInt(`${at}.size`, layer.size);
    if (layer.neuron === undefined) {
      if (!ACTIVATIONS.includes(layer.activation as Activation)) throw new ModelSpecError(`${at}.activation`, layer.activation, `must be one of ${ACTIVATIONS.join(', ')}`);
    } else if (typeof layer.neuron !== 'function' && (typeof layer.neuron !== 'object' || typeof layer.neuron.module !== 'string')) {
      throw new ModelSpecError(`${at}.neuron`, layer.neuron, 'must be a Neuron class or { module, export }');
    }
    if (layer.alpha !== undefined && !(Number.isFinite(layer.alpha) && layer.alpha >= 0)) throw new ModelSpecError(`${at}.alpha`, layer.alpha, 'must be a finite number ≥ 0');
    if (layer.dropout !== undefined) probability(`${at}.dropout`, layer.dropout);
    if (layer.init !== undefined && layer.init !== 'xavier' && layer.init !== 'he') throw new ModelSpecError(`${at}.init`, layer.init, "must be 'xavier' or 'he'");
    if (layer.activation === 'softmax' && i !== spec.layers.length - 1) throw new ModelSpecError(`${at}.activation`, layer.activation, 'softmax is only supported on the output layer');
  });
  const last = spec.layers[spec.layers.length - 1];
  const at = `layers[${spec.layers.length - 1}]`;
  if (last.dropout) throw new ModelSpecError(`${at}.dropout`, last.dropout, 'the output layer cannot use dropout');
  if (spec.cost === 'crossEntropy') {
    if (last.neuron !== undefined) throw new ModelSpecError(`${at}.neuron`, 'user neuron', "crossEntropy needs a built-in softmax or sigmoid output layer; use cost 'squaredError' with a user output neuron");
    if (last.activation !== 'softmax' && last.activation !== 'sigmoid') throw new ModelSpecError(`${at}.activation`, last.activation, "crossEntropy needs a 'softmax' (multi-class) or 'sigmoid' (binary) output layer");
  }
  if (spec.optimizer !== undefined) validateOptimizerSpec(spec.optimizer, 'optimizer');
}

export function validateOptimizerSpec(o: OptimizerSpec, at = 'optimizer'): void {
  if (!OPTIMIZERS.includes(o.kind)) throw new ModelSpecError(`${at}.kind`, o.kind, `must be one of ${OPTIMIZERS.join(', ')}`);
  if (!(Number.isFinite(o.learningRate) && o.learningRate > 0)) throw new ModelSpecError(`${at}.learningRate`, o.learningRate, 'must be > 0');
  if (o.momentum !== undefined && !(o.momentum >= 0 && o.momentum < 1)) throw new ModelSpecError(`${at}.momentum`, o.momentum, 'must be in [0, 1)');
  if (o.weightDecay !== undefined && !(Number.isFinite(o.weightDecay) && o.weightDecay >= 0)) throw new ModelSpecError(`${at}.weightDecay`, o.weightDecay, 'must be ≥ 0');
  if (o.beta1 !== undefined && !(o.beta1 >= 0 && o.beta1 < 1)) throw new ModelSpecError(`${at}.beta1`, o.beta1, 'must be in [0, 1)');
  if (o.beta2 !== undefined && !(o.beta2 >= 0 && o.beta2 < 1)) throw new ModelSpecError(`${at}.beta2`, o.beta2, 'must be in [0, 1)');
  if (o.epsilon !== undefined && !(o.epsilon > 0)) throw new ModelSpecError(`${at}.epsilon`, o.epsilon, 'must be > 0');
  const s = o.schedule;
  if (s?.warmupEpochs !== undefined && !(Number.isInteger(s.warmupEpochs) && s.warmupEpochs >= 0)) throw new ModelSpecError(`${at}.schedule.warmupEpochs`, s.warmupEpochs, 'must be an integer ≥ 0');
  if (s === undefined || s.kind === 'constant') return;
  if (s.kind === 'step') {
    positiveInt(`${at}.schedule.every`, s.every);
    if (!(s.factor > 0 && s.factor <= 1)) throw new ModelSpecError(`${at}.schedule.factor`, s.factor, 'must be in (0, 1]');
  } else if (s.kind === 'cosine') {
    positiveInt(`${at}.schedule.epochs`, s.epochs);
    if (s.minLearningRate !== undefined && !(s.minLearningRate >= 0)) throw new ModelSpecError(`${at}.schedule.minLearningRate`, s.minLearningRate, 'must be ≥ 0');
  } else {
    throw new ModelSpecError(`${at}.schedule.kind`, (s as { kind: unknown }).kind, "must be 'constant', 'step' or 'cosine'");
  }
}

function positiveInt(field: string, v: unknown): void {
  if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) throw new ModelSpecError(field, v, 'must be a positive integer');
}

function probability(field: string, v: unknown): void {
  if (!(typeof v === 'number' && v >= 0 && v < 1)) throw new ModelSpecError(field, v, 'must be a probability in [0, 1)');
}
