// Finite-difference checks of every layer type, activation and loss: the analytic gradient of
// computeGradients must match (L(w+h) − L(w−h)) / 2h for every parameter.
import { Model } from '../../../src/engine/model';
import { Neuron, type BackwardMessage, type ForwardMessage } from '../../../src/engine/neuron';
import { Rng } from '../../../src/engine/rng';
import type { Activation, Cost, ModelSpec } from '../../../src/engine/spec';
import { kernels, oneHot, randomArray } from './helpers';

const H = 1e-3;

function check(spec: ModelSpec, targets: 'onehot' | 'binary' | 'real'): void {
  const model = new Model(spec, kernels);
  const rng = new Rng(99);
  const rows = 3;
  const x = randomArray(rows * spec.inputSize, rng);
  const out = model.outputSize;
  const y = targets === 'onehot' ? oneHot([0, out - 1, 1 % out], out) : targets === 'binary' ? Float32Array.from({ length: rows * out }, (_, i) => i % 2) : randomArray(rows * out, rng, 0.8);
  const state = model.getRandomState();
  model.computeGradients(x, y, rows);
  const analytic = model.gradients().slice();
  const params = model.parameters();
  const lossAt = (): number => {
    model.setRandomState(state); // same dropout masks as the analytic pass
    return model.computeGradients(x, y, rows).loss;
  };
  let worst = 0;
  for (let i = 0; i < params.length; i++) {
    const saved = params[i];
    params[i] = saved + H;
    const up = lossAt();
    params[i] = saved - H;
    const down = lossAt();
    params[i] = saved;
    // Use the perturbation actually stored in float32.
    const numeric = (up - down) / (Math.fround(saved + H) - Math.fround(saved - H));
    const err = Math.abs(numeric - analytic[i]) / Math.max(1e-2, Math.abs(numeric) + Math.abs(analytic[i]));
    worst = Math.max(worst, err);
    if (err > 2e-2) throw new Error(`parameter ${i}: numeric ${numeric} vs analytic ${analytic[i]} (relative error ${err})`);
  }
  expect(worst).toBeLessThan(2e-2);
}

function spec(hidden: Activation, output: Activation, cost: Cost, extra: Partial<ModelSpec> = {}, dropout = 0): ModelSpec {
  return {
    inputSize: 4,
    layers: [
      { size: 5, activation: hidden, dropout, alpha: 0.1 },
      { size: 4, activation: hidden === 'softmax' ? 'tanh' : hidden, alpha: 0.1 },
      { size: 3, activation: output },
    ],
    cost,
    init: 'xavier',
    seed: 5,
    ...extra,
  };
}

describe('finite-difference gradient checks', () => {
  for (const act of ['identity', 'relu', 'leakyRelu', 'sigmoid', 'tanh'] as const) {
    test(`${act} hidden layers, softmax + cross-entropy`, () => check(spec(act, 'softmax', 'crossEntropy'), 'onehot'));
  }
  for (const out of ['identity', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax'] as const) {
    test(`${out} output layer, squared error`, () => check(spec('tanh', out, 'squaredError'), out === 'softmax' ? 'onehot' : 'real'));
  }
  test('sigmoid output, binary cross-entropy', () => check(spec('tanh', 'sigmoid', 'crossEntropy'), 'binary'));
  test('dropout on hidden and input layers', () => check(spec('tanh', 'softmax', 'crossEntropy', { inputDropout: 0.25 }, 0.3), 'onehot'));
  test('single-layer model (no hidden layer)', () => check({ inputSize: 3, layers: [{ size: 2, activation: 'softmax' }], cost: 'crossEntropy' }, 'onehot'));

  test('user neuron layers (hidden and output), with and without pushed gradients', () => {
    class Cube extends Neuron {
      // A non-standard squash (x³/3 + x) so a wrong chain rule cannot pass by accident.
      forward(messages: readonly ForwardMessage[]): void {
        const s = this.weightedSum(messages);
        this.feedforward(s * s * s / 3 + s);
      }
      backward(messages: readonly BackwardMessage[]): void {
        // Recompute the pre-activation from the inputs and incoming weights.
        let pre = this.bias;
        this.inputs.forEach((v, i) => (pre += v * this.incomingWeight(i)));
        this.backpropagate(this.incomingError(messages) * (pre * pre + 1));
      }
    }
    class PushingTanh extends Neuron {
      forward(messages: readonly ForwardMessage[]): void {
        this.feedforward(Math.tanh(this.weightedSum(messages)));
      }
      backward(messages: readonly BackwardMessage[]): void {
        const delta = this.incomingError(messages) * (1 - this.output * this.output);
        this.backpropagate(delta);
        for (const v of this.inputs) this.push(delta * v);
        this.pushBias(delta);
      }
    }
    check({
      inputSize: 4,
      layers: [
        { size: 5, neuron: PushingTanh, dropout: 0.2 },
        { size: 4, neuron: Cube },
        { size: 3, activation: 'relu' },
        { size: 2, neuron: PushingTanh },
      ],
      cost: 'squaredError',
      init: 'xavier',
      seed: 3,
    }, 'real');
  });
});
