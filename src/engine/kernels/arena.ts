import { KernelArgumentError, KernelMemoryExhaustedError } from './errors';

// Allocation of byte ranges inside a fixed-size linear memory. The WebAssembly memory never
// grows (growing detaches every Float32Array already handed out), so this is a first-fit
// free list over one reservation, coalescing neighbours on free. Allocation happens at model
// set-up, not per step, so linear scans are fine.

const ALIGN = 64; // a cache line: vector loads never straddle lines at the start of an array

interface Block {
  offset: number;
  bytes: number;
}

export class Arena {
  private readonly free: Block[];
  private readonly live = new Map<number, number>();
  private freeBytesTotal: number;

  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    const first = alignUp(start);
    this.free = first < end ? [{ offset: first, bytes: end - first }] : [];
    this.freeBytesTotal = Math.max(0, end - first);
  }

  get capacityBytes(): number {
    return this.end - this.start;
  }

  get freeBytes(): number {
    return this.freeBytesTotal;
  }

  /** Byte offset of a new block of at least `bytes` bytes (64-byte aligned). */
  allocate(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1));
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.bytes < size) continue;
      const offset = block.offset;
      if (block.bytes === size) this.free.splice(i, 1);
      else this.free[i] = { offset: offset + size, bytes: block.bytes - size };
      this.live.set(offset, size);
      this.freeBytesTotal -= size;
      return offset;
    }
    throw new KernelMemoryExhaustedError(bytes, this.freeBytesTotal, this.capacityBytes);
  }

  /** Returns the block starting at `offset` to the free list. */
  release(offset: number): void {
    const size = this.live.get(offset);
    if (size === undefined) throw new KernelArgumentError('free', 'array', `byte offset ${offset} is not the start of a live allocation`);
    this.live.delete(offset);
    this.freeBytesTotal += size;
    let i = 0;
    while (i < this.free.length && this.free[i].offset < offset) i++;
    this.free.splice(i, 0, { offset, bytes: size });
    // Coalesce with the following block, then with the preceding one.
    if (i + 1 < this.free.length && offset + size === this.free[i + 1].offset) {
      this.free[i].bytes += this.free[i + 1].bytes;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].offset + this.free[i - 1].bytes === offset) {
      this.free[i - 1].bytes += this.free[i].bytes;
      this.free.splice(i, 1);
    }
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
