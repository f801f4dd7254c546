// Pure planning of what a range reader fetches: no I/O here, so the ownership rules are testable
// on their own and the same plans drive local files and HDFS.
//
// A range is a half-open byte interval [start, end) of one file. A set of ranges that partition
// [0, size) is a split of the file. The rules below make every record belong to exactly one range
// of ANY split: a record belongs to the range that contains its first byte.
//
// Line formats (CSV, LibSVM). A line starts at offset a when a = 0 or byte a−1 is '\n'; it runs
// to its '\n' (inclusive) or to the end of the file. Only lines with a < size exist (a final '\n'
// does not start an empty line). The range [s, e) owns exactly the lines whose start a lies in
// [s, e). Its reader:
//   - for s = 0: starts reading at 0; the first owned line starts at 0;
//   - for s > 0: starts reading at s−1 and discards bytes through the first '\n' found at or
//     after s−1, at position p; the first owned line starts at p+1.
//   Then it takes lines while their start is < e, reading past e to finish the last one.
// Proof that s>0 finds the first line start ≥ s: line starts ≥ s are exactly the positions p+1
// with byte p = '\n' and p ≥ s−1; the smallest is one past the first '\n' at or after s−1. And
// each later line starts one past the previous line's '\n', so following lines visits every line
// start in [s, e) in order and no other. As the ranges of a split are disjoint and cover
// [0, size), every line start lies in exactly one of them: each line is read exactly once.
//
// IDX. After a header of H bytes come n records of R bytes; record k occupies [H+kR, H+(k+1)R).
// [s, e) owns the records whose first byte H+kR lies in [s, e): k from ceil((s−H)/R) (at least 0)
// up to, not including, ceil((e−H)/R) (at most n). The same argument (disjoint ranges covering
// [0, size) contain each record start once) gives exactly-once. Header bytes belong to no record.
import { DataFormatError } from './errors';

export interface ByteRange {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

/** Splits [0, size) into `parts` contiguous ranges of near-equal size (the last may be empty-free). */
export function splitEvenly(size: number, parts: number): ByteRange[] {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`parts must be a positive integer, got ${parts}`);
  const out: ByteRange[] = [];
  for (let i = 0; i < parts; i++) out.push({ start: Math.floor((size * i) / parts), end: Math.floor((size * (i + 1)) / parts) });
  return out;
}

/** Splits [0, size) at the given cut points (any order, duplicates and out-of-range ones ignored). */
export function splitAt(size: number, cuts: readonly number[]): ByteRange[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < size))].sort((a, b) => a - b);
  const bounds = [0, ...points, size];
  const out: ByteRange[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) out.push({ start: bounds[i]!, end: bounds[i + 1]! });
  return out;
}

export interface LinePlan {
  /** Where to start fetching. */
  readonly fetchOffset: number;
  /** Discard bytes through the first '\n' before the first owned line (s > 0). */
  readonly skipThroughNewline: boolean;
  /** Take lines whose start is below this offset (the range's end); the last may run past it. */
  readonly ownedBefore: number;
}

export function planLineRange(range: ByteRange): LinePlan {
  checkRange(range);
  return range.start === 0
    ? { fetchOffset: 0, skipThroughNewline: false, ownedBefore: range.end }
    : { fetchOffset: range.start - 1, skipThroughNewline: true, ownedBefore: range.end };
}

export const IDX_TYPES = {
  0x08: { name: 'ubyte', size: 1 },
  0x09: { name: 'byte', size: 1 },
  0x0b: { name: 'short', size: 2 },
  0x0c: { name: 'int', size: 4 },
  0x0d: { name: 'float', size: 4 },
  0x0e: { name: 'double', size: 8 },
} as const;
export type IdxTypeCode = keyof typeof IDX_TYPES;

export interface IdxHeader {
  readonly typeCode: IdxTypeCode;
  /** Dimensions; dims[0] is the record count. */
  readonly dims: readonly number[];
  readonly headerBytes: number;
  /** Values per record (product of dims[1..]); 1 for a labels file. */
  readonly valuesPerRecord: number;
  readonly recordBytes: number;
  readonly count: number;
}

/** Bytes to fetch to be able to parse any IDX header: magic (4) + up to 255 dimensions (4 each). */
export const IDX_MAX_HEADER_BYTES = 4 + 4 * 255;

/** Parses an IDX header from the first bytes of the file (fewer than IDX_MAX_HEADER_BYTES is fine). */
export function parseIdxHeader(bytes: Uint8Array, file: string, fileSize?: number): IdxHeader {
  if (bytes.length < 4) throw new DataFormatError(file, 0, `IDX header needs 4 bytes, the file has ${bytes.length}`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new DataFormatError(file, 0, `not an IDX file: magic starts 0x${hex(bytes[0]!)}${hex(bytes[1]!)}, expected 0x0000`);
  const typeCode = bytes[2]! as IdxTypeCode;
  const type = IDX_TYPES[typeCode];
  if (!type) throw new DataFormatError(file, 2, `unknown IDX element type 0x${hex(bytes[2]!)}`);
  const ndims = bytes[3]!;
  if (ndims < 1) throw new DataFormatError(file, 3, 'IDX file with 0 dimensions');
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) throw new DataFormatError(file, bytes.length, `IDX header of ${headerBytes} bytes is truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const valuesPerRecord = dims.slice(1).reduce((a, b) => a * b, 1);
  const recordBytes = valuesPerRecord * type.size;
  const count = dims[0]!;
  if (recordBytes === 0) throw new DataFormatError(file, 4, `IDX dimensions ${dims.join('×')} give empty records`);
  if (fileSize !== undefined && fileSize < headerBytes + count * recordBytes) {
    throw new DataFormatError(file, fileSize, `IDX file truncated: header says ${count} records of ${recordBytes} bytes (${headerBytes + count * recordBytes} bytes), the file has ${fileSize}`);
  }
  return { typeCode, dims, headerBytes, valuesPerRecord, recordBytes, count };
}

export interface IdxPlan {
  /** Index of the first record the range owns. */
  readonly firstRecord: number;
  readonly recordCount: number;
  /** Bytes to fetch from the data file: exactly the owned records. */
  readonly fetchOffset: number;
  readonly fetchLength: number;
}

/** The records of an IDX file whose first byte lies in `range`, and the bytes that hold them. */
export function planIdxRange(header: IdxHeader, range: ByteRange): IdxPlan {
  checkRange(range);
  const { headerBytes: h, recordBytes: r, count } = header;
  const firstIndexAtOrAfter = (offset: number) => Math.min(count, Math.max(0, Math.ceil((offset - h) / r)));
  const first = firstIndexAtOrAfter(range.start);
  const endIndex = Math.max(first, firstIndexAtOrAfter(range.end));
  return planIdxRecords(header, first, endIndex - first);
}

/** The bytes holding records [first, first+count) of an IDX file (e.g. the labels matching images). */
export function planIdxRecords(header: IdxHeader, first: number, count: number): IdxPlan {
  return { firstRecord: first, recordCount: count, fetchOffset: header.headerBytes + first * header.recordBytes, fetchLength: count * header.recordBytes };
}

function checkRange(range: ByteRange): void {
  if (!(Number.isInteger(range.start) && Number.isInteger(range.end) && range.start >= 0 && range.end >= range.start)) {
    throw new RangeError(`invalid byte range [${range.start}, ${range.end})`);
  }
}

const hex = (b: number) => b.toString(16).padStart(2, '0');
