// A worker's part of one training step after it computed its gradient: the group reduces the
// gradient over its ring (reduce-scatter), so each member holds the group's mean gradient of one
// chunk. With parameter servers, each member pushes its chunk to the servers owning its pieces and
// receives fresh weights for it, and the group all-gathers the weights: every member moves 1/m of
// the tensors to and from the servers (no hot link). Without servers the group all-gathers the mean
// gradient and every member applies the same optimizer step to all parameters (Horovod's shape),
// so any member holds the whole state a replacement or a checkpoint needs. Either way all members
// of a group hold the same bits after every step.
import { HornError } from '../common/errors';
import { allGather, reduceScatter, type RingLink, type RingMember, type RingTimings } from '../cluster/allreduce';
import type { Kernels } from '../engine';
import { memberChunk, partition, piecesOf, ringPosition, type Range } from '../cluster/ranges';
import { asHeader, readMessage } from '../protocol/messages';
import type { StalenessStats } from '../protocol/status';
import type { TensorCodec } from '../wire/tensors';
import type { WireConnection } from '../wire/channel';
import { PeerLostError } from './peers';

export interface ServerLinks {
  readonly shards: readonly Range[];
  readonly connections: readonly WireConnection[];
}

export interface ExchangeOptions {
  readonly group: number;
  readonly rank: number;
  readonly groupSize: number;
  readonly parameterCount: number;
  readonly codec: TensorCodec;
  /** The group's ring; absent in a group of one. */
  readonly ring?: RingLink;
  /** Parameter servers; absent when the group updates itself (all-reduce data parallelism). */
  readonly servers?: ServerLinks;
  /** Without servers: applies the optimizer to all parameters with the (gathered) mean gradient. */
  readonly applyLocally?: (clock: number) => void;
  /** A server may hold a read back (consistency) at most this long. */
  readonly requestTimeoutMs: number;
  /** The model's kernels: the gradient lives in their memory and is summed and scaled there. */
  readonly kernels: Kernels;
}

export class GroupExchange {
  readonly chunks: Range[];
  readonly owned: Range;
  /** This member's place on the ring's data path (ranges.ts ringPosition). */
  private readonly ringRank: number;
  /** Time blocked on others (a slower member, a server holding a read for the staleness bound). */
  waitingMs = 0;
  communicationMs = 0;
  /** Tensor bytes pushed to servers (the ring link counts its own). */
  bytesSent = 0;
  private readonly ringTimings: RingTimings = { waitingMs: 0, transferMs: 0 };
  private readonly stalenessSeen = { max: 0, sum: 0, reads: 0 };
  /** This member on its group's ring (absent in a group of one). */
  private readonly member: RingMember | undefined;
  /** Encoded pushes, one buffer per server this member pushes to (each reused once its push is answered). */
  private readonly pushEncoded = new Map<number, Uint8Array>();

  constructor(private readonly o: ExchangeOptions) {
    this.chunks = partition(o.parameterCount, o.groupSize);
    this.ringRank = ringPosition(o.rank, o.groupSize);
    this.owned = this.chunks[memberChunk(o.rank, o.groupSize)]!;
    if (o.groupSize > 1 && !o.ring) throw new HornError('a group of several workers needs its ring', 'internal');
    if (!o.servers && !o.applyLocally) throw new HornError('an exchange needs parameter servers or a local optimizer', 'internal');
    const k = o.kernels;
    const largest = Math.max(...this.chunks.map((c) => c.end - c.start));
    this.member = o.ring && {
      chunks: this.chunks,
      rank: this.ringRank,
      link: o.ring,
      codec: o.codec,
      timings: this.ringTimings,
      workspace: {
        accumulator: { scratch: k.alloc(largest), add: (src, dst) => k.axpy(1, src, dst, dst.length) },
        encoded: o.codec.name === 'fp32' ? undefined : new Uint8Array(largest * o.codec.bytesPerValue),
      },
    };
  }

  get staleness(): StalenessStats | undefined {
    const s = this.stalenessSeen;
    return s.reads ? { max: s.max, mean: s.sum / s.reads, reads: s.reads } : undefined;
  }

  /** With servers, every member starts from the servers' weights. */
  async initialize(params: Float32Array): Promise<void> {
    if (!this.o.servers) return;
    await this.pull(params, 'initial');
    await this.gather(params, -1);
  }

  /** Time blocked on others in the last step. */
  lastWaitMs = 0;

  /**
   * `grads` (the mean gradient of this member's batch) in, the group's new weights out in `params`.
   * `weight` is this member's share of the group's samples (absent: 1/m each), so the group's
   * gradient is the mean over all its samples even when members' batches differ.
   */
  async step(clock: number, grads: Float32Array, params: Float32Array, weight?: number): Promise<void> {
    const m = this.o.groupSize;
    const started = performance.now();
    const waitBefore = this.ringTimings.waitingMs;
    if (weight !== undefined && m > 1 && Math.abs(weight * m - 1) > 1e-12) this.o.kernels.scale(grads, weight * m, grads.length);
    if (this.member) await reduceScatter(grads, clock, this.member);
    const own = grads.subarray(this.owned.start, this.owned.end);
    if (m > 1) this.o.kernels.scale(own, 1 / m, own.length);
    let held = 0;
    if (this.o.servers) {
      held = await this.push(clock, own, params);
      if (this.member) await allGather(params, clock, this.member);
    } else {
      if (this.member) await allGather(grads, clock, this.member);
      this.o.applyLocally!(clock);
    }
    const total = performance.now() - started;
    const ringWait = this.ringTimings.waitingMs - waitBefore;
    this.lastWaitMs = ringWait + held;
    this.waitingMs += ringWait + held;
    this.communicationMs += Math.max(0, total - ringWait - held);
  }

  /** Closes the data plane (the ring and the server connections): a step in flight fails with PeerLostError. */
  close(): void {
    this.o.ring?.close?.();
    for (const c of this.o.servers?.connections ?? []) c.close();
  }

  /** After training (with servers): the final weights, once every group has finished. */
  async finalize(params: Float32Array): Promise<void> {
    if (!this.o.servers) return;
    await this.pull(params, 'final');
    await this.gather(params, -2);
  }

  private async gather(params: Float32Array, tag: number): Promise<void> {
    if (this.member) await allGather(params, tag, this.member);
  }

  /** Pushes this member's chunk of the group's mean gradient; returns how long servers held it. */
  private async push(clock: number, own: Float32Array, params: Float32Array): Promise<number> {
    const { shards, connections } = this.o.servers!;
    const replies = piecesOf(this.owned, shards).map(async ({ index, range }) => {
      const body = this.o.codec.encode(own.subarray(range.start - this.owned.start, range.end - this.owned.start), this.pushScratch(index, range));
      this.bytesSent += body.byteLength;
      const header = asHeader({ type: 'push', group: this.o.group, member: this.o.rank, clock, start: range.start, end: range.end });
      return this.receiveWeights(index, await this.request(connections[index]!, `server ${index}`, header, body), range, params);
    });
    return Math.max(0, ...(await Promise.all(replies)));
  }

  private pushScratch(server: number, range: Range): Uint8Array | undefined {
    if (this.o.codec.name === 'fp32') return undefined;
    let scratch = this.pushEncoded.get(server);
    if (!scratch) this.pushEncoded.set(server, (scratch = new Uint8Array((range.end - range.start) * this.o.codec.bytesPerValue)));
    return scratch;
  }

  private async pull(params: Float32Array, kind: 'initial' | 'final'): Promise<void> {
    const { shards, connections } = this.o.servers!;
    await Promise.all(
      piecesOf(this.owned, shards).map(async ({ index, range }) => {
        const header = asHeader({ type: 'pull', group: this.o.group, member: this.o.rank, start: range.start, end: range.end, kind });
        this.receiveWeights(index, await this.request(connections[index]!, `server ${index}`, header), range, params);
      }),
    );
  }

  private async request(c: WireConnection, name: string, header: ReturnType<typeof asHeader>, body?: Uint8Array) {
    try {
      return await c.request(header, body, this.o.requestTimeoutMs);
    } catch (err) {
      throw err instanceof HornError && err.kind === 'timeout' ? err : new PeerLostError(name, err as Error);
    }
  }

  private receiveWeights(index: number, frame: Awaited<ReturnType<WireConnection['request']>>, range: Range, params: Float32Array): number {
    const m = readMessage(frame, ['weights'], `server ${index}`);
    if (m.start !== range.start || m.end !== range.end) throw new HornError(`server ${index} answered weights [${m.start}, ${m.end}) for [${range.start}, ${range.end})`, 'internal');
    const target = params.subarray(range.start, range.end);
    const bytes = frame.body ?? new Uint8Array(0);
    if (bytes.byteLength !== target.length * this.o.codec.bytesPerValue) throw new HornError(`server ${index} sent ${bytes.byteLength} bytes for ${target.length} weights`, 'internal');
    this.o.codec.decodeInto(bytes, target);
    frame.release?.();
    const s = this.stalenessSeen;
    s.max = Math.max(s.max, m.staleness);
    s.sum += m.staleness;
    s.reads++;
    return m.heldMs;
  }
}
