// The neuron-centric API is real: a hand-written sigmoid neuron trains to the same weights as the
// built-in vectorised sigmoid layer, loaded as a class, from TypeScript and from JavaScript.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SigmoidNeuron } from '../../../examples/neurons/sigmoid-neuron';
import { NeuronLoadError, NeuronProtocolError } from '../../../src/engine/errors';
import { loadKernels, type Kernels } from '../../../src/engine/kernels';
import { Model } from '../../../src/engine/model';
import { Neuron, type ForwardMessage } from '../../../src/engine/neuron';
import { loadNeuronClass } from '../../../src/engine/neuron-loader';
import type { LayerSpec, ModelSpec } from '../../../src/engine/spec';
import { Trainer } from '../../../src/engine/trainer';
import { kernels, toyClassification } from './helpers';

const EXAMPLE = resolve(__dirname, '../../../examples/neurons/sigmoid-neuron.ts');

function specWith(hidden: LayerSpec, output: LayerSpec, cost: ModelSpec['cost']): ModelSpec {
  return {
    inputSize: 6,
    layers: [hidden, { size: 7, activation: 'tanh' }, output],
    cost,
    init: 'xavier',
    seed: 42,
    optimizer: { kind: 'momentum', learningRate: 0.2, momentum: 0.9 },
  };
}

async function trainBoth(custom: ModelSpec, builtin: ModelSpec, backend: Kernels = kernels): Promise<[Model, Model]> {
  const data = toyClassification(96, 6, 3, 7);
  const models = [new Model(custom, backend), new Model(builtin, backend)];
  for (const m of models) {
    await new Trainer(m, { epochs: 5, batchSize: 16, seed: 3 }).train({ x: data.x, y: data.y, count: 96 });
  }
  return [models[0], models[1]];
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('user neurons', () => {
  test('a user sigmoid neuron (hidden layer, with dropout) ends with the built-in layer’s weights within 1e-5', async () => {
    const [custom, builtin] = await trainBoth(
      specWith({ size: 8, neuron: SigmoidNeuron, dropout: 0.2 }, { size: 3, activation: 'softmax' }, 'crossEntropy'),
      specWith({ size: 8, activation: 'sigmoid', dropout: 0.2 }, { size: 3, activation: 'softmax' }, 'crossEntropy'),
    );
    const initial = new Model(specWith({ size: 8, activation: 'sigmoid' }, { size: 3, activation: 'softmax' }, 'crossEntropy'), kernels);
    expect(maxDifference(builtin.parameters(), initial.parameters())).toBeGreaterThan(0.05); // training moved the weights
    expect(maxDifference(custom.parameters(), builtin.parameters())).toBeLessThan(1e-5);
  });

  test('the same holds on the fastest kernels (float32 accumulation in the built-in layer)', async () => {
    const fast = await loadKernels();
    const [custom, builtin] = await trainBoth(
      specWith({ size: 8, neuron: SigmoidNeuron, dropout: 0.2 }, { size: 3, activation: 'softmax' }, 'crossEntropy'),
      specWith({ size: 8, activation: 'sigmoid', dropout: 0.2 }, { size: 3, activation: 'softmax' }, 'crossEntropy'),
      fast,
    );
    expect(maxDifference(custom.parameters(), builtin.parameters())).toBeLessThan(1e-5);
  });

  test('a user sigmoid output neuron with squared error matches the built-in layer', async () => {
    const [custom, builtin] = await trainBoth(
      specWith({ size: 8, activation: 'relu' }, { size: 3, neuron: SigmoidNeuron }, 'squaredError'),
      specWith({ size: 8, activation: 'relu' }, { size: 3, activation: 'sigmoid' }, 'squaredError'),
    );
    expect(maxDifference(custom.parameters(), builtin.parameters())).toBeLessThan(1e-5);
  });

  test('the example loads from its TypeScript file and from a { module, export } spec', async () => {
    const loaded = loadNeuronClass(EXAMPLE, 'SigmoidNeuron');
    expect(loaded.prototype).toBeInstanceOf(Neuron);
    const [custom, builtin] = await trainBoth(
      specWith({ size: 8, neuron: { module: EXAMPLE, export: 'SigmoidNeuron' } }, { size: 3, activation: 'softmax' }, 'crossEntropy'),
      specWith({ size: 8, activation: 'sigmoid' }, { size: 3, activation: 'softmax' }, 'crossEntropy'),
    );
    expect(maxDifference(custom.parameters(), builtin.parameters())).toBeLessThan(1e-5);
  });

  test('a CommonJS .js neuron file requiring horn loads; its only Neuron export is picked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'horn-neuron-'));
    const file = join(dir, 'relu.js');
    writeFileSync(file, `const { Neuron } = require('horn');
class Relu extends Neuron {
  forward(m) { this.feedforward(Math.max(0, this.weightedSum(m))); }
  backward(m) { this.backpropagate(this.output > 0 ? this.incomingError(m) : 0); }
}
module.exports = { Relu, helper: 1 };
`);
    const cls = loadNeuronClass(file);
    const model = new Model({ inputSize: 2, layers: [{ size: 3, neuron: cls }, { size: 2, activation: 'softmax' }], cost: 'crossEntropy' }, kernels);
    const out = model.predict(new Float32Array([1, -1, 0.5, 0.5]), 2);
    expect(out).toHaveLength(4);
    expect(out[0] + out[1]).toBeCloseTo(1, 5);
  });

  test('loading errors are typed and name the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'horn-neuron-'));
    const none = join(dir, 'none.js');
    writeFileSync(none, 'module.exports = { x: 1 };');
    const broken = join(dir, 'broken.ts');
    writeFileSync(broken, 'export class X extends {');
    expect(() => loadNeuronClass(join(dir, 'missing.ts'))).toThrow(NeuronLoadError);
    expect(() => loadNeuronClass(none)).toThrow(/none\.js: the file exports no class extending Neuron/);
    expect(() => loadNeuronClass(broken)).toThrow(/broken\.ts: transpiling failed/);
    expect(() => loadNeuronClass(EXAMPLE, 'Nope')).toThrow(/no such export/);
  });

  test('protocol mistakes raise NeuronProtocolError with layer and neuron', () => {
    class Silent extends Neuron {
      forward(_m: readonly ForwardMessage[]): void {}
      backward(): void {}
    }
    class NoDelta extends Neuron {
      forward(m: readonly ForwardMessage[]): void { this.feedforward(this.weightedSum(m)); }
      backward(): void { this.push(1); }
    }
    const build = (cls: typeof Silent | typeof NoDelta): Model => new Model({ inputSize: 2, layers: [{ size: 2, neuron: cls }, { size: 2, activation: 'softmax' }], cost: 'crossEntropy' }, kernels);
    expect(() => build(Silent).predict(new Float32Array(2))).toThrow(/Silent \(layer 0, neuron 0\): forward\(\) did not call feedforward/);
    const err = (() => {
      try {
        build(NoDelta).computeGradients(new Float32Array(2), new Float32Array([1, 0]));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(NeuronProtocolError);
    expect((err as Error).message).toMatch(/backward\(\) did not call backpropagate/);
  });
});
