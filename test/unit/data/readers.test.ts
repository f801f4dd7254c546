import { type DatasetSpec, newStats, readBatches, readRecords, type ReadOptions } from '../../../src/data/dataset';
import { DataFormatError, MalformedRecordError, TooManyMalformedError } from '../../../src/data/errors';
import { memoryFiles } from '../../../src/data/source';
import { makeIdxPair, rng } from './generate';

const enc = new TextEncoder();
const csvSpec = (header = false): DatasetSpec => ({ format: 'csv', path: 'data.csv', csv: { delimiter: ',', labelColumn: 0, header } });

async function drain(source: ReturnType<typeof memoryFiles>, spec: DatasetSpec, opts: ReadOptions = {}, stats = newStats()) {
  const out = [];
  for await (const r of readRecords(source, spec, opts, stats)) out.push(r);
  return { records: out, stats };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('malformed records', () => {
  const text = 'y,a,b\n1,0.5,2\n0,abc,3\n2,1,1\n1,2\n0,1,1\n';
  const source = memoryFiles({ 'data.csv': enc.encode(text) }, 5);

  test('fail by default, naming file, byte offset and line', async () => {
    const err = await rejection(drain(source, csvSpec(true)));
    expect(err).toBeInstanceOf(TooManyMalformedError);
    const last = (err as TooManyMalformedError).last;
    expect(last).toBeInstanceOf(MalformedRecordError);
    expect(last).toMatchObject({ file: 'data.csv', offset: text.indexOf('0,abc'), line: 3 });
    expect((err as Error).message).toMatch(/data\.csv: malformed record at byte 14 \(line 3\): field 2 is not a number: "abc"/);
  });

  test('skip up to maxMalformed, counted', async () => {
    const { records, stats } = await drain(source, csvSpec(true), { maxMalformed: 2, classes: 3 });
    expect(records.map((r) => r.label)).toEqual([1, 2, 0]);
    expect(stats).toMatchObject({ records: 3, malformed: 2 });
    expect(stats.skipped.map((e) => e.line)).toEqual([3, 5]);
    expect(stats.skipped[1]!.reason).toMatch(/expected 3 fields/);
  });

  test('one more than maxMalformed fails', async () => {
    const err = await rejection(drain(source, csvSpec(true), { maxMalformed: 1 }));
    expect(err).toBeInstanceOf(TooManyMalformedError);
    expect((err as TooManyMalformedError).last.line).toBe(5);
  });

  test('a label outside the classes is malformed', async () => {
    const { stats } = await drain(source, csvSpec(true), { maxMalformed: 5, classes: 2 });
    expect(stats.malformed).toBe(3);
    expect(stats.skipped[1]).toMatchObject({ line: 4, offset: text.indexOf('2,1,1') });
    expect(stats.skipped[1]!.reason).toMatch(/label 2 is not a class index in \[0, 1\]/);
  });

  test('ranges not starting at 0 report the offset but no line number', async () => {
    const { stats } = await drain(source, csvSpec(true), { maxMalformed: 5, range: { start: 10, end: text.length } });
    expect(stats.skipped[0]).toMatchObject({ offset: 14, line: undefined });
  });

  test('LibSVM: index out of range, duplicates and bad tokens', async () => {
    const svm = '1 1:0.5 3:1\n0 4:1\n1 2:1 2:3\n0 x\n1 1:1 # comment\n';
    const src = memoryFiles({ 's.svm': enc.encode(svm) });
    const spec: DatasetSpec = { format: 'libsvm', path: 's.svm', libsvm: { features: 3, indexBase: 1 } };
    const { records, stats } = await drain(src, spec, { maxMalformed: 10 });
    expect(records.map((r) => Array.from(r.features))).toEqual([[0.5, 0, 1], [1, 0, 0]]);
    expect(stats.skipped.map((e) => [e.line, e.offset])).toEqual([[2, 12], [3, 18], [4, 28]]);
    expect(stats.skipped[0]!.reason).toMatch(/feature index 4 outside \[1, 3\]/);
    expect(stats.skipped[1]!.reason).toMatch(/appears twice/);
  });

  test('IDX: a label out of range names the labels file and its byte', async () => {
    const g = makeIdxPair(rng(3), 5, 2, 2);
    g.labels[8 + 3] = 12;
    const src = memoryFiles({ i: g.images, l: g.labels });
    const err = await rejection(drain(src, { format: 'idx', images: 'i', labels: 'l' }, { classes: 10 }));
    expect((err as TooManyMalformedError).last).toMatchObject({ file: 'l', offset: 11 });
  });

  test('IDX: mismatched counts and truncated files are format errors', async () => {
    const g = makeIdxPair(rng(3), 5, 2, 2);
    const shortLabels = makeIdxPair(rng(3), 4, 2, 2).labels;
    const err = await rejection(drain(memoryFiles({ i: g.images, l: shortLabels }), { format: 'idx', images: 'i', labels: 'l' }));
    expect(err).toBeInstanceOf(DataFormatError);
    expect((err as Error).message).toMatch(/labels file has 4 records, the images file i has 5/);
    const cut = await rejection(drain(memoryFiles({ i: g.images.subarray(0, g.images.length - 1), l: g.labels }), { format: 'idx', images: 'i', labels: 'l' }));
    expect(cut).toBeInstanceOf(DataFormatError);
  });
});

describe('batches', () => {
  test('IDX: normalised pixels, one-hot labels, last batch smaller', async () => {
    const g = makeIdxPair(rng(9), 5, 1, 3);
    const src = memoryFiles({ i: g.images, l: g.labels }, 4);
    const batches = [];
    for await (const b of readBatches(src, { format: 'idx', images: 'i', labels: 'l' }, 2, { classes: 10, normalize: 'byte' })) batches.push(b);
    expect(batches.map((b) => b.count)).toEqual([2, 2, 1]);
    expect(batches[2]!.x).toHaveLength(3);
    expect(batches[2]!.y).toHaveLength(10);
    const b0 = batches[0]!;
    expect(b0.features).toBe(3);
    expect(b0.outputs).toBe(10);
    expect(Array.from(b0.x.subarray(0, 3))).toEqual(g.records[0]!.features.map((v) => Math.fround(v / 255)));
    const row1 = Array.from(b0.y.subarray(10, 20));
    expect(row1.indexOf(1)).toBe(g.records[1]!.label);
    expect(row1.reduce((a, v) => a + v, 0)).toBe(1);
  });

  test('regression: y holds the label', async () => {
    const src = memoryFiles({ 'data.csv': enc.encode('1.5,1,2\n-2,3,4\n') });
    const batches = [];
    for await (const b of readBatches(src, csvSpec(), 8)) batches.push(b);
    expect(batches).toHaveLength(1);
    expect(Array.from(batches[0]!.y)).toEqual([1.5, -2]);
    expect(Array.from(batches[0]!.x)).toEqual([1, 2, 3, 4]);
  });
});
