// A plain description of the dense layers for exporters (ONNX). Weights are copies.
import { ModelSpecError } from './errors';
import type { Model } from './model';
import type { Activation } from './spec';

export type DenseActivation = Activation;

export interface DenseLayerDescription {
  inputSize: number;
  outputSize: number;
  /** row-major inputSize × outputSize (y = x · W + b) */
  weights: Float32Array;
  bias: Float32Array;
  activation: DenseActivation;
  alpha?: number;
}

/** Throws for layers run by a user neuron class: their function is arbitrary code, not exportable. */
export function describeDenseLayers(model: Model): DenseLayerDescription[] {
  return model.layerInfo().map((info, i) => {
    if (info.activation === null || info.activation === undefined) {
      throw new ModelSpecError(`layers[${i}].neuron`, info.neuron, 'a layer computed by a user neuron class cannot be described as a dense layer');
    }
    const p = model.layerParameters(i);
    const d: DenseLayerDescription = { inputSize: p.inputSize, outputSize: p.outputSize, weights: p.weights.slice(), bias: p.bias.slice(), activation: info.activation };
    if (info.activation === 'leakyRelu') d.alpha = info.alpha;
    return d;
  });
}
