// `horn predict`: one line of text per record, from a model's outputs. A classifier (trained with
// cross-entropy) gives the class and the probability of each class; a regression model gives its
// output values. Pure formatting over batches; where the lines go is the caller's business.
import type { Cost } from '../engine';
import { classOf } from '../engine/model';
import type { BatchClassifier } from './evaluate';

export type PredictionKind = 'class' | 'values';
export type PredictionFormat = 'csv' | 'json';

/** Cross-entropy means classification over the output units (as in training); otherwise regression. */
export function predictionKindOf(cost: Cost): PredictionKind {
  return cost === 'crossEntropy' ? 'class' : 'values';
}

/** Six significant digits: what a float32 output means, without its binary noise. */
function formatValue(v: number): number {
  return Number(v.toPrecision(6));
}

/**
 * The lines for `rows` outputs (rows×outputSize), each ending in a newline.
 *   csv, class:  class,p0,p1,…   (a single sigmoid output gives p(0),p(1))
 *   csv, values: v0,v1,…
 *   json:        {"class":c,"probabilities":[…]}  or  {"output":[…]}
 */
export function formatPredictions(outputs: Float32Array, rows: number, outputSize: number, kind: PredictionKind, format: PredictionFormat): string {
  let text = '';
  for (let r = 0; r < rows; r++) {
    const row = outputs.subarray(r * outputSize, (r + 1) * outputSize);
    if (kind === 'class') {
      const probabilities = outputSize === 1 ? [1 - row[0], row[0]] : Array.from(row);
      const cls = classOf(outputs, r, outputSize);
      const values = probabilities.map(formatValue);
      text += format === 'json' ? `${JSON.stringify({ class: cls, probabilities: values })}\n` : `${cls},${values.join(',')}\n`;
    } else {
      const values = Array.from(row, formatValue);
      text += format === 'json' ? `${JSON.stringify({ output: values })}\n` : `${values.join(',')}\n`;
    }
  }
  return text;
}

export interface PredictionCount {
  records: number;
}

/** The text of every batch's predictions, one chunk per batch; `count.records` grows as they go. */
export async function* predictionText(
  model: BatchClassifier,
  batches: AsyncIterable<{ readonly features: Float32Array; readonly rows: number }>,
  kind: PredictionKind,
  format: PredictionFormat,
  count: PredictionCount = { records: 0 },
): AsyncGenerator<string> {
  for await (const batch of batches) {
    const outputs = await model.predict(batch.features, batch.rows);
    count.records += batch.rows;
    yield formatPredictions(outputs, batch.rows, model.outputSize, kind, format);
  }
}
