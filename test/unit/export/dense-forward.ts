// Test helpers: a seeded RNG, random dense networks, and a plain forward pass over a layer list
// that is independent of both the engine and ONNX (it is the oracle the exports are checked against).
import type { DenseActivation, DenseLayerDescription } from '../../../src/engine-export/dense-layers';

/** mulberry32: small, seedable, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(random: () => number, length: number, scale: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (random() * 2 - 1) * scale;
  return out;
}

export function randomDenseLayers(random: () => number, sizes: readonly number[], activations: readonly DenseActivation[], alpha = 0.1): DenseLayerDescription[] {
  return activations.map((activation, index) => {
    const inputSize = sizes[index];
    const outputSize = sizes[index + 1];
    const scale = Math.sqrt(6 / (inputSize + outputSize));
    return {
      inputSize,
      outputSize,
      weights: randomArray(random, inputSize * outputSize, scale),
      bias: randomArray(random, outputSize, 0.5),
      activation,
      ...(activation === 'leakyRelu' ? { alpha } : {}),
    };
  });
}

function activate(row: Float64Array, activation: DenseActivation, alpha: number): void {
  if (activation === 'softmax') {
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (let i = 0; i < row.length; i++) {
      row[i] = Math.exp(row[i] - max);
      sum += row[i];
    }
    for (let i = 0; i < row.length; i++) row[i] /= sum;
    return;
  }
  for (let i = 0; i < row.length; i++) {
    const x = row[i];
    switch (activation) {
      case 'identity': break;
      case 'relu': row[i] = x > 0 ? x : 0; break;
      case 'leakyRelu': row[i] = x > 0 ? x : alpha * x; break;
      case 'sigmoid': row[i] = 1 / (1 + Math.exp(-x)); break;
      case 'tanh': row[i] = Math.tanh(x); break;
    }
  }
}

/** Forward pass in float64 of a batch (rows×inputSize, row-major); returns rows×outputSize. */
export function denseForward(layers: readonly DenseLayerDescription[], input: Float32Array, rows: number): Float64Array {
  let current = Float64Array.from(input);
  for (const layer of layers) {
    const next = new Float64Array(rows * layer.outputSize);
    for (let r = 0; r < rows; r++) {
      const row = new Float64Array(layer.outputSize);
      for (let o = 0; o < layer.outputSize; o++) row[o] = layer.bias[o];
      for (let i = 0; i < layer.inputSize; i++) {
        const x = current[r * layer.inputSize + i];
        if (x === 0) continue;
        for (let o = 0; o < layer.outputSize; o++) row[o] += x * layer.weights[i * layer.outputSize + o];
      }
      activate(row, layer.activation, layer.alpha ?? 0.01);
      next.set(row, r * layer.outputSize);
    }
    current = next;
  }
  return current;
}
