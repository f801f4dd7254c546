// The engine-neutral description of a trained feed-forward network that exporters consume: the
// engine's `describeDenseLayers(model)` produces it, ONNX export and tests read it.

import { HornError } from '../common/errors';
import type { DenseActivation, DenseLayerDescription } from '../engine/describe';
import { ACTIVATIONS } from '../engine/spec';

export type { DenseActivation, DenseLayerDescription };

export const DENSE_ACTIVATIONS: readonly DenseActivation[] = ACTIVATIONS;

/** Default negative slope when a leakyRelu layer carries no alpha (the ONNX LeakyRelu default). */
export const DEFAULT_LEAKY_RELU_ALPHA = 0.01;

/** A layer list that cannot describe a network: names the layer, the field and the value. */
export class InvalidLayerDescriptionError extends HornError {
  constructor(
    readonly layerIndex: number,
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`layer ${layerIndex}: ${field} = ${formatValue(value)}: ${reason}`, 'input');
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function isPositiveInteger(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0;
}

/**
 * Checks that the layers chain (each input size is the previous output size), that the arrays
 * have the announced lengths and hold finite numbers, and that every activation is known.
 * Throws InvalidLayerDescriptionError on the first problem.
 */
export function validateDenseLayers(layers: readonly DenseLayerDescription[]): void {
  if (layers.length === 0) throw new InvalidLayerDescriptionError(0, 'layers.length', 0, 'a network needs at least one layer');
  layers.forEach((layer, index) => {
    if (!isPositiveInteger(layer.inputSize)) throw new InvalidLayerDescriptionError(index, 'inputSize', layer.inputSize, 'must be a positive integer');
    if (!isPositiveInteger(layer.outputSize)) throw new InvalidLayerDescriptionError(index, 'outputSize', layer.outputSize, 'must be a positive integer');
    if (index > 0 && layer.inputSize !== layers[index - 1].outputSize) {
      throw new InvalidLayerDescriptionError(index, 'inputSize', layer.inputSize, `must equal the previous layer's outputSize ${layers[index - 1].outputSize}`);
    }
    const expectedWeights = layer.inputSize * layer.outputSize;
    if (!(layer.weights instanceof Float32Array) || layer.weights.length !== expectedWeights) {
      throw new InvalidLayerDescriptionError(index, 'weights.length', layer.weights?.length, `must be a Float32Array of inputSize×outputSize = ${expectedWeights}`);
    }
    if (!(layer.bias instanceof Float32Array) || layer.bias.length !== layer.outputSize) {
      throw new InvalidLayerDescriptionError(index, 'bias.length', layer.bias?.length, `must be a Float32Array of outputSize = ${layer.outputSize}`);
    }
    if (!DENSE_ACTIVATIONS.includes(layer.activation)) {
      throw new InvalidLayerDescriptionError(index, 'activation', layer.activation, `must be one of ${DENSE_ACTIVATIONS.join(', ')}`);
    }
    if (layer.alpha !== undefined && !Number.isFinite(layer.alpha)) {
      throw new InvalidLayerDescriptionError(index, 'alpha', layer.alpha, 'must be a finite number');
    }
    const badWeight = layer.weights.findIndex((w) => !Number.isFinite(w));
    if (badWeight >= 0) throw new InvalidLayerDescriptionError(index, `weights[${badWeight}]`, layer.weights[badWeight], 'must be finite');
    const badBias = layer.bias.findIndex((b) => !Number.isFinite(b));
    if (badBias >= 0) throw new InvalidLayerDescriptionError(index, `bias[${badBias}]`, layer.bias[badBias], 'must be finite');
  });
}
