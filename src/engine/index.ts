// The engine's public API. Kernels live in ./kernels (loadKernels picks the fastest backend).
export { loadKernels, describeKernels } from './kernels';
export type { Kernels, KernelBackendName, LoadKernelsOptions } from './kernels';
export { Model, classOf } from './model';
export type { Batch, StepResult, Evaluation, ModelOptions, ModelState } from './model';
export type { LayerParameters } from './layer';
export { Trainer, defaultStep, passOver, checkEpochSums } from './trainer';
export type { BatchSource, TrainerOptions, TrainerState, EpochSums, TrainingProgress, EpochSummary, TrainingSummary, StepFunction, BatchRows } from './trainer';
export { Optimizer, scheduledLearningRate, momentCount } from './optimizer';
export type { ParameterSegment, OptimizerState } from './optimizer';
export { validateModelSpec, validateOptimizerSpec, DEFAULT_OPTIMIZER } from './spec';
export type { ModelSpec, LayerSpec, OptimizerSpec, ScheduleSpec, Activation, Cost, InitKind, NeuronReference } from './spec';
export { Neuron, isNeuronClass } from './neuron';
export type { NeuronClass, ForwardMessage, BackwardMessage } from './neuron';
export { loadNeuronClass, toCommonJs } from './neuron-loader';
export { Rng, checkRngState } from './rng';
export type { RngState } from './rng';
export { xavierUniform, heNormal } from './init';
export { saveModel, loadModel, readModelFile, serializeModel, parseModelFile, modelFromParsed, crc32, MODEL_MAGIC, MODEL_FORMAT_VERSION } from './format';
export type { ModelFileHeader, ParsedModelFile, LoadModelOptions, SavedModelSpec, SavedLayerSpec, SavedNeuronReference } from './format';
export { describeDenseLayers } from './describe';
export type { DenseLayerDescription, DenseActivation } from './describe';
export { ModelSpecError, ModelFormatError, BatchShapeError, NeuronLoadError, NeuronProtocolError, StateMismatchError } from './errors';

import { loadKernels, type LoadKernelsOptions } from './kernels';
import type { Kernels } from './kernels';
import { Model, type ModelOptions } from './model';
import type { ModelSpec } from './spec';

/**
 * Build a model on the kernels given, or on ones loaded with `loadKernels(options)`: the fastest
 * available backend unless `backend` says otherwise, on `threads` threads (default 1).
 */
export async function createModel(spec: ModelSpec, options: ModelOptions & LoadKernelsOptions & { kernels?: Kernels } = {}): Promise<Model> {
  return new Model(spec, options.kernels ?? (await loadKernels(options)), options);
}
