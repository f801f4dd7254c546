// Parsing one line of CSV or LibSVM into a record. Pure; errors are MalformedRecordError with the
// line's file, offset and (when known) line number.
import { MalformedRecordError } from './errors';
import type { RawLine } from './lines';

export interface DataRecord {
  /** Absolute byte offset of the record in its (primary) file. */
  readonly offset: number;
  /** 1-based line, for text formats when known. */
  readonly line?: number;
  readonly features: Float32Array;
  /** Class index (classification) or target value (regression). */
  readonly label: number;
}

export interface CsvOptions {
  /** One character; default ','. Fields are plain numbers: quoting is not supported. */
  readonly delimiter: string;
  /** Column of the label; negative counts from the end (-1 = last). */
  readonly labelColumn: number;
  /** The file's first line is a header (skipped by the range that owns byte 0). */
  readonly header: boolean;
  /** Feature count; when absent, taken from the first record of the range, and others must match. */
  readonly features?: number;
}

export interface LibsvmOptions {
  /** Declared feature count: indices run over [indexBase, indexBase + features). */
  readonly features: number;
  /** 1 for standard LibSVM files, 0 for zero-based indices. */
  readonly indexBase: 0 | 1;
}

/**
 * One CSV line as a record. `labelled` false: every field is a feature (data to predict on) and
 * the label is NaN.
 */
export function parseCsvLine(file: string, raw: RawLine, opts: CsvOptions, expectedFeatures: number | undefined, scale: number, labelled = true): DataRecord {
  const bad = (why: string) => new MalformedRecordError(file, raw.offset, why, raw.line);
  const fields = raw.text.split(opts.delimiter);
  const labelIndex = !labelled ? -1 : opts.labelColumn < 0 ? fields.length + opts.labelColumn : opts.labelColumn;
  if (labelled && (labelIndex < 0 || labelIndex >= fields.length)) throw bad(`label column ${opts.labelColumn} does not exist in a line of ${fields.length} fields`);
  const labelFields = labelled ? 1 : 0;
  if (expectedFeatures !== undefined && fields.length - labelFields !== expectedFeatures) {
    throw bad(`expected ${expectedFeatures + labelFields} fields (${expectedFeatures} features${labelled ? ' and a label' : ', no label'}), found ${fields.length}`);
  }
  const features = new Float32Array(fields.length - labelFields);
  let label = NaN;
  let j = 0;
  for (let i = 0; i < fields.length; i++) {
    const v = parseNumber(fields[i]!);
    if (v === undefined) throw bad(`field ${i + 1} is not a number: ${JSON.stringify(fields[i]!.slice(0, 40))}`);
    if (i === labelIndex) label = v;
    else features[j++] = v * scale;
  }
  return { offset: raw.offset, line: raw.line, features, label };
}

/**
 * One LibSVM line as a record. `labelled` false (data to predict on): the label may be left out
 * (the first token is then an index:value pair) and the record's label is NaN.
 */
export function parseLibsvmLine(file: string, raw: RawLine, opts: LibsvmOptions, scale: number, labelled = true): DataRecord {
  const bad = (why: string) => new MalformedRecordError(file, raw.offset, why, raw.line);
  const hash = raw.text.indexOf('#');
  const tokens = (hash >= 0 ? raw.text.slice(0, hash) : raw.text).trim().split(/[ \t]+/);
  const hasLabel = labelled || !tokens[0]!.includes(':');
  const label = hasLabel ? parseNumber(tokens[0]!) : NaN;
  if (label === undefined) throw bad(`label is not a number: ${JSON.stringify(tokens[0]!.slice(0, 40))}`);
  const features = new Float32Array(opts.features);
  const seen = new Set<number>();
  for (let t = hasLabel ? 1 : 0; t < tokens.length; t++) {
    const tok = tokens[t]!;
    const colon = tok.indexOf(':');
    const idx = colon > 0 ? Number(tok.slice(0, colon)) : NaN;
    const value = colon > 0 ? parseNumber(tok.slice(colon + 1)) : undefined;
    if (!Number.isInteger(idx) || value === undefined) throw bad(`token ${t + 1} is not index:value: ${JSON.stringify(tok.slice(0, 40))}`);
    const k = idx - opts.indexBase;
    if (k < 0 || k >= opts.features) throw bad(`feature index ${idx} outside [${opts.indexBase}, ${opts.features + opts.indexBase - 1}] (features: ${opts.features})`);
    if (seen.has(k)) throw bad(`feature index ${idx} appears twice`);
    seen.add(k);
    features[k] = value * scale;
  }
  return { offset: raw.offset, line: raw.line, features, label: labelled ? label : NaN };
}

/** A finite decimal number; '' and whitespace-only are not numbers (Number('') would be 0). */
function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}
