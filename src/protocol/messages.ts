// The messages horn's programs exchange over the authenticated wire (src/wire): control between the
// ApplicationMaster (or the local launcher) and its containers, and the data plane between workers
// (ring all-reduce) and from workers to parameter servers. Tensors travel in frame bodies, never in
// these headers. Every message is checked when read (`readMessage`), so a peer of another version or
// a corrupt frame fails with a message naming the type and field.
import { HornError } from '../common/errors';
import type { Frame, Message } from '../wire/frames';
import type { ContainerRole } from './env';
import type { ShardRange, StalenessStats, TimeShares, TrainingTotals } from './status';
import type { MemberPace } from '../cluster/balance';

export const PROTOCOL_VERSION = 2;

/** Bytes [start, end) of one input file and the DataNodes holding them (host, HTTP address). */
export interface AssignedRange {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly replicas: ReadonlyArray<{ readonly host: string; readonly httpAddress: string }>;
}

/** Where a peer listens for the data plane. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

// ---------------------------------------------------------------- container → coordinator

export interface HelloMessage {
  readonly type: 'hello';
  readonly protocol: number;
  readonly role: ContainerRole;
  readonly index: number;
  readonly attempt: number;
  readonly host: string;
  /** Data-plane port (workers: for their ring neighbour; servers: for workers). */
  readonly port: number;
}

/** A worker has read its split. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly records: number;
  readonly bytesLocal: number;
  readonly bytesRemote: number;
  readonly readSeconds: number;
  /** Its kernels, e.g. "native-avx2 on 2 threads". */
  readonly kernels: string;
}

export interface ProgressMessage {
  readonly type: 'progress';
  readonly phase?: string;
  readonly clock?: number;
  readonly epoch?: number;
  readonly loss?: number;
  readonly accuracy?: number;
  readonly samplesPerSecond?: number;
  readonly learningRate?: number;
  /** 0–1 of this worker's training. */
  readonly fraction?: number;
  readonly shares?: TimeShares;
  readonly staleness?: StalenessStats;
  /** Own time per step and compute per sample over recent steps (not waiting for others): the straggler signal. */
  readonly pace?: MemberPace;
}

export interface ServerProgressMessage {
  readonly type: 'server-progress';
  readonly clock: number;
  readonly updates: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly shard: ShardRange;
  /** Reads held back longer than expected: which groups are waited for, at which clock. */
  readonly waitingFor?: string;
}

/** A worker finished an epoch (its own numbers over the epoch). */
export interface EpochMessage {
  readonly type: 'epoch';
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly samples: number;
  readonly seconds: number;
  /** The median wall time of the epoch's steps (ms): its pace without the bursts a shared machine adds. */
  readonly stepMs?: number;
  /** Validation of this worker's share, with its weights at the epoch's end. */
  readonly validationCount?: number;
  readonly validationLoss?: number;
  readonly validationAccuracy?: number;
  readonly validationSeconds?: number;
}

export interface TrainedMessage extends TrainingTotals {
  readonly type: 'trained';
  readonly clock: number;
  readonly staleness?: StalenessStats;
  /** Tensor bytes this worker sent per step, on average. */
  readonly wireBytesPerStep: number;
}

export interface EvaluationMessage {
  readonly type: 'evaluation';
  readonly count: number;
  /** Sum of per-sample losses. */
  readonly lossSum: number;
  /** confusion[actual][predicted]. */
  readonly confusion: number[][];
  /** CRC-32 (hex) of the final parameters the worker evaluated with. */
  readonly checksum: string;
}

export interface SavedMessage {
  readonly type: 'saved';
  readonly model: string;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly message: string;
  /** Set when the error is a lost connection to another container ("worker 3", "server 0"). */
  readonly lostPeer?: string;
}

/** A worker stopped training because its group lost a member (after a pause, or seeing the loss itself). */
export interface PausedMessage {
  readonly type: 'paused';
  /** The clock it would have run next. */
  readonly clock: number;
}

/** A worker's whole training state (frame body: encodeState), asked of a donor when a member is replaced without servers. */
export interface StateMessage {
  readonly type: 'state';
  readonly clock: number;
}

/** A container wrote its file of the checkpoint at `clock`. */
export interface CheckpointedMessage {
  readonly type: 'checkpointed';
  readonly clock: number;
  readonly name: string;
  readonly bytes: number;
  readonly crc32: string;
}

/** A server's view of the group clocks (the reply to a clocks request). */
export interface ClocksMessage {
  readonly type: 'clocks';
  /** Last clock each group has fully pushed. */
  readonly pushed: number[];
}

export type ContainerMessage = CheckpointedMessage | PausedMessage | StateMessage | ClocksMessage | HelloMessage | ReadyMessage | ProgressMessage | ServerProgressMessage | EpochMessage | TrainedMessage | EvaluationMessage | SavedMessage | ErrorMessage;

// ---------------------------------------------------------------- coordinator → container

/** A worker's part of the job, sent in reply to its hello. */
export interface AssignMessage {
  readonly type: 'assign';
  readonly group: number;
  readonly rank: number;
  readonly ranges: readonly AssignedRange[];
  /** The worker's share of the test set: ranges of the test set's primary file. */
  readonly testRanges: readonly AssignedRange[];
}

/**
 * Everyone is there: the address book, and the steps per epoch from the largest split. Sent again
 * (with `clock`) to the members of a group that replaced a member: they rebuild their ring and go
 * on from that clock; without servers the frame body holds the whole state to take (encodeState).
 */
export interface StartMessage {
  readonly type: 'start';
  readonly workers: readonly PeerAddress[];
  readonly servers: readonly PeerAddress[];
  readonly stepsPerEpoch: number;
  /** The clock to continue from (absent: 0, the first start). */
  readonly clock?: number;
  /** Restore from the checkpoint at this clock first (a restarted AM, a rollback). */
  readonly restore?: number;
}

/** To a running server: roll back to the checkpoint at `clock` (0 without one: the initial weights). */
export interface RestoreMessage {
  readonly type: 'restore';
  readonly clock: number;
}

/** Stop stepping: a member of the group is lost (close the data plane, say `paused`, wait for `start`). */
export interface PauseMessage {
  readonly type: 'pause';
  readonly reason: string;
}

/** To the members of a group: from `fromClock` on, member r steps on sizes[r] samples (a straggler gets fewer). */
export interface RebalanceMessage {
  readonly type: 'rebalance';
  readonly fromClock: number;
  readonly sizes: number[];
}

/** To a group member without servers: send your whole training state. */
export interface StateRequestMessage {
  readonly type: 'state-request';
}

/** To a server: the group leaves (suspend) or comes back to (resume, at `clock`) the consistency rule. */
export interface GroupChangeMessage {
  readonly type: 'group-change';
  readonly group: number;
  readonly change: 'suspend' | 'resume';
  readonly clock?: number;
}

/** To a server: report your group clocks (reply: clocks). */
export interface ClocksRequestMessage {
  readonly type: 'clocks-request';
}

export interface EvaluateMessage {
  readonly type: 'evaluate';
}

export interface SaveMessage {
  readonly type: 'save';
  readonly testAccuracy?: number;
  readonly testLoss?: number;
}

export interface FinishMessage {
  readonly type: 'finish';
}

export interface AbortMessage {
  readonly type: 'abort';
  readonly reason: string;
}

export type CoordinatorMessage = RebalanceMessage | RestoreMessage | AssignMessage | StartMessage | PauseMessage | StateRequestMessage | GroupChangeMessage | ClocksRequestMessage | EvaluateMessage | SaveMessage | FinishMessage | AbortMessage;

// ---------------------------------------------------------------- data plane

/** Ring all-reduce chunk (body: the values in the wire encoding). */
export interface ChunkMessage {
  readonly type: 'chunk';
  readonly tag: number;
  readonly phase: 'reduce-scatter' | 'all-gather';
  readonly step: number;
  readonly chunk: number;
}

/** A group's averaged gradient for [start, end) at `clock` (body), answered with weights. */
export interface PushMessage {
  readonly type: 'push';
  readonly group: number;
  readonly member: number;
  readonly clock: number;
  readonly start: number;
  readonly end: number;
}

/** Weights without a push: before the first step (initial) and after training (final). */
export interface PullMessage {
  readonly type: 'pull';
  readonly group: number;
  readonly member: number;
  readonly start: number;
  readonly end: number;
  readonly kind: 'initial' | 'final';
}

/** The reply to a push or pull (body: weights of [start, end)). */
export interface WeightsMessage {
  readonly type: 'weights';
  readonly start: number;
  readonly end: number;
  /** How long the server held the read back for the consistency rule. */
  readonly heldMs: number;
  /** Clocks the slowest group lagged behind this read. */
  readonly staleness: number;
}

export type DataMessage = ChunkMessage | PushMessage | PullMessage | WeightsMessage;

export type AnyMessage = ContainerMessage | CoordinatorMessage | DataMessage;

// ---------------------------------------------------------------- checking

type FieldKind = 'number' | 'string' | 'object' | 'array' | 'number?' | 'string?' | 'object?' | 'array?';

const FIELDS: { readonly [T in AnyMessage['type']]: Readonly<Record<string, FieldKind>> } = {
  hello: { protocol: 'number', role: 'string', index: 'number', attempt: 'number', host: 'string', port: 'number' },
  ready: { records: 'number', bytesLocal: 'number', bytesRemote: 'number', readSeconds: 'number', kernels: 'string' },
  progress: { phase: 'string?', clock: 'number?', epoch: 'number?', loss: 'number?', accuracy: 'number?', samplesPerSecond: 'number?', fraction: 'number?', shares: 'object?', staleness: 'object?', pace: 'object?' },
  rebalance: { fromClock: 'number', sizes: 'array' },
  'server-progress': { clock: 'number', updates: 'number', bytesIn: 'number', bytesOut: 'number', shard: 'object', waitingFor: 'string?' },
  epoch: { epoch: 'number', loss: 'number', accuracy: 'number', samples: 'number', seconds: 'number', stepMs: 'number?', validationCount: 'number?', validationLoss: 'number?', validationAccuracy: 'number?', validationSeconds: 'number?' },
  trained: { clock: 'number', samples: 'number', seconds: 'number', samplesPerSecond: 'number', loss: 'number', accuracy: 'number', shares: 'object', staleness: 'object?', wireBytesPerStep: 'number' },
  evaluation: { count: 'number', lossSum: 'number', confusion: 'array', checksum: 'string' },
  saved: { model: 'string' },
  error: { message: 'string', lostPeer: 'string?' },
  paused: { clock: 'number' },
  checkpointed: { clock: 'number', name: 'string', bytes: 'number', crc32: 'string' },
  restore: { clock: 'number' },
  state: { clock: 'number' },
  clocks: { pushed: 'array' },
  assign: { group: 'number', rank: 'number', ranges: 'array', testRanges: 'array' },
  start: { workers: 'array', servers: 'array', stepsPerEpoch: 'number', clock: 'number?', restore: 'number?' },
  pause: { reason: 'string' },
  'state-request': {},
  'group-change': { group: 'number', change: 'string', clock: 'number?' },
  'clocks-request': {},
  evaluate: {},
  save: { testAccuracy: 'number?', testLoss: 'number?' },
  finish: {},
  abort: { reason: 'string' },
  chunk: { tag: 'number', phase: 'string', step: 'number', chunk: 'number' },
  push: { group: 'number', member: 'number', clock: 'number', start: 'number', end: 'number' },
  pull: { group: 'number', member: 'number', start: 'number', end: 'number', kind: 'string' },
  weights: { start: 'number', end: 'number', heldMs: 'number', staleness: 'number' },
};

export class MessageError extends HornError {
  constructor(message: string, context: Record<string, string> = {}) {
    super(message, 'internal', context);
  }
}

function kindOf(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

/** The frame's header as one of `allowed` message types, every field checked; else a MessageError. */
export function readMessage<T extends AnyMessage['type']>(frame: Frame, allowed: readonly T[], from: string): Extract<AnyMessage, { type: T }> {
  const h = frame.header;
  if (!(allowed as readonly string[]).includes(h.type)) {
    throw new MessageError(`unexpected ${JSON.stringify(h.type)} message from ${from} (expected ${allowed.join(', ')})`, { type: h.type });
  }
  for (const [field, kind] of Object.entries(FIELDS[h.type as T])) {
    const optional = kind.endsWith('?');
    const want = optional ? kind.slice(0, -1) : kind;
    const v = h[field];
    if (v === undefined && optional) continue;
    if (kindOf(v) !== want || (want === 'number' && !Number.isFinite(v))) {
      throw new MessageError(`${h.type} message from ${from}: field ${field} should be ${want}, is ${v === undefined ? 'missing' : kindOf(v)}`, { type: h.type, field });
    }
  }
  return h as unknown as Extract<AnyMessage, { type: T }>;
}

/** A typed message as a frame header. */
export function asHeader(m: AnyMessage): Message {
  return m as unknown as Message;
}

export const CONTAINER_MESSAGES = ['hello', 'ready', 'progress', 'server-progress', 'epoch', 'trained', 'evaluation', 'saved', 'error', 'paused', 'state', 'clocks', 'checkpointed'] as const;
export const COORDINATOR_MESSAGES = ['assign', 'start', 'rebalance', 'restore', 'pause', 'state-request', 'group-change', 'clocks-request', 'evaluate', 'save', 'finish', 'abort'] as const;

