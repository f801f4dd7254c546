// Model files: a round trip preserves predictions bit for bit; every kind of damage gives a
// ModelFormatError naming the file and the byte offset.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { SigmoidNeuron } from '../../../examples/neurons/sigmoid-neuron';
import { ModelFormatError } from '../../../src/engine/errors';
import { crc32, loadModel, parseModelFile, readModelFile, saveModel, serializeModel } from '../../../src/engine/format';
import { Model } from '../../../src/engine/model';
import type { ModelSpec } from '../../../src/engine/spec';
import { kernels, toyClassification } from './helpers';

const SPEC: ModelSpec = {
  inputSize: 5,
  layers: [{ size: 6, activation: 'leakyRelu', alpha: 0.05, dropout: 0.1 }, { size: 3, activation: 'softmax' }],
  cost: 'crossEntropy',
  seed: 9,
  optimizer: { kind: 'adam', learningRate: 0.01 },
};

function trainedModel(): Model {
  const m = new Model(SPEC, kernels, { metadata: { epochs: 2, note: 'test' } });
  const d = toyClassification(32, 5, 3, 1);
  for (let i = 0; i < 5; i++) m.trainStep(d.x, d.y, 32);
  return m;
}

function expectFormatError(bytes: Uint8Array, offset: number, message: RegExp): void {
  let caught: unknown;
  try {
    parseModelFile(bytes, 'hdfs:///models/m.horn');
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ModelFormatError);
  const err = caught as ModelFormatError;
  expect(err.source).toBe('hdfs:///models/m.horn');
  expect(err.offset).toBe(offset);
  expect(err.message).toMatch(/^hdfs:\/\/\/models\/m\.horn: malformed model file at byte \d+: /);
  expect(err.message).toMatch(message);
}

/** Rewrite the checksum so that only the intended damage is reported. */
function resealed(bytes: Uint8Array): Uint8Array {
  const b = Buffer.from(bytes);
  b.writeUInt32LE(crc32(b.subarray(0, b.length - 4)), b.length - 4);
  return b;
}

describe('model file format', () => {
  test('round trip through a file keeps spec, metadata and predictions', async () => {
    const m = trainedModel();
    const path = join(mkdtempSync(join(tmpdir(), 'horn-model-')), 'm.horn');
    await saveModel(m, path);
    const bytes = readFileSync(path);
    expect(bytes.toString('latin1', 0, 8)).toBe('HORNMDL\0');
    expect(bytes.readUInt32LE(8)).toBe(1);
    const loaded = await readModelFile(path, { kernels });
    expect(loaded.spec.layers).toEqual(SPEC.layers.map((l) => ({ ...l })));
    expect(loaded.metadata).toEqual({ epochs: 2, note: 'test' });
    expect(loaded.parameters()).toEqual(m.parameters());
    const x = toyClassification(10, 5, 3, 2).x;
    expect(loaded.predict(x, 10)).toEqual(m.predict(x, 10));
  });

  test('saves to a stream', async () => {
    const m = trainedModel();
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    await saveModel(m, stream);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(serializeModel(m)));
  });

  test('a user neuron saved by class name needs the class at load time', async () => {
    const m = new Model({ inputSize: 2, layers: [{ size: 2, neuron: SigmoidNeuron }, { size: 2, activation: 'softmax' }], cost: 'crossEntropy' }, kernels);
    const bytes = serializeModel(m);
    await expect(loadModel(bytes, 'm.horn', { kernels })).rejects.toThrow(/m\.horn: malformed model file at byte 16: layer 0 uses neuron class 'SigmoidNeuron'/);
    const loaded = await loadModel(bytes, 'm.horn', { kernels, neurons: { SigmoidNeuron } });
    expect(loaded.parameters()).toEqual(m.parameters());
  });

  describe('malformed files', () => {
    const good = serializeModel(trainedModel());
    const headerLength = Buffer.from(good).readUInt32LE(12);
    const paramsAt = (16 + headerLength + 3) & ~3;

    test('too short for the preamble', () => expectFormatError(good.subarray(0, 10), 10, /16-byte preamble/));
    test('bad magic', () => {
      const b = Buffer.from(good);
      b.write('PK\x03\x04', 0, 'latin1');
      expectFormatError(b, 0, /bad magic/);
    });
    test('unsupported version', () => {
      const b = Buffer.from(good);
      b.writeUInt32LE(7, 8);
      expectFormatError(b, 8, /format version 7 is not supported/);
    });
    test('header length past the end', () => {
      const b = Buffer.from(good);
      b.writeUInt32LE(1e6, 12);
      expectFormatError(b, 12, /header length 1000000 runs past the end/);
    });
    test('header that is not JSON', () => {
      const b = Buffer.from(good);
      b.write('{"spec":#', 16, 'latin1');
      expectFormatError(b, 16 + 8, /not valid JSON/);
    });
    test('header with an invalid field', () => {
      const header = JSON.parse(Buffer.from(good).toString('utf8', 16, 16 + headerLength));
      header.spec.layers[0].activation = 'swish';
      const json = Buffer.from(JSON.stringify(header).padEnd(headerLength, ' '));
      const b = Buffer.from(good);
      json.copy(b, 16);
      expectFormatError(resealed(b), 16, /header field spec\.layers\[0\]\.activation/);
    });
    test('truncated parameters', () => expectFormatError(good.subarray(0, paramsAt + 40), paramsAt + 40, /header promises \d+ parameters at byte/));
    test('corrupted parameter bytes fail the checksum', () => {
      const b = Buffer.from(good);
      b[paramsAt + 5] ^= 0xff;
      expectFormatError(b, good.length - 4, /CRC-32 mismatch/);
    });
    test('a NaN parameter is reported at its offset', () => {
      const b = Buffer.from(good);
      b.writeFloatLE(NaN, paramsAt + 12);
      expectFormatError(resealed(b), paramsAt + 12, /parameter 3 is NaN/);
    });
  });
});

describe('jsonErrorIndex', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { jsonErrorIndex } = require('../../../src/engine/json-position') as typeof import('../../../src/engine/json-position');
  test.each([
    ['{"a":[1,2.5e3,true,null,"x\\u00e9"]}', -1],
    ['{"a":#}', 5],
    ['{"a":1,}', 7],
    ['[1 2]', 3],
    ['{"a":1} x', 8],
    ['"unterminated', 13],
  ])('%s → %d', (text, index) => expect(jsonErrorIndex(text)).toBe(index));
});
