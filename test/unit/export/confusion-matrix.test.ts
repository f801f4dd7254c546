import {
  accuracy,
  argmaxRows,
  confusionMatrix,
  confusionMatrixSummary,
  EvaluationLabelError,
  precisionPerClass,
  recallPerClass,
  renderConfusionMatrix,
} from '../../../src/engine-export/confusion-matrix';

describe('confusion matrix', () => {
  const actual = [0, 0, 1, 1, 1, 2, 2, 2, 2];
  const predicted = [0, 1, 1, 1, 0, 2, 2, 2, 1];

  test('counts true labels by row and predictions by column', () => {
    const m = confusionMatrix(actual, predicted, 3);
    expect(Array.from(m.counts)).toEqual([1, 1, 0, 1, 2, 0, 0, 1, 3]);
    expect(m.total).toBe(9);
    expect(m.correct).toBe(6);
    expect(accuracy(m)).toBeCloseTo(6 / 9, 12);
  });

  test('recall and precision per class; NaN for a class that never occurs', () => {
    const m = confusionMatrix(actual, predicted, 4);
    expect(recallPerClass(m).slice(0, 3)).toEqual([1 / 2, 2 / 3, 3 / 4]);
    expect(precisionPerClass(m).slice(0, 3)).toEqual([1 / 2, 2 / 4, 3 / 3]);
    expect(recallPerClass(m)[3]).toBeNaN();
    expect(precisionPerClass(m)[3]).toBeNaN();
  });

  test('empty evaluation has NaN accuracy, null in JSON', () => {
    const m = confusionMatrix([], [], 2);
    expect(accuracy(m)).toBeNaN();
    expect(confusionMatrixSummary(m).accuracy).toBeNull();
  });

  test('labels out of range and length mismatches are typed errors naming the sample', () => {
    expect(() => confusionMatrix([0, 3], [0, 0], 3)).toThrow(new EvaluationLabelError('actual', 1, 3, 'must be an integer class in [0, 3)'));
    expect(() => confusionMatrix([0, 1], [0, -1], 3)).toThrow(/predicted label of sample 1 = -1/);
    expect(() => confusionMatrix([0, 1.5], [0, 1], 3)).toThrow(/actual label of sample 1 = 1.5/);
    expect(() => confusionMatrix([0, 1], [0], 3)).toThrow(/2 true labels but 1 predictions/);
    expect(() => confusionMatrix([], [], 0)).toThrow(RangeError);
  });

  test('renders an aligned table with recall and precision', () => {
    const text = renderConfusionMatrix(confusionMatrix(actual, predicted, 3));
    expect(text).toBe(
      [
        'accuracy 66.7% (6/9)',
        'true\\pred      0      1       2  recall',
        '0              1      1       0   50.0%',
        '1              1      2       0   66.7%',
        '2              0      1       3   75.0%',
        'precision  50.0%  50.0%  100.0%',
        '',
      ].join('\n'),
    );
  });

  test('renders class names and refuses a wrong number of them', () => {
    const m = confusionMatrix([0, 1], [1, 1], 2);
    const text = renderConfusionMatrix(m, ['cat', 'dog']);
    expect(text.split('\n').slice(1, 5)).toEqual([
      'true\\pred  cat    dog  recall',
      'cat          0      1    0.0%',
      'dog          0      1  100.0%',
      'precision    -  50.0%',
    ]);
    expect(() => renderConfusionMatrix(m, ['only'])).toThrow(RangeError);
  });

  test('summary has the matrix as nested rows', () => {
    expect(confusionMatrixSummary(confusionMatrix([0, 1, 1], [0, 0, 1], 2))).toEqual({
      samples: 3,
      correct: 2,
      accuracy: 2 / 3,
      confusionMatrix: [[1, 0], [1, 1]],
      recall: [1, 0.5],
      precision: [0.5, 1],
    });
  });
});

describe('argmaxRows', () => {
  test('picks the largest column of each row, the first one on ties', () => {
    expect(Array.from(argmaxRows([0.1, 0.7, 0.2, 5, 5, 1, -3, -2, -1], 3, 3))).toEqual([1, 0, 2]);
  });
  test('refuses a buffer too small for the shape', () => {
    expect(() => argmaxRows([1, 2, 3], 2, 2)).toThrow(RangeError);
  });
});
