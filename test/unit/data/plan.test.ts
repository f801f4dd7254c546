import { parseIdxHeader, planIdxRange, planLineRange, splitAt, splitEvenly } from '../../../src/data/plan';
import { DataFormatError } from '../../../src/data/errors';
import { makeIdxPair, rng } from './generate';

test('splitEvenly and splitAt cover [0, size) without gaps or overlaps', () => {
  for (const ranges of [splitEvenly(10, 3), splitEvenly(2, 5), splitAt(100, [50, 3, 50, 0, 100, 200, 99])]) {
    let pos = 0;
    for (const r of ranges) {
      expect(r.start).toBe(pos);
      expect(r.end).toBeGreaterThanOrEqual(r.start);
      pos = r.end;
    }
  }
  expect(splitAt(100, [50, 3, 99]).map((r) => [r.start, r.end])).toEqual([[0, 3], [3, 50], [50, 99], [99, 100]]);
});

test('planLineRange: range 0 reads from 0; later ranges read from start-1 and skip through a newline', () => {
  expect(planLineRange({ start: 0, end: 10 })).toEqual({ fetchOffset: 0, skipThroughNewline: false, ownedBefore: 10 });
  expect(planLineRange({ start: 7, end: 10 })).toEqual({ fetchOffset: 6, skipThroughNewline: true, ownedBefore: 10 });
  expect(() => planLineRange({ start: 5, end: 4 })).toThrow(RangeError);
});

test('planIdxRange: over every split of a small file, each record is planned exactly once', () => {
  const { images } = makeIdxPair(rng(1), 7, 2, 3); // 16-byte header, 6-byte records
  const header = parseIdxHeader(images, 'x', images.length);
  expect(header).toMatchObject({ count: 7, headerBytes: 16, recordBytes: 6, valuesPerRecord: 6 });
  const rand = rng(2);
  for (let trial = 0; trial < 500; trial++) {
    const cuts = Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * images.length));
    const seen: number[] = [];
    for (const r of splitAt(images.length, cuts)) {
      const p = planIdxRange(header, r);
      expect(p.fetchOffset).toBe(16 + p.firstRecord * 6);
      expect(p.fetchLength).toBe(p.recordCount * 6);
      if (p.recordCount > 0) expect(p.fetchOffset).toBeGreaterThanOrEqual(r.start);
      if (p.recordCount > 0) expect(p.fetchOffset).toBeLessThan(r.end);
      for (let k = 0; k < p.recordCount; k++) seen.push(p.firstRecord + k);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
  }
});

test('parseIdxHeader rejects bad magic, unknown types and truncated files with the offset', () => {
  const { images } = makeIdxPair(rng(1), 3, 2, 2);
  const bad = images.slice();
  bad[0] = 1;
  expect(() => parseIdxHeader(bad, 'f.idx')).toThrow(DataFormatError);
  const badType = images.slice();
  badType[2] = 0x0a;
  expect(() => parseIdxHeader(badType, 'f.idx')).toThrow(/unknown IDX element type 0x0a.*byte 2/);
  expect(() => parseIdxHeader(images, 'f.idx', images.length - 1)).toThrow(/truncated/);
});
