// Optimizers, schedules, the Trainer, determinism, parameter access and evaluation.
import { describeDenseLayers } from '../../../src/engine/describe';
import { BatchShapeError, ModelSpecError } from '../../../src/engine/errors';
import { Model, type Batch } from '../../../src/engine/model';
import { scheduledLearningRate } from '../../../src/engine/optimizer';
import { Rng } from '../../../src/engine/rng';
import type { ModelSpec, OptimizerSpec } from '../../../src/engine/spec';
import { Trainer, type TrainingProgress } from '../../../src/engine/trainer';
import { kernels, toyClassification } from './helpers';

const data = toyClassification(400, 8, 4, 11);
const all: Batch = { x: data.x, y: data.y, count: 400 };

function spec(optimizer: OptimizerSpec, extra: Partial<ModelSpec> = {}): ModelSpec {
  return { inputSize: 8, layers: [{ size: 16, activation: 'relu' }, { size: 4, activation: 'softmax' }], cost: 'crossEntropy', seed: 4, optimizer, ...extra };
}

describe('rng', () => {
  test('same seed, same stream; different streams differ; shuffle is a permutation', () => {
    const a = new Rng(123, 2);
    const b = new Rng(123, 2);
    const c = new Rng(123, 3);
    const seqA = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(seqA);
    const p = Int32Array.from({ length: 100 }, (_, i) => i);
    a.shuffle(p);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    let mean = 0;
    let sq = 0;
    for (let i = 0; i < 20000; i++) {
      const v = a.normal();
      mean += v / 20000;
      sq += (v * v) / 20000;
    }
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sq - 1)).toBeLessThan(0.05);
  });
});

describe('dropout masks', () => {
  test('keep the requested fraction, scaled by 1/keep, reproducibly; odd lengths fill every element; y = x · mask', () => {
    const n = 100001;
    const x = kernels.alloc(n);
    x.forEach((_, i) => (x[i] = (i % 7) - 3));
    const y = kernels.alloc(n);
    const mask = kernels.alloc(n).fill(-1);
    kernels.dropout(x, y, mask, n, 0.8, 12345, 678);
    const kept = mask.filter((v) => v === 1.25).length;
    expect(mask.every((v) => v === 0 || v === 1.25)).toBe(true);
    expect(Math.abs(kept / n - 0.8)).toBeLessThan(0.005);
    expect(y.every((v, i) => v === Math.fround(x[i]! * mask[i]!))).toBe(true);
    const again = kernels.alloc(n);
    kernels.dropout(x, x, again, n, 0.8, 12345, 678);
    expect(again).toEqual(mask);
    expect(x).toEqual(y);
    // Another key: another mask, about as far from the first as independent draws are (2 · 0.8 · 0.2 of the elements differ).
    const other = kernels.alloc(n);
    kernels.dropout(y, kernels.alloc(n), other, n, 0.8, 12346, 678);
    const differ = other.filter((v, i) => v !== mask[i]).length / n;
    expect(Math.abs(differ - 0.32)).toBeLessThan(0.01);
  });
});

describe('initialisation', () => {
  test('He for ReLU layers, Xavier otherwise, zero biases', () => {
    const m = new Model({ inputSize: 400, layers: [{ size: 300, activation: 'relu' }, { size: 100, activation: 'tanh' }], cost: 'squaredError' }, kernels);
    const std = (a: Float32Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(std(m.layerParameters(0).weights)).toBeCloseTo(Math.sqrt(2 / 400), 3);
    expect(std(m.layerParameters(1).weights)).toBeCloseTo(Math.sqrt(6 / 400) / Math.sqrt(3), 3);
    expect(m.layerParameters(0).bias.every((v) => v === 0)).toBe(true);
  });
});

describe('schedules', () => {
  test('step and cosine', () => {
    expect(scheduledLearningRate(0.1, { kind: 'step', every: 2, factor: 0.5 }, 0)).toBeCloseTo(0.1);
    expect(scheduledLearningRate(0.1, { kind: 'step', every: 2, factor: 0.5 }, 3)).toBeCloseTo(0.05);
    expect(scheduledLearningRate(0.1, { kind: 'step', every: 2, factor: 0.5 }, 4)).toBeCloseTo(0.025);
    expect(scheduledLearningRate(0.1, { kind: 'cosine', epochs: 10, minLearningRate: 0.01 }, 0)).toBeCloseTo(0.1);
    expect(scheduledLearningRate(0.1, { kind: 'cosine', epochs: 10, minLearningRate: 0.01 }, 5)).toBeCloseTo(0.055);
    expect(scheduledLearningRate(0.1, { kind: 'cosine', epochs: 10, minLearningRate: 0.01 }, 12)).toBeCloseTo(0.01);
    expect(scheduledLearningRate(0.1, undefined, 7)).toBe(0.1);
  });
});

describe('optimizers learn a toy problem', () => {
  const optimizers: OptimizerSpec[] = [
    { kind: 'sgd', learningRate: 0.5 },
    { kind: 'momentum', learningRate: 0.1, momentum: 0.9 },
    { kind: 'nesterov', learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4 },
    { kind: 'adam', learningRate: 0.01, schedule: { kind: 'cosine', epochs: 15 } },
  ];
  for (const o of optimizers) {
    test(o.kind, async () => {
      const m = new Model(spec(o), kernels);
      const before = m.evaluateBatch(all);
      const summary = await new Trainer(m, { epochs: 15, batchSize: 32 }).train(all);
      const after = m.evaluateBatch(all);
      expect(after.loss).toBeLessThan(before.loss * 0.5);
      expect(after.accuracy).toBeGreaterThan(0.9);
      expect(summary.history).toHaveLength(15);
    });
  }

  test('weight decay shrinks weights but not biases', () => {
    const m = new Model(spec({ kind: 'sgd', learningRate: 0.1, weightDecay: 0.5 }), kernels);
    m.gradients().fill(0);
    m.layerParameters(0).bias.fill(1);
    const w0 = m.layerParameters(0).weights[0];
    m.applyGradients();
    expect(m.layerParameters(0).weights[0]).toBeCloseTo(w0 * (1 - 0.05), 6);
    expect(m.layerParameters(0).bias[0]).toBe(1);
  });
});

describe('optimizer state', () => {
  test('is empty before the first step; imported into a stepped optimizer it replaces moments, step count and epoch', () => {
    const m = new Model(spec({ kind: 'adam', learningRate: 0.01 }), kernels);
    const fresh = m.optimizer.exportState();
    expect(fresh).toEqual({ kind: 'adam', stepCount: 0, epoch: 0, segmentLengths: [], moments: [] });
    m.trainStep(data.x, data.y, 50);
    m.optimizer.epoch = 3;
    const once = m.optimizer.exportState();
    expect(once.stepCount).toBe(1);
    expect(once.segmentLengths).toEqual([8 * 16, 16, 16 * 4, 4]);
    expect(once.moments.map((b) => b.length)).toEqual([212, 212]);
    expect(once.moments[0]!.some((v) => v !== 0)).toBe(true);
    m.trainStep(data.x, data.y, 50);
    m.optimizer.importState(fresh, m.segments());
    expect(m.optimizer.exportState()).toEqual({ ...fresh, segmentLengths: once.segmentLengths, moments: [new Float32Array(212), new Float32Array(212)] });
    m.optimizer.importState(once, m.segments());
    expect(m.optimizer.exportState()).toEqual(once);
    // The export is a copy: stepping on does not change it.
    const copy = once.moments[0]!.slice();
    m.trainStep(data.x, data.y, 50);
    expect(once.moments[0]).toEqual(copy);
  });
});

describe('trainer', () => {
  test('is reproducible bit for bit with dropout and shuffling', async () => {
    const run = async (): Promise<Float32Array> => {
      const m = new Model(spec({ kind: 'momentum', learningRate: 0.05 }, { inputDropout: 0.1, layers: [{ size: 16, activation: 'relu', dropout: 0.5 }, { size: 4, activation: 'softmax' }] }), kernels);
      await new Trainer(m, { epochs: 3, batchSize: 25, seed: 8 }).train(all);
      return m.parameters().slice();
    };
    const a = await run();
    const b = await run();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  test('streams are re-batched and every sample is seen exactly once per epoch', async () => {
    const m = new Model(spec({ kind: 'sgd', learningRate: 0.1 }), kernels);
    // Feature 0 carries the sample's id so that coverage can be checked.
    const x = new Float32Array(103 * 8);
    for (let i = 0; i < 103; i++) x[i * 8] = i;
    const source = function* (): Generator<Batch> {
      for (let start = 0; start < 103; start += 17) {
        const n = Math.min(17, 103 - start);
        yield { x: x.subarray(start * 8, (start + n) * 8), y: new Float32Array(n * 4), count: n };
      }
    };
    const trainer = new Trainer(m, { epochs: 1, batchSize: 10, shuffleBuffer: 40, seed: 1 });
    for (let epoch = 0; epoch < 2; epoch++) {
      const seen: number[] = [];
      const sizes: number[] = [];
      for await (const b of trainer.batches(source)) {
        sizes.push(b.count);
        for (let i = 0; i < b.count; i++) seen.push(b.from.x[b.rows[i] * 8]);
      }
      expect([...seen].sort((p, q) => p - q)).toEqual(Array.from({ length: 103 }, (_, i) => i));
      expect(seen).not.toEqual(Array.from({ length: 103 }, (_, i) => i));
      expect(sizes.slice(0, -1).every((s) => s === 10)).toBe(true);
    }
  });

  test('reports progress with loss, accuracy and samples/s; validates after each epoch', async () => {
    const m = new Model(spec({ kind: 'adam', learningRate: 0.01 }), kernels);
    const reports: TrainingProgress[] = [];
    let clock = 0;
    const summary = await new Trainer(m, {
      epochs: 2, batchSize: 50, progressEvery: 3, onProgress: (p) => reports.push(p), validation: all,
      now: () => (clock += 10),
    }).train(async function* () { yield all; });
    expect(reports.map((r) => [r.epoch, r.step])).toEqual([[1, 3], [1, 6], [1, 8], [2, 3], [2, 6], [2, 8]]);
    expect(reports[2].samples).toBe(400);
    expect(reports[2].samplesPerSecond).toBeGreaterThan(0);
    expect(reports[2].accuracy).toBeGreaterThan(0);
    expect(summary.samples).toBe(800);
    expect(summary.validation?.count).toBe(400);
    expect(summary.history[1].validation?.accuracy).toBe(summary.validation?.accuracy);
  });

  test('invalid trainer options name the field', () => {
    const m = new Model(spec({ kind: 'sgd', learningRate: 0.1 }), kernels);
    expect(() => new Trainer(m, { epochs: 0, batchSize: 10 })).toThrow(/trainer\.epochs = 0/);
    expect(() => new Trainer(m, { epochs: 1, batchSize: 2.5 })).toThrow(ModelSpecError);
  });

  test('a custom step function (a distributed worker) replaces the local update', async () => {
    const m = new Model(spec({ kind: 'sgd', learningRate: 0.1 }), kernels);
    const before = m.parameters().slice();
    let calls = 0;
    await new Trainer(m, {
      epochs: 1, batchSize: 100,
      step: (model, batch) => {
        calls++;
        return model.computeGradients(batch.from.x, batch.from.y, batch.count, batch.rows); // gradients "sent", nothing applied
      },
    }).train(all);
    expect(calls).toBe(4);
    expect(m.parameters()).toEqual(before);
  });
});

describe('model API', () => {
  test('computeGradients with an order gives the bits of the same rows copied out first; a row outside x or y is refused', () => {
    const order = Int32Array.from([399, 3, 250, 3, 0, 117, 42]);
    const x = new Float32Array(order.length * 8);
    const y = new Float32Array(order.length * 4);
    order.forEach((r, i) => {
      x.set(data.x.subarray(r * 8, (r + 1) * 8), i * 8);
      y.set(data.y.subarray(r * 4, (r + 1) * 4), i * 4);
    });
    const gathered = new Model(spec({ kind: 'momentum', learningRate: 0.1 }), kernels);
    const copied = new Model(spec({ kind: 'momentum', learningRate: 0.1 }), kernels);
    const a = gathered.computeGradients(data.x, data.y, undefined, order);
    const b = copied.computeGradients(x, y, order.length);
    expect(a).toEqual(b);
    expect(a.count).toBe(order.length);
    expect(gathered.gradients()).toEqual(copied.gradients());
    // The first three rows only.
    expect(gathered.computeGradients(data.x, data.y, 3, order)).toEqual(copied.computeGradients(x, y, 3));
    expect(() => gathered.computeGradients(data.x, data.y, 2, Int32Array.from([0, 400]))).toThrow(/order\[1\] = 400 is not a row of src \(it has 400\)/);
    expect(() => gathered.computeGradients(data.x, data.y.subarray(0, 4 * 100), 2, Int32Array.from([0, 150]))).toThrow(/order\[1\] = 150 is not a row of src \(it has 100\)/);
  });

  test('gradients, setGradients and applyGradients split a step like a worker and a server', () => {
    const a = new Model(spec({ kind: 'momentum', learningRate: 0.1 }), kernels);
    const b = new Model(spec({ kind: 'momentum', learningRate: 0.1 }), kernels);
    a.trainStep(data.x, data.y, 400);
    const { loss } = b.computeGradients(data.x, data.y, 400);
    expect(loss).toBeGreaterThan(0);
    const shipped = b.gradients().slice();
    b.gradients().fill(0);
    b.setGradients(shipped);
    b.applyGradients();
    expect(b.parameters()).toEqual(a.parameters());
    const c = new Model(spec({ kind: 'sgd', learningRate: 1 }), kernels);
    c.setParameters(a.parameters());
    expect(c.predict(data.x, 400)).toEqual(a.predict(data.x, 400));
    expect(() => c.setParameters(new Float32Array(3))).toThrow(BatchShapeError);
    const layer1 = c.layerParameters(1);
    expect(layer1.offset).toBe(8 * 16 + 16);
    expect(layer1.flat).toHaveLength(16 * 4 + 4);
    layer1.flat[layer1.flat.length - 1] = 42; // the last bias of the last layer
    expect(c.parameters()[c.parameterCount - 1]).toBe(42);
    expect(layer1.bias[3]).toBe(42);
    expect(layer1.flatGradients.buffer).toBe(c.gradients().buffer);
  });

  test('evaluate gives accuracy, loss and a confusion matrix', async () => {
    const m = new Model(spec({ kind: 'adam', learningRate: 0.02 }), kernels);
    await new Trainer(m, { epochs: 10, batchSize: 40 }).train(all);
    const e = await m.evaluate([{ x: data.x.subarray(0, 200 * 8), y: data.y.subarray(0, 200 * 4), count: 200 }, { x: data.x.subarray(200 * 8), y: data.y.subarray(200 * 4), count: 200 }]);
    expect(e.count).toBe(400);
    expect(e.confusion.flat().reduce((s, v) => s + v, 0)).toBe(400);
    const diagonal = e.confusion.reduce((s, row, i) => s + row[i], 0);
    expect(e.accuracy).toBeCloseTo(diagonal / 400, 10);
    expect(e.accuracy).toBeGreaterThan(0.9);
    const classes = m.classify(data.x, 400);
    expect(classes.filter((c, i) => c === data.labels[i]).length).toBe(diagonal);
  });

  test('describeDenseLayers gives row-major inputSize×outputSize weights that reproduce predict', () => {
    const m = new Model({ inputSize: 3, layers: [{ size: 4, activation: 'leakyRelu', alpha: 0.2 }, { size: 2, activation: 'softmax' }], cost: 'crossEntropy', seed: 2 }, kernels);
    m.layerParameters(0).bias.set([0.1, -0.2, 0.3, 0]);
    const layers = describeDenseLayers(m);
    expect(layers.map((l) => [l.inputSize, l.outputSize, l.activation, l.alpha])).toEqual([[3, 4, 'leakyRelu', 0.2], [4, 2, 'softmax', undefined]]);
    const x = [0.5, -1, 2];
    let v = x;
    for (const l of layers) {
      const z = Array.from({ length: l.outputSize }, (_, j) => v.reduce((s, xi, i) => s + xi * l.weights[i * l.outputSize + j], l.bias[j]));
      if (l.activation === 'softmax') {
        const e = z.map((q) => Math.exp(q - Math.max(...z)));
        v = e.map((q) => q / e.reduce((s, w) => s + w, 0));
      } else v = z.map((q) => (q > 0 ? q : (l.alpha ?? 0) * q));
    }
    const out = m.predict(Float32Array.from(x), 1);
    expect(out[0]).toBeCloseTo(v[0], 5);
    expect(out[1]).toBeCloseTo(v[1], 5);
  });

  test('invalid specs name the field', () => {
    expect(() => new Model({ inputSize: 3, layers: [{ size: 2, activation: 'relu' }], cost: 'crossEntropy' }, kernels)).toThrow(/layers\[0\]\.activation = "relu": crossEntropy needs a 'softmax'/);
    expect(() => new Model({ inputSize: 3, layers: [{ size: 2, activation: 'relu', dropout: 1.5 }, { size: 2, activation: 'softmax' }], cost: 'crossEntropy' }, kernels)).toThrow(ModelSpecError);
    expect(() => new Model({ inputSize: 0, layers: [], cost: 'crossEntropy' }, kernels)).toThrow(/inputSize = 0/);
    expect(() => new Model(spec({ kind: 'adam', learningRate: -1 }), kernels)).toThrow(/optimizer\.learningRate = -1/);
    const m = new Model(spec({ kind: 'sgd', learningRate: 0.1 }), kernels);
    expect(() => m.predict(new Float32Array(12), 2)).toThrow(/batch x: expected 16 values, got 12/);
  });
});
