// The model tools' view of a saved horn model: the engine loads it (its ModelFormatError names the
// file and byte offset), and the tools take either its dense-layer description (export) or a
// batch classifier over it (eval).
import { HornError } from '../common/errors';
import { describeDenseLayers, loadModel, type Model, ModelSpecError } from '../engine';
import type { DenseLayerDescription } from './dense-layers';
import type { BatchClassifier } from './evaluate';
import { readToolFile } from './model-file';

/** A model that loads but cannot be exported (a layer computed by a user neuron class). */
export class ModelNotExportableError extends HornError {
  constructor(readonly file: string, readonly field: string, reason: string) {
    super(`${file}: cannot export ${field}: ${reason}`, 'input');
  }
}

export async function loadHornModelFile(file: string): Promise<Model> {
  return loadModel(await readToolFile(file), file);
}

/** The engine's description, typed as the exporter's own (the two are the same shape by contract). */
export function denseLayersOf(model: Model, file: string): DenseLayerDescription[] {
  try {
    return describeDenseLayers(model);
  } catch (err) {
    if (err instanceof ModelSpecError) throw new ModelNotExportableError(file, err.field, 'a layer computed by a user neuron class has no ONNX equivalent');
    throw err;
  }
}

export interface ModelClassifier extends BatchClassifier {
  /** Training metadata saved with the model (free-form JSON). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

export function classifierOf(model: Model): ModelClassifier {
  return {
    inputSize: model.inputSize,
    outputSize: model.outputSize,
    metadata: model.metadata,
    predict: (features, rows) => model.predict(features, rows),
  };
}
