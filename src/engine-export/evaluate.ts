// Scores a classifier over labelled batches. The classifier is anything that maps a batch of
// feature rows to output rows (horn's engine, or an ONNX session in tests), so the scoring has no
// dependency on how models or data are stored.
import { classCount, classOf } from '../engine/model';
import { type ConfusionMatrix, ConfusionCounter } from './confusion-matrix';

export interface BatchClassifier {
  readonly inputSize: number;
  readonly outputSize: number;
  /** rows×outputSize outputs for rows×inputSize features (row-major). */
  predict(features: Float32Array, rows: number): Float32Array | Promise<Float32Array>;
}

export interface LabelledBatch {
  /** rows×inputSize, row-major. */
  features: Float32Array;
  /** One class index per row. */
  labels: ArrayLike<number>;
  rows: number;
}

export { classCount };

/** Class of every row, by the engine's rule: argmax over the outputs, or output ≥ 0.5 for a single (sigmoid) output. */
export function predictedClasses(outputs: Float32Array, rows: number, outputSize: number): Int32Array {
  if (outputs.length < rows * outputSize) throw new RangeError(`predictedClasses: ${outputs.length} values cannot hold ${rows}×${outputSize}`);
  return Int32Array.from({ length: rows }, (_, r) => classOf(outputs, r, outputSize));
}

/** A batch whose shape does not fit the classifier; names the batch and the mismatching field. */
export class EvaluationBatchError extends Error {
  constructor(readonly batchIndex: number, readonly field: string, readonly expected: number, readonly actual: number) {
    super(`batch ${batchIndex}: ${field} is ${actual}, expected ${expected}`);
    this.name = 'EvaluationBatchError';
  }
}

export async function evaluateClassifier(classifier: BatchClassifier, batches: AsyncIterable<LabelledBatch> | Iterable<LabelledBatch>): Promise<ConfusionMatrix> {
  const counter = new ConfusionCounter(classCount(classifier.outputSize));
  let batchIndex = 0;
  for await (const batch of batches) {
    if (batch.features.length !== batch.rows * classifier.inputSize) {
      throw new EvaluationBatchError(batchIndex, 'features.length', batch.rows * classifier.inputSize, batch.features.length);
    }
    if (batch.labels.length !== batch.rows) throw new EvaluationBatchError(batchIndex, 'labels.length', batch.rows, batch.labels.length);
    const outputs = await classifier.predict(batch.features, batch.rows);
    const classes = predictedClasses(outputs, batch.rows, classifier.outputSize);
    for (let r = 0; r < batch.rows; r++) counter.add(batch.labels[r], classes[r]);
    batchIndex++;
  }
  return counter.matrix();
}
