// Classification scores for `horn eval`: the confusion matrix, accuracy, per-class recall and
// precision, and a plain-text rendering. Pure functions over label arrays; no I/O.

import { HornError } from '../common/errors';

export interface ConfusionMatrix {
  readonly classes: number;
  /** counts[actual * classes + predicted]: rows are true labels, columns predictions. */
  readonly counts: Uint32Array;
  readonly total: number;
  readonly correct: number;
}

/** A label outside [0, classes) or label arrays of different lengths; names the sample and value. */
export class EvaluationLabelError extends HornError {
  constructor(readonly field: 'actual' | 'predicted' | 'length', readonly index: number, readonly value: number, reason: string) {
    super(field === 'length' ? reason : `${field} label of sample ${index} = ${value}: ${reason}`, 'input');
  }
}

function checkLabel(field: 'actual' | 'predicted', index: number, value: number, classes: number): void {
  if (!(Number.isInteger(value) && value >= 0 && value < classes)) {
    throw new EvaluationLabelError(field, index, value, `must be an integer class in [0, ${classes})`);
  }
}

/** Counts (actual, predicted) pairs one at a time, so a data set of any size is scored in constant memory. */
export class ConfusionCounter {
  private readonly counts: Uint32Array;
  private total = 0;
  private correct = 0;

  constructor(readonly classes: number) {
    if (!(Number.isInteger(classes) && classes > 0)) throw new RangeError(`classes = ${classes}: must be a positive integer`);
    this.counts = new Uint32Array(classes * classes);
  }

  add(actual: number, predicted: number): void {
    checkLabel('actual', this.total, actual, this.classes);
    checkLabel('predicted', this.total, predicted, this.classes);
    this.counts[actual * this.classes + predicted]++;
    if (actual === predicted) this.correct++;
    this.total++;
  }

  matrix(): ConfusionMatrix {
    return { classes: this.classes, counts: this.counts.slice(), total: this.total, correct: this.correct };
  }
}

export function confusionMatrix(actual: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): ConfusionMatrix {
  const counter = new ConfusionCounter(classes);
  if (actual.length !== predicted.length) {
    throw new EvaluationLabelError('length', actual.length, predicted.length, `${actual.length} true labels but ${predicted.length} predictions`);
  }
  for (let i = 0; i < actual.length; i++) counter.add(actual[i], predicted[i]);
  return counter.matrix();
}

/** Fraction of samples predicted correctly; NaN for an empty evaluation (there is no accuracy to report). */
export function accuracy(m: ConfusionMatrix): number {
  return m.total === 0 ? NaN : m.correct / m.total;
}

/** Per true class: correct / samples of that class (NaN when the class never occurs). */
export function recallPerClass(m: ConfusionMatrix): number[] {
  return Array.from({ length: m.classes }, (_, c) => {
    let row = 0;
    for (let p = 0; p < m.classes; p++) row += m.counts[c * m.classes + p];
    return row === 0 ? NaN : m.counts[c * m.classes + c] / row;
  });
}

/** Per predicted class: correct / predictions of that class (NaN when never predicted). */
export function precisionPerClass(m: ConfusionMatrix): number[] {
  return Array.from({ length: m.classes }, (_, c) => {
    let column = 0;
    for (let a = 0; a < m.classes; a++) column += m.counts[a * m.classes + c];
    return column === 0 ? NaN : m.counts[c * m.classes + c] / column;
  });
}

/** Index of the largest value of each row of a rows×cols matrix (first index on ties). */
export function argmaxRows(values: ArrayLike<number>, rows: number, cols: number): Int32Array {
  if (values.length < rows * cols) throw new RangeError(`argmaxRows: ${values.length} values cannot hold ${rows}×${cols}`);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = values[r * cols];
    for (let c = 1; c < cols; c++) {
      const v = values[r * cols + c];
      if (v > bestValue) {
        best = c;
        bestValue = v;
      }
    }
    out[r] = best;
  }
  return out;
}

function percent(x: number): string {
  return Number.isNaN(x) ? '-' : `${(x * 100).toFixed(1)}%`;
}

/**
 * The matrix as aligned text: one row per true class with its recall, a precision row under the
 * columns, and a first line with the accuracy. `labels` names the classes (default 0..n-1).
 */
export function renderConfusionMatrix(m: ConfusionMatrix, labels?: readonly string[]): string {
  const names = labels ?? Array.from({ length: m.classes }, (_, c) => String(c));
  if (names.length !== m.classes) throw new RangeError(`renderConfusionMatrix: ${names.length} labels for ${m.classes} classes`);
  const recall = recallPerClass(m);
  const precision = precisionPerClass(m);
  const corner = 'true\\pred';
  const table: string[][] = [[corner, ...names, 'recall']];
  for (let a = 0; a < m.classes; a++) {
    const row = [names[a]];
    for (let p = 0; p < m.classes; p++) row.push(String(m.counts[a * m.classes + p]));
    row.push(percent(recall[a]));
    table.push(row);
  }
  table.push(['precision', ...precision.map(percent), '']);
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const lines = table.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
  const header = `accuracy ${percent(accuracy(m))} (${m.correct}/${m.total})`;
  return [header, ...lines].join('\n') + '\n';
}

/** JSON-friendly form for `horn eval --json`. */
export function confusionMatrixSummary(m: ConfusionMatrix): { samples: number; correct: number; accuracy: number | null; confusionMatrix: number[][]; recall: Array<number | null>; precision: Array<number | null> } {
  const nullable = (x: number): number | null => (Number.isNaN(x) ? null : x);
  return {
    samples: m.total,
    correct: m.correct,
    accuracy: nullable(accuracy(m)),
    confusionMatrix: Array.from({ length: m.classes }, (_, a) => Array.from(m.counts.subarray(a * m.classes, (a + 1) * m.classes))),
    recall: recallPerClass(m).map(nullable),
    precision: precisionPerClass(m).map(nullable),
  };
}
