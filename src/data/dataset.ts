// Reading a data set (or one byte range of it) as records or as training batches, in any of the
// three formats, with the malformed-record policy applied in one place.
import { DataFormatError, MalformedRecordError, TooManyMalformedError } from './errors';
import { ownedLines } from './lines';
import { type ByteRange, IDX_MAX_HEADER_BYTES, type IdxHeader, type IdxPlan, parseIdxHeader, planIdxRange, planIdxRecords, planLineRange } from './plan';
import { type ByteSource, readBytes } from './source';
import { type CsvOptions, type DataRecord, type LibsvmOptions, parseCsvLine, parseLibsvmLine } from './text-formats';

export type DatasetSpec =
  | { readonly format: 'idx'; readonly images: string; readonly labels: string }
  | { readonly format: 'csv'; readonly path: string; readonly csv: CsvOptions }
  | { readonly format: 'libsvm'; readonly path: string; readonly libsvm: LibsvmOptions };

export type Normalize = 'none' | 'byte';

export interface ReadOptions {
  /** Classification with this many classes: labels must be integers in [0, classes), y is one-hot. Absent: regression, y = label. */
  readonly classes?: number;
  /** 'byte' divides every feature by 255 (pixels to [0, 1]). */
  readonly normalize?: Normalize;
  /** Malformed records to skip (counted) before failing; 0 (default) fails on the first. */
  readonly maxMalformed?: number;
  /** Byte range of the primary file (the images file for IDX); default the whole file. */
  readonly range?: ByteRange;
  /**
   * Data to predict on: CSV lines hold only features, LibSVM lines may leave out the label, an
   * IDX images file is read without its labels file (`labels` is not opened); labels are NaN.
   */
  readonly unlabelled?: boolean;
}

export interface ReadStats {
  records: number;
  malformed: number;
  /** The first skipped malformed records (at most 20), for the job's report. */
  readonly skipped: MalformedRecordError[];
}

export const newStats = (): ReadStats => ({ records: 0, malformed: 0, skipped: [] });

/** The file whose bytes are split into ranges: the one file, or the images file of an IDX pair. */
export function primaryPath(spec: DatasetSpec): string {
  return spec.format === 'idx' ? spec.images : spec.path;
}

/** Every record the range owns, in file order, after the malformed-record policy. */
export async function* readRecords(source: ByteSource, spec: DatasetSpec, opts: ReadOptions = {}, stats: ReadStats = newStats()): AsyncGenerator<DataRecord> {
  const file = primaryPath(spec);
  const limit = opts.maxMalformed ?? 0;
  const scale = opts.normalize === 'byte' ? 1 / 255 : 1;
  const range = opts.range ?? { start: 0, end: await source.size(file) };
  const skip = (err: MalformedRecordError) => {
    stats.malformed++;
    if (stats.malformed > limit) throw new TooManyMalformedError(err.file, limit, err);
    if (stats.skipped.length < 20) stats.skipped.push(err);
  };
  const labelled = !opts.unlabelled;
  const items = spec.format === 'idx' ? idxRecords(source, spec, range, scale, labelled) : lineRecords(source, spec, range, scale, labelled);
  for await (const item of items) {
    if (item instanceof MalformedRecordError) {
      skip(item);
      continue;
    }
    const problem = labelled ? labelProblem(item.label, opts.classes) : undefined;
    if (problem) {
      const where = spec.format === 'idx' ? item.labelOffset : item.offset;
      skip(new MalformedRecordError(spec.format === 'idx' ? spec.labels : file, where ?? item.offset, problem, item.line));
      continue;
    }
    stats.records++;
    yield item;
  }
}

function labelProblem(label: number, classes: number | undefined): string | undefined {
  if (classes === undefined) return Number.isFinite(label) ? undefined : `label ${label} is not a finite number`;
  if (!Number.isInteger(label) || label < 0 || label >= classes) return `label ${label} is not a class index in [0, ${classes - 1}]`;
  return undefined;
}

type Item = (DataRecord & { labelOffset?: number }) | MalformedRecordError;

async function* lineRecords(source: ByteSource, spec: Exclude<DatasetSpec, { format: 'idx' }>, range: ByteRange, scale: number, labelled: boolean): AsyncGenerator<Item> {
  const plan = planLineRange(range);
  let features = spec.format === 'csv' ? spec.csv.features : spec.libsvm.features;
  for await (const raw of ownedLines(source.read(spec.path, plan.fetchOffset), plan)) {
    if (raw.text.trim() === '') continue; // blank lines are not records
    if (spec.format === 'csv' && spec.csv.header && raw.offset === 0) continue;
    try {
      if (spec.format === 'csv') {
        const rec = parseCsvLine(spec.path, raw, spec.csv, features, scale, labelled);
        features ??= rec.features.length;
        yield rec;
      } else {
        yield parseLibsvmLine(spec.path, raw, spec.libsvm, scale, labelled);
      }
    } catch (err) {
      if (err instanceof MalformedRecordError) yield err;
      else throw err;
    }
  }
}

async function readIdxHeader(source: ByteSource, file: string): Promise<IdxHeader> {
  const size = await source.size(file);
  return parseIdxHeader(await readBytes(source, file, 0, Math.min(size, IDX_MAX_HEADER_BYTES)), file, size);
}

/** Headers of an IDX pair, checked to match: same record count, one integer label per record. */
export async function readIdxPair(source: ByteSource, images: string, labels: string): Promise<{ images: IdxHeader; labels: IdxHeader }> {
  const [ih, lh] = await Promise.all([readIdxHeader(source, images), readIdxHeader(source, labels)]);
  if (lh.valuesPerRecord !== 1) throw new DataFormatError(labels, 3, `labels file must have one value per record, its dimensions are ${lh.dims.join('×')}`);
  if (ih.count !== lh.count) throw new DataFormatError(labels, 4, `labels file has ${lh.count} records, the images file ${images} has ${ih.count}`);
  return { images: ih, labels: lh };
}

/** The labels of the records an images plan covers, read in one piece. */
async function idxLabels(source: ByteSource, file: string, header: IdxHeader, plan: IdxPlan): Promise<(k: number) => { label: number; labelOffset: number }> {
  const labelPlan = planIdxRecords(header, plan.firstRecord, plan.recordCount);
  const labelBytes = await readBytes(source, file, labelPlan.fetchOffset, labelPlan.fetchLength);
  if (labelBytes.length < labelPlan.fetchLength) throw new DataFormatError(file, labelPlan.fetchOffset + labelBytes.length, 'labels file ended early');
  const decodeLabel = decoderFor(header);
  const one = new Float32Array(1);
  return (k) => {
    decodeLabel(labelBytes, k * header.recordBytes, one, 1);
    return { label: one[0]!, labelOffset: labelPlan.fetchOffset + k * header.recordBytes };
  };
}

async function* idxRecords(source: ByteSource, spec: Extract<DatasetSpec, { format: 'idx' }>, range: ByteRange, scale: number, labelled: boolean): AsyncGenerator<Item> {
  const pair = labelled ? await readIdxPair(source, spec.images, spec.labels) : undefined;
  const images = pair?.images ?? (await readIdxHeader(source, spec.images));
  const plan = planIdxRange(images, range);
  if (plan.recordCount === 0) return;
  const labelOf = pair ? await idxLabels(source, spec.labels, pair.labels, plan) : () => ({ label: NaN, labelOffset: undefined });
  const decodeImage = decoderFor(images);
  const { recordBytes, valuesPerRecord } = images;
  const record = new Uint8Array(recordBytes);
  let filled = 0;
  let k = 0;
  const floatData = images.typeCode === 0x0d || images.typeCode === 0x0e;
  const emit = (): Item => {
    const features = new Float32Array(valuesPerRecord);
    decodeImage(record, 0, features, scale);
    const { label, labelOffset } = labelOf(k);
    const offset = plan.fetchOffset + k * recordBytes;
    k++;
    // Only floating-point IDX data can hold NaN or infinities.
    if (floatData) {
      for (const v of features) {
        if (!Number.isFinite(v)) return new MalformedRecordError(spec.images, offset, 'a value is not a finite number');
      }
    }
    return { offset, features, label, labelOffset };
  };
  for await (const chunk of source.read(spec.images, plan.fetchOffset, plan.fetchLength)) {
    let i = 0;
    while (i < chunk.length && k < plan.recordCount) {
      const take = Math.min(recordBytes - filled, chunk.length - i);
      record.set(chunk.subarray(i, i + take), filled);
      filled += take;
      i += take;
      if (filled === recordBytes) {
        filled = 0;
        yield emit();
      }
    }
    if (k >= plan.recordCount) return;
  }
  if (k < plan.recordCount) throw new DataFormatError(spec.images, plan.fetchOffset + k * recordBytes + filled, `file ended early: ${plan.recordCount - k} records missing`);
}

type Decoder = (bytes: Uint8Array, at: number, out: Float32Array, scale: number) => void;

function decoderFor(h: IdxHeader): Decoder {
  switch (h.typeCode) {
    case 0x08:
      return (b, at, out, s) => {
        for (let i = 0; i < out.length; i++) out[i] = b[at + i]! * s;
      };
    case 0x09:
      return (b, at, out, s) => {
        for (let i = 0; i < out.length; i++) out[i] = ((b[at + i]! << 24) >> 24) * s;
      };
    default: {
      const size = { 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[h.typeCode];
      const get: (v: DataView, o: number) => number =
        h.typeCode === 0x0b ? (v, o) => v.getInt16(o) : h.typeCode === 0x0c ? (v, o) => v.getInt32(o) : h.typeCode === 0x0d ? (v, o) => v.getFloat32(o) : (v, o) => v.getFloat64(o);
      return (b, at, out, s) => {
        const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let i = 0; i < out.length; i++) out[i] = get(view, at + i * size) * s;
      };
    }
  }
}

export interface Batch {
  /** count × features, row-major. */
  readonly x: Float32Array;
  /** count × outputs: one-hot rows for classification, the label for regression. */
  readonly y: Float32Array;
  readonly count: number;
  readonly features: number;
  readonly outputs: number;
}

/** Groups records into batches of `batchSize` (the last may be smaller). */
export async function* toBatches(records: AsyncIterable<DataRecord>, batchSize: number, classes?: number): AsyncGenerator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const outputs = classes ?? 1;
  let features = -1;
  let x = new Float32Array(0);
  let y = new Float32Array(0);
  let n = 0;
  for await (const r of records) {
    if (features < 0) {
      features = r.features.length;
      x = new Float32Array(batchSize * features);
      y = new Float32Array(batchSize * outputs);
    }
    x.set(r.features, n * features);
    if (classes === undefined) y[n] = r.label;
    else y[n * outputs + r.label] = 1;
    n++;
    if (n === batchSize) {
      yield { x, y, count: n, features, outputs };
      x = new Float32Array(batchSize * features);
      y = new Float32Array(batchSize * outputs);
      n = 0;
    }
  }
  if (n > 0) yield { x: x.slice(0, n * features), y: y.slice(0, n * outputs), count: n, features, outputs };
}

/** Batches of the records a range owns: `readRecords` then `toBatches`. */
export function readBatches(source: ByteSource, spec: DatasetSpec, batchSize: number, opts: ReadOptions = {}, stats: ReadStats = newStats()): AsyncGenerator<Batch> {
  return toBatches(readRecords(source, spec, opts, stats), batchSize, opts.classes);
}

/** The first `count` records of a data set (fewer when it is shorter) as one batch. */
export async function firstBatch(source: ByteSource, spec: DatasetSpec, count: number, opts: ReadOptions = {}): Promise<Batch> {
  for await (const b of readBatches(source, spec, count, opts)) return b;
  throw new DataFormatError(primaryPath(spec), 0, 'the data set has no records');
}
