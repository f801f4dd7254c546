import { crc32c } from '@aws-crypto/crc32c';
import { decodeEventFile, encodeEventFile, eventFileName, historyScalars, maskedCrc32c, readTfRecords, TENSORBOARD_TAGS, tfRecord } from '../../../src/appmaster/tensorboard';
import type { TrainingHistory } from '../../../src/protocol';

const history: TrainingHistory = {
  steps: [
    { t: 1000, clock: 10, epoch: 1, loss: 1.5, accuracy: 0.5, learningRate: 0.05, samplesPerSecond: 900, staleness: 2 },
    { t: 2000, clock: 20, epoch: 2, loss: 0.75, accuracy: 0.75 },
  ],
  epochs: [
    { epoch: 1, t: 1500, loss: 1.2, accuracy: 0.6, validationLoss: 1.25, validationAccuracy: 0.625 },
    { epoch: 2, t: 2500, loss: 0.7, accuracy: 0.8, validationAccuracy: 0.875 },
  ],
};

describe('TFRecord framing', () => {
  test('CRC32C and its TFRecord mask match the published values', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283); // the CRC-32C check value
    // Masked CRCs as TensorBoard's own implementation (tensorflow_stub.pywrap_tensorflow.masked_crc32c) gives them.
    expect(maskedCrc32c(Buffer.alloc(8))).toBe(0x07980329);
    expect(maskedCrc32c(Buffer.from('horn'))).toBe(0xb684e5dd);
    const length5 = Buffer.alloc(8);
    length5.writeBigUInt64LE(5n);
    expect(maskedCrc32c(length5)).toBe(0x3e04b2ea);
  });

  test('records round-trip and a flipped byte is caught by either checksum', () => {
    const stream = Buffer.concat([tfRecord(Buffer.from('first')), tfRecord(Buffer.alloc(0)), tfRecord(Buffer.from('third record'))]);
    expect(readTfRecords(stream).map((r) => r.toString())).toEqual(['first', '', 'third record']);
    const badLength = Buffer.from(stream);
    badLength[1] ^= 0xff;
    expect(() => readTfRecords(badLength)).toThrow(/bad length checksum at byte 0/);
    const badData = Buffer.from(stream);
    badData[14] ^= 1;
    expect(() => readTfRecords(badData)).toThrow(/bad data checksum at byte 0/);
    expect(() => readTfRecords(stream.subarray(0, stream.length - 2))).toThrow(/truncated/);
  });
});

describe('event files', () => {
  test('one scalar per tag and point, epochs stepped by epoch, steps by clock, in time order', () => {
    const scalars = historyScalars(history, 1_700_000_000_000);
    expect(scalars.filter((s) => s.tag === TENSORBOARD_TAGS.validationAccuracy).map((s) => [s.step, s.value])).toEqual([[1, 0.625], [2, 0.875]]);
    expect(scalars.filter((s) => s.tag === TENSORBOARD_TAGS.loss).map((s) => [s.step, s.value])).toEqual([[10, 1.5], [20, 0.75]]);
    expect(scalars.filter((s) => s.tag === TENSORBOARD_TAGS.staleness)).toHaveLength(1);
    expect(scalars.map((s) => s.wallTime)).toEqual([...scalars.map((s) => s.wallTime)].sort((a, b) => a - b));
    expect(scalars[0]!.wallTime).toBe(1_700_000_001);
  });

  test('encode then decode gives the file version and every scalar back', () => {
    const scalars = historyScalars(history, 1_700_000_000_000);
    const file = encodeEventFile(scalars, 1_700_000_000_000);
    const back = decodeEventFile(file);
    expect(back.fileVersion).toBe('brain.Event:2');
    expect(back.scalars.length).toBe(scalars.length);
    // simple_value is a float32.
    back.scalars.forEach((s, i) => expect(s).toEqual({ ...scalars[i], value: Math.fround(scalars[i]!.value) }));
  });

  test('file names follow TensorBoard\'s convention', () => {
    expect(eventFileName(1_700_000_000_999, 'node1.test')).toBe('events.out.tfevents.1700000000.node1.test');
    expect(eventFileName(0, 'a b/c')).toBe('events.out.tfevents.0.a_b_c');
  });
});
