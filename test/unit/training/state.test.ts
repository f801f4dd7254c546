// The binary encoding of training states: every part round-trips bit for bit, and bytes that are
// corrupt, truncated, of another version or inconsistent are refused with an error naming where.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 } from '../../../src/engine/format';
import type { OptimizerState } from '../../../src/engine/optimizer';
import { decodeState, encodeState, STATE_FORMAT_VERSION, StateFormatError, type StateRecord } from '../../../src/training/state';

const floats = (values: number[]): Float32Array => Float32Array.from(values);

function adamState(n: number): OptimizerState {
  const m = new Float32Array(n).map((_, i) => Math.sin(i) / 7);
  const v = new Float32Array(n).map((_, i) => (i % 5) * 1e-9);
  return { kind: 'adam', stepCount: 123, epoch: 2, segmentLengths: [n - 3, 3], moments: [m, v] };
}

/** Every part at once, with awkward values: -0, NaN and ±Infinity in the arrays, a NaN loss. */
function fullRecord(): StateRecord {
  return {
    tags: { role: 'worker', index: 2, clock: 40, complete: true },
    model: { parameters: floats([0.5, -0, NaN, Infinity, -Infinity, 1e-42, 3.4e38]), optimizer: adamState(7), dropout: [1, 0xffffffff, 0x80000000, 12345] },
    trainer: { epoch: 2, step: 5, totalSteps: 29, batchSize: 25, shuffle: [4, 3, 2, 1], samples: 125, lossSum: 0.1 + 0.2, correct: 77 },
    worker: { clock: 40, stepsPerEpoch: 10, batchSize: 16, order: { order: Int32Array.from([3, 0, 2, 1]), position: 2 }, shuffle: [9, 9, 9, 9], dropout: [7, 0, 0, 0], samples: 0, lossSum: NaN, correct: 0 },
    shard: { start: 100, end: 107, values: floats([1, 2, 3, 4, 5, 6, 7]), optimizer: { kind: 'momentum', stepCount: 0, epoch: 0, segmentLengths: [], moments: [] }, updates: 0 },
  };
}

const bits = (a: Float32Array | Int32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectSame(a: unknown, b: unknown, path = ''): void {
  if (a instanceof Float32Array || a instanceof Int32Array) {
    expect(b).toBeInstanceOf(a.constructor);
    expect({ path, same: bits(b as Float32Array).equals(bits(a)) }).toEqual({ path, same: true });
  } else if (typeof a === 'number' && Number.isNaN(a)) {
    expect(Number.isNaN(b)).toBe(true);
  } else if (typeof a === 'object' && a !== null) {
    expect(Object.keys(b as object).sort()).toEqual(Object.keys(a).sort());
    for (const [k, v] of Object.entries(a)) expectSame(v, (b as Record<string, unknown>)[k], `${path}.${k}`);
  } else {
    expect({ path, value: b }).toEqual({ path, value: a });
  }
}

/** Rewrites the header of valid bytes (with a correct checksum), to test the checks behind the checksum. */
function withHeader(bytes: Uint8Array, edit: (header: { arrays: unknown[]; record: Record<string, unknown> }) => void): Uint8Array {
  const buf = Buffer.from(bytes);
  const length = buf.readUInt32LE(12);
  const header = JSON.parse(buf.toString('utf8', 16, 16 + length));
  edit(header);
  const text = Buffer.from(JSON.stringify(header));
  const padded = Buffer.alloc((text.length + 3) & ~3, 0x20);
  text.copy(padded);
  const out = Buffer.concat([buf.subarray(0, 12), Buffer.alloc(4), padded, buf.subarray(16 + length, buf.length - 4), Buffer.alloc(4)]);
  out.writeUInt32LE(padded.length, 12);
  out.writeUInt32LE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

describe('state encoding', () => {
  test('round trip of every part, bit for bit, and compact: arrays raw, not as text', () => {
    const record = fullRecord();
    const bytes = encodeState(record);
    expectSame(record, decodeState(bytes, 'all.state'));
    const big: StateRecord = { shard: { start: 0, end: 100_000, values: new Float32Array(100_000).fill(0.1), optimizer: adamState(100_000), updates: 9 } };
    const bigBytes = encodeState(big);
    expect(bigBytes.length).toBeLessThan(3 * 100_000 * 4 + 1024);
    expectSame(big, decodeState(bigBytes, 'big.state'));
  });

  test('the header says the format and version, and the trailer is the CRC-32 of the rest', () => {
    const bytes = Buffer.from(encodeState(fullRecord()));
    expect(bytes.toString('latin1', 0, 8)).toBe('HORNSTAT');
    expect(bytes.readUInt32LE(8)).toBe(STATE_FORMAT_VERSION);
    const body = bytes.subarray(0, bytes.length - 4);
    expect(bytes.readUInt32LE(bytes.length - 4)).toBe(crc32(body));
    expect(zlibCrc32(body)).toBe(crc32(body));
  });

  test('a flipped byte anywhere is refused by the checksum', () => {
    const good = encodeState(fullRecord());
    for (const at of [9, 20, 100, good.length - 30, good.length - 5, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x10;
      let error: unknown;
      try {
        decodeState(bad, 'hdfs:///ckpt/worker-2.state');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(StateFormatError);
      expect((error as Error).message).toMatch(/^hdfs:\/\/\/ckpt\/worker-2\.state: malformed training state at byte \d+: /);
      expect((error as Error).message).toMatch(at === 9 ? /format version/ : /CRC-32 mismatch|truncated or extended|header length/);
    }
  });

  test('truncated bytes are refused, saying so', () => {
    const good = encodeState(fullRecord());
    expect(() => decodeState(good.subarray(0, good.length - 4), 's')).toThrow(/s: malformed training state at byte \d+: \d+ bytes, but the header describes \d+; truncated or extended/);
    expect(() => decodeState(good.subarray(0, 200), 's')).toThrow(/truncated/);
    expect(() => decodeState(good.subarray(0, 10), 's')).toThrow(/s: malformed training state at byte 10: 10 bytes are too few for a training state \(at least 20\); truncated\?/);
    expect(() => decodeState(new Uint8Array(0), 's')).toThrow(StateFormatError);
    expect(() => decodeState(Buffer.concat([good, Buffer.alloc(4)]), 's')).toThrow(/truncated or extended/);
  });

  test('another file, another version', () => {
    const good = Buffer.from(encodeState(fullRecord()));
    const model = Buffer.from(good);
    model.write('HORNMDL\0', 0, 'latin1');
    expect(() => decodeState(model, 'm')).toThrow(/at byte 0: bad magic "HORNMDL\\u0000"; not a horn training state/);
    const future = Buffer.from(good);
    future.writeUInt32LE(2, 8);
    expect(() => decodeState(future, 'f')).toThrow(/at byte 8: format version 2 is not supported \(this horn reads version 1\)/);
  });

  test('a header that passes the checksum but does not describe a state names the field', () => {
    const good = encodeState(fullRecord());
    const cases: Array<[(h: { arrays: unknown[]; record: Record<string, unknown> }) => void, RegExp]> = [
      [(h) => ((h.record.model as { optimizer: { moments: unknown[] } }).optimizer.moments.length = 1), /model\.optimizer\.moments: adam over 2 segments needs 2 moment buffers, found 1/],
      [(h) => ((h.record.model as { optimizer: { segmentLengths: number[] } }).optimizer.segmentLengths = [3, 3]), /model\.optimizer\.moments\[0\]: must hold 6 values/],
      [(h) => ((h.record.model as { optimizer: { kind: string } }).optimizer.kind = 'rmsprop'), /model\.optimizer\.kind: must be sgd, momentum, nesterov or adam, found "rmsprop"/],
      [(h) => ((h.record.trainer as { step: number }).step = -1), /trainer\.step: must be an integer ≥ 0, found -1/],
      [(h) => ((h.record.trainer as { shuffle: number[] }).shuffle = [1, 2, 3]), /trainer\.shuffle: must be 4 generator words, found 3/],
      [(h) => ((h.record.worker as { dropout: unknown[] }).dropout = [1, 2, 3, 2 ** 32]), /worker\.dropout\[3\]: must be an unsigned 32-bit integer, found 4294967296/],
      [(h) => ((h.record.worker as { order: { position: number } }).order.position = 5), /worker\.order\.position: must be at most the order's 4 records, found 5/],
      [(h) => ((h.record.shard as { end: number }).end = 108), /shard\.values: must hold end − start = 8 values, found 7/],
      [(h) => ((h.record.shard as { values: unknown }).values = [1, 2]), /shard\.values: must be a float32 array, found a list of 2/],
      [(h) => ((h.record.tags as Record<string, unknown>).clock = { n: 1 }), /tags\.clock: must be a string, number or boolean/],
      [(h) => ((h.record.model as { parameters: unknown }).parameters = { $array: 99 }), /model\.parameters refers to array 99; the table has \d+/],
      [(h) => (h.record = { tags: {} }), /record: holds none of model, trainer, worker, shard/],
      [(h) => ((h as { arrays: unknown }).arrays = 'none'), /the header is not JSON with an array table/],
    ];
    for (const [edit, message] of cases) expect(() => decodeState(withHeader(good, edit), 'x.state')).toThrow(message);
  });

  test('nothing to encode, or an array type the format does not carry, is a bug and says so', () => {
    expect(() => encodeState({ tags: { a: 1 } })).toThrow(/needs at least one of model, trainer, worker, shard/);
    const record = fullRecord();
    expect(() => encodeState({ ...record, shard: { ...record.shard!, values: new Float64Array(7) as unknown as Float32Array } })).toThrow(/Float32Array and Int32Array only, not Float64Array/);
  });
});
