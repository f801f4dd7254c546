// An in-process ring of RingLinks for tests of the all-reduce and of groups of workers.
import type { RingChunk, RingLink } from '../../../src/cluster/allreduce';

/** In-process ring: member r sends into queue r, member r+1 receives from it. */
export function fakeRing(m: number, delays?: () => number): RingLink[] {
  const queues = Array.from({ length: m }, () => ({ items: [] as RingChunk[], waiters: [] as Array<(c: RingChunk) => void>, last: Promise.resolve() }));
  return Array.from({ length: m }, (_, r) => ({
    async send(c: RingChunk) {
      // A copy, as a socket would make: the sender may reuse its buffer afterwards.
      const q = queues[r]!;
      const msg = { ...c, bytes: c.bytes.slice() };
      const deliver = () => {
        const w = q.waiters.shift();
        if (w) w(msg);
        else q.items.push(msg);
      };
      // Delayed but in order, like TCP.
      const d = delays?.() ?? 0;
      if (d > 0) q.last = q.last.then(() => new Promise<void>((r) => setTimeout(() => (deliver(), r()), d)));
      else q.last = q.last.then(deliver);
    },
    receive() {
      const q = queues[(r + m - 1) % m]!;
      const item = q.items.shift();
      return item ? Promise.resolve(item) : new Promise<RingChunk>((resolve) => q.waiters.push(resolve));
    },
  }));
}
