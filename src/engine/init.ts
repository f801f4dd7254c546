// Weight initialisation. Biases start at zero.
import type { Rng } from './rng';
import type { InitKind } from './spec';

/** Xavier/Glorot uniform: U(±√(6/(fanIn+fanOut))); keeps variance for sigmoid/tanh/softmax. */
export function xavierUniform(w: Float32Array, fanIn: number, fanOut: number, rng: Rng): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * limit;
}

/** He/Kaiming normal: N(0, 2/fanIn); keeps variance through ReLU. */
export function heNormal(w: Float32Array, fanIn: number, rng: Rng): void {
  const std = Math.sqrt(2 / fanIn);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
}

export function initWeights(kind: InitKind, w: Float32Array, fanIn: number, fanOut: number, rng: Rng): void {
  if (kind === 'he') heNormal(w, fanIn, rng);
  else xavierUniform(w, fanIn, fanOut, rng);
}
