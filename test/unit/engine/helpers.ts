// Shared fixtures for the engine tests.
import { ReferenceKernels } from '../../../src/engine/kernels/reference';
import { Rng } from '../../../src/engine/rng';

export const kernels = new ReferenceKernels();

export function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng.next() - 1) * scale;
  return a;
}

export function oneHot(labels: number[], classes: number): Float32Array {
  const y = new Float32Array(labels.length * classes);
  labels.forEach((l, r) => (y[r * classes + l] = 1));
  return y;
}

/** A linearly separable-ish toy problem: class = arg-max of a fixed random projection. */
export function toyClassification(count: number, inputSize: number, classes: number, seed: number): { x: Float32Array; y: Float32Array; labels: number[] } {
  const rng = new Rng(seed);
  const proj = randomArray(inputSize * classes, rng);
  const x = randomArray(count * inputSize, rng);
  const labels: number[] = [];
  for (let r = 0; r < count; r++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let i = 0; i < inputSize; i++) s += x[r * inputSize + i] * proj[i * classes + c];
      if (s > bestScore) [best, bestScore] = [c, s];
    }
    labels.push(best);
  }
  return { x, y: oneHot(labels, classes), labels };
}
