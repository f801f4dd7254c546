import { Arena } from '../../../src/engine/kernels/arena';
import { KernelArgumentError, KernelMemoryExhaustedError } from '../../../src/engine/kernels/errors';

// The allocator behind the WebAssembly backends' alloc/free: a first-fit free list over a
// fixed range, 64-byte aligned, coalescing on release.

test('allocations are 64-byte aligned, disjoint, and start at or after the start', () => {
  const arena = new Arena(1000, 1000 + 4096);
  const a = arena.allocate(10);
  const b = arena.allocate(100);
  const c = arena.allocate(1);
  expect(a).toBeGreaterThanOrEqual(1000);
  for (const o of [a, b, c]) expect(o % 64).toBe(0);
  expect(b).toBeGreaterThanOrEqual(a + 64);
  expect(c).toBeGreaterThanOrEqual(b + 128);
});

test('exhaustion is a typed error that reports the request and what is free', () => {
  const arena = new Arena(0, 1024);
  arena.allocate(512);
  try {
    arena.allocate(1000);
    throw new Error('expected KernelMemoryExhaustedError');
  } catch (error) {
    expect(error).toBeInstanceOf(KernelMemoryExhaustedError);
    const e = error as KernelMemoryExhaustedError;
    expect([e.requestedBytes, e.freeBytes, e.capacityBytes]).toEqual([1000, 512, 1024]);
  }
});

test('released neighbours coalesce, so a block freed in pieces can be allocated whole', () => {
  const arena = new Arena(0, 64 * 8);
  const blocks = Array.from({ length: 8 }, () => arena.allocate(64));
  expect(() => arena.allocate(64)).toThrow(KernelMemoryExhaustedError);
  // Free in an order that exercises merging with the previous, the next, and both.
  for (const i of [1, 3, 2, 0, 6, 4, 5, 7]) arena.release(blocks[i]);
  expect(arena.freeBytes).toBe(64 * 8);
  expect(arena.allocate(64 * 8)).toBe(0);
});

test('releasing an offset that is not a live allocation is rejected', () => {
  const arena = new Arena(0, 1024);
  const a = arena.allocate(64);
  expect(() => arena.release(a + 4)).toThrow(KernelArgumentError);
  arena.release(a);
  expect(() => arena.release(a)).toThrow(KernelArgumentError);
});

test('a random sequence of allocations and releases never overlaps live blocks', () => {
  const arena = new Arena(128, 128 + 64 * 1024);
  const live = new Map<number, number>();
  let seed = 99;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let step = 0; step < 2000; step++) {
    if (live.size > 0 && random() < 0.45) {
      const keys = [...live.keys()];
      const offset = keys[Math.floor(random() * keys.length)];
      arena.release(offset);
      live.delete(offset);
      continue;
    }
    const bytes = 1 + Math.floor(random() * 3000);
    let offset: number;
    try {
      offset = arena.allocate(bytes);
    } catch (error) {
      if (!(error instanceof KernelMemoryExhaustedError)) throw error;
      continue;
    }
    if (offset + bytes > 128 + 64 * 1024) throw new Error(`step ${step}: block ends past the arena`);
    const overlapping = [...live].filter(([o, b]) => !(offset + bytes <= o || o + b <= offset));
    if (overlapping.length > 0) throw new Error(`step ${step}: [${offset}, +${bytes}) overlaps ${JSON.stringify(overlapping)}`);
    live.set(offset, bytes);
  }
});
