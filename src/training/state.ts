// A training state as bytes and back: what a checkpoint shard holds (a worker's loop, a shard's
// values and optimizer, a local run's model and trainer). Versioned and checksummed, and pure:
// bytes in, bytes out, so the caller decides where they are kept (HDFS, a local file).
//
// Layout (little-endian):
//    0  magic "HORNSTAT"
//    8  u32 format version (STATE_FORMAT_VERSION)
//   12  u32 header length H
//   16  header: UTF-8 JSON padded with spaces to a multiple of 4 bytes:
//       { "arrays": [{ "type": "f32" | "i32", "length": n }, …], "record": the StateRecord }
//       where every typed array of the record stands as { "$array": i } and a non-finite number
//       (a diverged loss) as { "$number": "NaN" | "Infinity" | "-Infinity" }
//   16+H  the arrays' values, one after the other (4 bytes each)
//   end−4 u32 CRC-32 (IEEE) of every byte before it
import { endianness } from 'node:os';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { HornError } from '../common/errors';
import type { OrderState } from '../cluster/schedule';
import { crc32 as engineCrc32, momentCount, type ModelState, type OptimizerState, type RngState, type TrainerState } from '../engine';
import type { DistributedWorkerState } from './distributed';
import type { ShardSnapshot } from './shard';

export const STATE_MAGIC = 'HORNSTAT';
export const STATE_FORMAT_VERSION = 1;
const PREAMBLE = 16;

/**
 * One checkpoint shard's content: the parts its holder restores. A parameter server keeps
 * `shard`; a worker with servers `worker`; a worker of an all-reduce group `worker` and `model`
 * (the same in every member but for its dropout generator, which `worker` carries); a local run
 * `model` and `trainer`. `tags` carry the identity the reader checks (role, index, clock, job
 * hash).
 */
export interface StateRecord {
  readonly tags?: Readonly<Record<string, string | number | boolean>>;
  readonly model?: ModelState;
  readonly trainer?: TrainerState;
  readonly worker?: DistributedWorkerState;
  readonly shard?: ShardSnapshot;
}

/** Bytes that are not a valid training state; `offset` is where reading failed. */
export class StateFormatError extends HornError {
  constructor(readonly source: string, readonly offset: number, reason: string) {
    super(`${source}: malformed training state at byte ${offset}: ${reason}`, 'input', { source, offset });
  }
}

// zlib's CRC-32 is native (GB/s) where Node has it (20.15+); the engine's is the same function in TypeScript.
const checksum: (bytes: Uint8Array) => number = typeof zlibCrc32 === 'function' ? (b) => zlibCrc32(b) : engineCrc32;
const LITTLE_ENDIAN = endianness() === 'LE';

type ArrayType = 'f32' | 'i32';
const PART_NAMES = ['model', 'trainer', 'worker', 'shard'] as const;

export function encodeState(record: StateRecord): Uint8Array {
  if (!PART_NAMES.some((p) => record[p] !== undefined)) throw new HornError(`a training state needs at least one of ${PART_NAMES.join(', ')}`, 'internal');
  const arrays: Array<Float32Array | Int32Array> = [];
  const json = JSON.stringify(record, (_key, value: unknown) => {
    if (value instanceof Float32Array || value instanceof Int32Array) return { $array: arrays.push(value) - 1 };
    if (ArrayBuffer.isView(value)) throw new HornError(`a training state holds Float32Array and Int32Array only, not ${value.constructor.name}`, 'internal');
    if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
    return value;
  });
  // The array table is known only once the record is walked.
  const table = JSON.stringify(arrays.map((a) => ({ type: a instanceof Float32Array ? 'f32' : 'i32', length: a.length })));
  const header = Buffer.from(`{"arrays":${table},"record":${json}}`, 'utf8');
  const headerLength = align4(header.length);
  const dataAt = PREAMBLE + headerLength;
  const total = dataAt + arrays.reduce((n, a) => n + a.byteLength, 0) + 4;
  const out = Buffer.alloc(total, 0x20);
  out.write(STATE_MAGIC, 0, 'latin1');
  out.writeUInt32LE(STATE_FORMAT_VERSION, 8);
  out.writeUInt32LE(headerLength, 12);
  header.copy(out, PREAMBLE);
  let at = dataAt;
  for (const a of arrays) {
    writeArray(out, at, a);
    at += a.byteLength;
  }
  out.writeUInt32LE(checksum(out.subarray(0, total - 4)), total - 4);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Checks and reads encodeState()'s bytes; `source` (a path) names them in a StateFormatError. */
export function decodeState(bytes: Uint8Array, source: string): StateRecord {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (offset: number, reason: string): never => {
    throw new StateFormatError(source, offset, reason);
  };
  if (buf.length < PREAMBLE + 4) fail(buf.length, `${buf.length} bytes are too few for a training state (at least ${PREAMBLE + 4}); truncated?`);
  if (buf.toString('latin1', 0, 8) !== STATE_MAGIC) fail(0, `bad magic ${JSON.stringify(buf.toString('latin1', 0, 8))}; not a horn training state`);
  const version = buf.readUInt32LE(8);
  if (version !== STATE_FORMAT_VERSION) fail(8, `format version ${version} is not supported (this horn reads version ${STATE_FORMAT_VERSION})`);
  const headerLength = buf.readUInt32LE(12);
  if (PREAMBLE + headerLength + 4 > buf.length) fail(12, `header length ${headerLength} runs past the end of the ${buf.length} bytes; truncated?`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8', PREAMBLE, PREAMBLE + headerLength));
  } catch {
    parsed = undefined;
  }
  const table = arrayTable(parsed);
  const dataAt = PREAMBLE + headerLength;
  if (table) {
    const expected = dataAt + table.reduce((n, a) => n + 4 * a.length, 0) + 4;
    if (buf.length !== expected) fail(Math.min(buf.length, expected), `${buf.length} bytes, but the header describes ${expected}; truncated or extended`);
  }
  const stored = buf.readUInt32LE(buf.length - 4);
  const actual = checksum(buf.subarray(0, buf.length - 4));
  if (stored !== actual) fail(buf.length - 4, `CRC-32 mismatch (stored ${hex(stored)}, computed ${hex(actual)}); the state is corrupt`);
  if (!table) return fail(PREAMBLE, 'the header is not JSON with an array table, though the checksum matches (written by another program?)');
  const arrays: Array<Float32Array | Int32Array> = [];
  let at = dataAt;
  for (const a of table) {
    arrays.push(readArray(buf, at, a.type, a.length));
    at += 4 * a.length;
  }
  const used = new Set<number>();
  const revive = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => revive(v, `${path}[${i}]`));
    if (typeof value !== 'object' || value === null) return value;
    const o = value as Record<string, unknown>;
    if ('$array' in o) {
      const i = o.$array;
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= arrays.length || used.has(i)) fail(PREAMBLE, `${path} refers to array ${JSON.stringify(i)}; the table has ${arrays.length}`);
      used.add(i as number);
      return arrays[i as number];
    }
    if ('$number' in o) {
      if (!['NaN', 'Infinity', '-Infinity'].includes(o.$number as string)) fail(PREAMBLE, `${path} is ${JSON.stringify(o.$number)}; expected NaN, Infinity or -Infinity`);
      return Number(o.$number);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, revive(v, path ? `${path}.${k}` : k)]));
  };
  const record = revive((parsed as { record?: unknown }).record, '');
  return readRecord(record, (path, reason) => fail(PREAMBLE, `${path || 'record'}: ${reason}`));
}

function arrayTable(parsed: unknown): Array<{ type: ArrayType; length: number }> | undefined {
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { arrays?: unknown }).arrays)) return undefined;
  const table = (parsed as { arrays: unknown[] }).arrays;
  const valid = table.every((a) => {
    const e = a as { type?: unknown; length?: unknown } | null;
    return typeof e === 'object' && e !== null && (e.type === 'f32' || e.type === 'i32') && Number.isInteger(e.length) && (e.length as number) >= 0;
  });
  return valid ? (table as Array<{ type: ArrayType; length: number }>) : undefined;
}

function writeArray(out: Buffer, at: number, a: Float32Array | Int32Array): void {
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + at, a.byteLength);
  if (a instanceof Float32Array) for (let i = 0; i < a.length; i++) view.setFloat32(4 * i, a[i]!, true);
  else for (let i = 0; i < a.length; i++) view.setInt32(4 * i, a[i]!, true);
}

function readArray(buf: Buffer, at: number, type: ArrayType, length: number): Float32Array | Int32Array {
  const out = type === 'f32' ? new Float32Array(length) : new Int32Array(length);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(buf.subarray(at, at + 4 * length));
    return out;
  }
  const view = new DataView(buf.buffer, buf.byteOffset + at, 4 * length);
  for (let i = 0; i < length; i++) out[i] = type === 'f32' ? view.getFloat32(4 * i, true) : view.getInt32(4 * i, true);
  return out;
}

type Fail = (path: string, reason: string) => never;

/** Typed access to one object of the decoded header; every miss names its path. */
class Fields {
  private readonly o: Record<string, unknown>;

  constructor(value: unknown, private readonly path: string, readonly fail: Fail) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) fail(path, `must be an object, found ${describe(value)}`);
    this.o = value as Record<string, unknown>;
  }

  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.o[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.o[key];
  }

  int(key: string, min = 0): number {
    const v = this.o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(this.at(key), `must be an integer ≥ ${min}, found ${describe(v)}`);
    return v as number;
  }

  number(key: string): number {
    const v = this.o[key];
    if (typeof v !== 'number') this.fail(this.at(key), `must be a number, found ${describe(v)}`);
    return v as number;
  }

  f32(key: string): Float32Array {
    const v = this.o[key];
    if (!(v instanceof Float32Array)) this.fail(this.at(key), `must be a float32 array, found ${describe(v)}`);
    return v as Float32Array;
  }

  i32(key: string): Int32Array {
    const v = this.o[key];
    if (!(v instanceof Int32Array)) this.fail(this.at(key), `must be an int32 array, found ${describe(v)}`);
    return v as Int32Array;
  }

  list<T>(key: string, each: (v: unknown, path: string) => T): T[] {
    const v = this.o[key];
    if (!Array.isArray(v)) this.fail(this.at(key), `must be a list, found ${describe(v)}`);
    return (v as unknown[]).map((e, i) => each(e, `${this.at(key)}[${i}]`));
  }

  words(key: string): RngState {
    const w = this.list(key, (v, path) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) this.fail(path, `must be an unsigned 32-bit integer, found ${describe(v)}`);
      return v as number;
    });
    if (w.length !== 4) this.fail(this.at(key), `must be 4 generator words, found ${w.length}`);
    return w as unknown as RngState;
  }

  object(key: string): Fields {
    return new Fields(this.o[key], this.at(key), this.fail);
  }

  entries(): [string, unknown][] {
    return Object.entries(this.o);
  }
}

function readRecord(value: unknown, fail: Fail): StateRecord {
  const f = new Fields(value, '', fail);
  const record: { -readonly [K in keyof StateRecord]: StateRecord[K] } = {};
  if (f.has('tags')) record.tags = readTags(f.object('tags'));
  if (f.has('model')) record.model = readModel(f.object('model'));
  if (f.has('trainer')) record.trainer = readTrainer(f.object('trainer'));
  if (f.has('worker')) record.worker = readWorker(f.object('worker'));
  if (f.has('shard')) record.shard = readShard(f.object('shard'));
  if (!PART_NAMES.some((p) => record[p] !== undefined)) fail('', `holds none of ${PART_NAMES.join(', ')}`);
  return record;
}

function readTags(f: Fields): Record<string, string | number | boolean> {
  const tags: Record<string, string | number | boolean> = {};
  for (const [k, v] of f.entries()) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') f.fail(f.at(k), `must be a string, number or boolean, found ${describe(v)}`);
    tags[k] = v as string | number | boolean;
  }
  return tags;
}

function readOptimizer(f: Fields): OptimizerState {
  const fail = f.fail;
  const kind = f.raw('kind');
  if (kind !== 'sgd' && kind !== 'momentum' && kind !== 'nesterov' && kind !== 'adam') return fail(f.at('kind'), `must be sgd, momentum, nesterov or adam, found ${describe(kind)}`);
  const segmentLengths = f.list('segmentLengths', (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(path, `must be a non-negative integer, found ${describe(v)}`);
    return v as number;
  });
  const moments = f.list('moments', (v, path) => {
    if (!(v instanceof Float32Array)) fail(path, `must be a float32 array, found ${describe(v)}`);
    return v as Float32Array;
  });
  const total = segmentLengths.reduce((t, n) => t + n, 0);
  const wanted = segmentLengths.length === 0 ? 0 : momentCount(kind);
  if (moments.length !== wanted) fail(f.at('moments'), `${kind} over ${segmentLengths.length} segments needs ${wanted} moment buffers, found ${moments.length}`);
  moments.forEach((m, i) => {
    if (m.length !== total) fail(`${f.at('moments')}[${i}]`, `must hold ${total} values (the segments' lengths summed), found ${m.length}`);
  });
  return { kind, stepCount: f.int('stepCount'), epoch: f.int('epoch'), segmentLengths, moments };
}

function readModel(f: Fields): ModelState {
  return { parameters: f.f32('parameters'), optimizer: readOptimizer(f.object('optimizer')), dropout: f.words('dropout') };
}

function readTrainer(f: Fields): TrainerState {
  return {
    epoch: f.int('epoch'), step: f.int('step'), totalSteps: f.int('totalSteps'), batchSize: f.int('batchSize', 1), shuffle: f.words('shuffle'),
    samples: f.int('samples'), lossSum: f.number('lossSum'), correct: f.int('correct'),
  };
}

function readOrder(f: Fields): OrderState {
  const order = f.i32('order');
  const position = f.int('position');
  if (position > order.length) f.fail(f.at('position'), `must be at most the order's ${order.length} records, found ${position}`);
  return { order, position };
}

function readWorker(f: Fields): DistributedWorkerState {
  return {
    clock: f.int('clock'), stepsPerEpoch: f.int('stepsPerEpoch', 1), batchSize: f.int('batchSize', 1), order: readOrder(f.object('order')),
    shuffle: f.words('shuffle'), dropout: f.words('dropout'), samples: f.int('samples'), lossSum: f.number('lossSum'), correct: f.int('correct'),
  };
}

function readShard(f: Fields): ShardSnapshot {
  const start = f.int('start');
  const end = f.int('end', start);
  const values = f.f32('values');
  if (values.length !== end - start) f.fail(f.at('values'), `must hold end − start = ${end - start} values, found ${values.length}`);
  return { start, end, values, optimizer: readOptimizer(f.object('optimizer')), updates: f.int('updates') };
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v instanceof Float32Array) return `a float32 array of ${v.length}`;
  if (v instanceof Int32Array) return `an int32 array of ${v.length}`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
