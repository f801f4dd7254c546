// Ring all-reduce inside a group, over an abstract link to the ring neighbours, so the algorithm is
// tested in one process with fake peers and runs over authenticated TCP in containers.
//
// Reduce-scatter: the vector is cut into m chunks; in step t (0 … m−2) member r sends chunk
// (r − t) mod m to its right neighbour and adds the chunk (r − t − 1) mod m it receives from its
// left neighbour. After m − 1 steps member r holds chunk (r + 1) mod m summed over all members
// (ownedChunk in ranges.ts). All-gather: in step t member r sends chunk (r + 1 − t) mod m and
// overwrites chunk (r − t) mod m with what it receives. Each chunk is summed once, by one chain of
// members, and then copied everywhere: all members end with the same bits.
import { HornError } from '../common/errors';
import type { TensorCodec } from '../wire/tensors';
import { length, ownedChunk, type Range } from './ranges';

/** What travels between ring neighbours: a tagged chunk of values in the wire encoding. */
export interface RingChunk {
  /** Identifies the collective (e.g. the clock) so a desynchronised ring fails loudly. */
  readonly tag: number;
  readonly phase: 'reduce-scatter' | 'all-gather';
  readonly step: number;
  readonly chunk: number;
  readonly bytes: Uint8Array;
  /** Returns the received bytes' buffer for reuse once they are consumed. */
  readonly release?: () => void;
}

export interface RingLink {
  /** To the right neighbour; resolves once the bytes may be reused. */
  send(message: RingChunk): Promise<void>;
  /** The next chunk from the left neighbour. */
  receive(): Promise<RingChunk>;
  /** Ends the link (the group is being rebuilt): a waiting receive fails. */
  close?(): void;
}

export class RingDesyncError extends HornError {
  constructor(expected: string, got: RingChunk) {
    super(`ring all-reduce out of step: expected ${expected}, received ${got.phase} tag ${got.tag} step ${got.step} chunk ${got.chunk}`, 'internal', { tag: got.tag });
  }
}

/**
 * Adding a received chunk into the local one through fast kernels: the chunk is decoded into
 * `scratch` (at least the largest chunk long) and `add(scratch, target)` does target += scratch.
 */
export interface RingAccumulator {
  readonly scratch: Float32Array;
  add(source: Float32Array, target: Float32Array): void;
}

/**
 * A member's reusable memory for its collectives, so a step allocates nothing: `encoded` takes
 * each outgoing chunk in the wire encoding (fp16; at least the largest chunk's bytes) and is
 * reused once that chunk's send completed; `accumulator` adds received chunks (reduce-scatter).
 */
export interface RingWorkspace {
  readonly accumulator?: RingAccumulator;
  readonly encoded?: Uint8Array;
}

export interface RingTimings {
  /** Blocked on the first receive of the collective (mostly waiting for the slowest member). */
  waitingMs: number;
  /** The rest. */
  transferMs: number;
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

/** A member of a group's ring and what its collectives use. */
export interface RingMember {
  readonly chunks: readonly Range[];
  /** Its place on the ring. */
  readonly rank: number;
  readonly link: RingLink;
  readonly codec: TensorCodec;
  /** Added to (default: not kept). */
  readonly timings?: RingTimings;
  readonly now?: () => number;
  readonly workspace?: RingWorkspace;
}

async function ringPass(buf: Float32Array, tag: number, phase: RingChunk['phase'], member: RingMember, workspace: RingWorkspace): Promise<void> {
  const { chunks, rank, link, codec } = member;
  const timings = member.timings ?? { waitingMs: 0, transferMs: 0 };
  const now = member.now ?? (() => performance.now());
  const m = chunks.length;
  const accumulator = workspace.accumulator;
  for (let step = 0; step < m - 1; step++) {
    const sendIndex = phase === 'reduce-scatter' ? mod(rank - step, m) : mod(rank + 1 - step, m);
    const receiveIndex = phase === 'reduce-scatter' ? mod(rank - step - 1, m) : mod(rank - step, m);
    const out = chunks[sendIndex]!;
    const sent = link.send({ tag, phase, step, chunk: sendIndex, bytes: codec.encode(buf.subarray(out.start, out.end), workspace.encoded) });
    const t0 = now();
    const got = await link.receive();
    const t1 = now();
    if (step === 0) timings.waitingMs += t1 - t0;
    else timings.transferMs += t1 - t0;
    if (got.tag !== tag || got.phase !== phase || got.step !== step || got.chunk !== receiveIndex) {
      throw new RingDesyncError(`${phase} tag ${tag} step ${step} chunk ${receiveIndex}`, got);
    }
    const into = chunks[receiveIndex]!;
    if (got.bytes.byteLength !== length(into) * codec.bytesPerValue) {
      throw new HornError(`ring chunk ${receiveIndex} has ${got.bytes.byteLength} bytes, expected ${length(into) * codec.bytesPerValue}`, 'internal');
    }
    const target = buf.subarray(into.start, into.end);
    if (phase === 'all-gather') codec.decodeInto(got.bytes, target);
    else if (accumulator) {
      const scratch = accumulator.scratch.subarray(0, target.length);
      codec.decodeInto(got.bytes, scratch);
      accumulator.add(scratch, target);
    } else codec.decodeAdd(got.bytes, target);
    got.release?.();
    await sent;
    timings.transferMs += now() - t1;
  }
}

/** After it, `buf` holds the sum over the ring in chunk ownedChunk(rank) (other chunks are partial sums). */
export function reduceScatter(buf: Float32Array, tag: number, member: RingMember): Promise<void> {
  return ringPass(buf, tag, 'reduce-scatter', member, member.workspace ?? {});
}

/**
 * Before it, `buf` holds this member's final values in chunk ownedChunk(rank); after it, every chunk
 * holds its owner's values, rounded through the codec on every member alike (the owner's own chunk
 * included), so the members stay bit-identical.
 */
export async function allGather(buf: Float32Array, tag: number, member: RingMember): Promise<void> {
  const { chunks, rank, codec } = member;
  const encoded = member.workspace?.encoded;
  const own = chunks[ownedChunk(rank, chunks.length)]!;
  codec.round(buf.subarray(own.start, own.end), encoded);
  await ringPass(buf, tag, 'all-gather', member, { encoded });
}
