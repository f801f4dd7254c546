// Warm start: a job that begins from an existing horn model (e.g. yesterday's, for nightly
// retraining). The saved model's architecture must be the job's: the same input size and the same
// layers (sizes and activations); otherwise the error names both shapes.
import { HornError } from '../common/errors';
import { parseModelFile, type Model, type ModelSpec, type ParsedModelFile, type SavedModelSpec } from '../engine';

/** "784-500 relu-500 relu-10 softmax" */
export function shapeOf(spec: Pick<ModelSpec | SavedModelSpec, 'inputSize' | 'layers'>): string {
  return [String(spec.inputSize), ...spec.layers.map((l) => `${l.size} ${l.neuron ? 'neuron' : (l.activation ?? 'identity')}`)].join('-');
}

export class ArchitectureMismatchError extends HornError {
  constructor(readonly source: string, readonly saved: string, readonly wanted: string) {
    super(`training.initFrom ${source} has architecture ${saved}; the job's model is ${wanted}`, 'input', { field: 'training.initFrom', path: source });
  }
}

/** The saved model, checked against the job's model spec. */
export function checkedInitialModel(bytes: Uint8Array, source: string, wanted: Pick<ModelSpec, 'inputSize' | 'layers'>): ParsedModelFile {
  const parsed = parseModelFile(bytes, source);
  const a = shapeOf(parsed.header.spec);
  const b = shapeOf(wanted);
  if (a !== b) throw new ArchitectureMismatchError(source, a, b);
  return parsed;
}

/** Sets a model's parameters from a saved one of the same architecture. */
export function warmStart(model: Model, bytes: Uint8Array, source: string): void {
  model.setParameters(checkedInitialModel(bytes, source, model.spec).parameters);
}
