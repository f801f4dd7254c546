import { accuracy } from '../../../src/engine-export/confusion-matrix';
import { classCount, evaluateClassifier, EvaluationBatchError, predictedClasses, type BatchClassifier } from '../../../src/engine-export/evaluate';

// Predicts class = index of the largest feature, so the expected scores are easy to reason about.
const identityClassifier: BatchClassifier = { inputSize: 3, outputSize: 3, predict: (features) => features };

describe('evaluateClassifier', () => {
  test('accumulates a confusion matrix over several batches (sync and async sources)', async () => {
    const batches = [
      { features: Float32Array.of(1, 0, 0, 0, 1, 0), labels: [0, 2], rows: 2 },
      { features: Float32Array.of(0, 0, 1), labels: Int32Array.of(2), rows: 1 },
    ];
    const m = await evaluateClassifier(identityClassifier, batches);
    expect(Array.from(m.counts)).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(accuracy(m)).toBeCloseTo(2 / 3, 12);
    async function* stream() {
      yield* batches;
    }
    const viaStream = await evaluateClassifier({ ...identityClassifier, predict: async (f) => f }, stream());
    expect(Array.from(viaStream.counts)).toEqual(Array.from(m.counts));
  });

  test('a single sigmoid output is a two-class problem thresholded at 0.5', async () => {
    expect(classCount(1)).toBe(2);
    expect(Array.from(predictedClasses(Float32Array.of(0.2, 0.5, 0.9), 3, 1))).toEqual([0, 1, 1]);
    const binary: BatchClassifier = { inputSize: 1, outputSize: 1, predict: (f) => f };
    const m = await evaluateClassifier(binary, [{ features: Float32Array.of(0.1, 0.8, 0.6), labels: [0, 1, 0], rows: 3 }]);
    expect(m.classes).toBe(2);
    expect(m.correct).toBe(2);
  });

  test('batches that do not fit the model are typed errors naming the batch', async () => {
    await expect(evaluateClassifier(identityClassifier, [{ features: new Float32Array(4), labels: [0, 0], rows: 2 }])).rejects.toThrow(
      new EvaluationBatchError(0, 'features.length', 6, 4),
    );
    await expect(evaluateClassifier(identityClassifier, [{ features: new Float32Array(3), labels: [0], rows: 1 }, { features: new Float32Array(3), labels: [0, 1], rows: 1 }])).rejects.toThrow(
      /batch 1: labels.length is 2, expected 1/,
    );
  });

  test('labels outside the model classes are reported', async () => {
    await expect(evaluateClassifier(identityClassifier, [{ features: new Float32Array(3), labels: [7], rows: 1 }])).rejects.toThrow(/actual label of sample 0 = 7/);
  });
});
