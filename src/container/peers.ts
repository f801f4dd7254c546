// The data plane of a worker over horn's authenticated wire: the ring link to its group's
// neighbours (src/cluster/allreduce.ts) and clients of the parameter-server shards.
import { AsyncQueue } from '../common/queue';
import type { RingChunk, RingLink } from '../cluster/allreduce';
import { asHeader, readMessage, type PeerAddress } from '../protocol/messages';
import { connectWire, type PeerIdentity, type WireConnection } from '../wire/channel';
import type { Frame } from '../wire/frames';

/** A connection that was lost while a peer needed it: its error names the peer. */
export class PeerLostError extends Error {
  constructor(readonly peer: string, cause?: Error) {
    super(`lost the connection to ${peer}${cause ? ` (${cause.message})` : ''}`);
    this.name = 'PeerLostError';
  }
}

/**
 * The ring's data flows leftwards: a member receives on the connection it opened to its right
 * neighbour (a client socket, which reads into one reused buffer: channel.ts SocketBytes) and
 * sends on the one its left neighbour opened. GroupExchange places members on the ring
 * accordingly (ranges.ts ringPosition).
 */
export class WireRingLink implements RingLink {
  private readonly incoming = new AsyncQueue<RingChunk>();
  bytesSent = 0;

  constructor(private readonly right: WireConnection, rightName: string, private readonly left: WireConnection, private readonly leftName: string) {
    right.on('message', (f: Frame) => {
      try {
        const m = readMessage(f, ['chunk'], rightName);
        this.incoming.push({ tag: m.tag, phase: m.phase, step: m.step, chunk: m.chunk, bytes: f.body ?? new Uint8Array(0), release: f.release });
      } catch (err) {
        this.incoming.fail(err as Error);
      }
    });
    left.on('close', (err?: Error) => this.incoming.fail(new PeerLostError(leftName, err)));
    right.on('close', (err?: Error) => this.incoming.fail(new PeerLostError(rightName, err)));
  }

  send(c: RingChunk): Promise<void> {
    // The left neighbour may be gone between two steps of a collective (its 'close' has failed
    // `incoming` already): fail as the receive would, so the worker waits for the group's rebuild
    // instead of failing on the connection's own error.
    if (this.left.isClosed) throw new PeerLostError(this.leftName);
    this.bytesSent += c.bytes.byteLength;
    return this.left.send(asHeader({ type: 'chunk', tag: c.tag, phase: c.phase, step: c.step, chunk: c.chunk }), c.bytes);
  }

  receive(): Promise<RingChunk> {
    return this.incoming.take();
  }

  /** Closes both connections (a group being rebuilt); a receive waiting now fails. */
  close(): void {
    this.incoming.fail(new PeerLostError('the ring (closed for a rebuild)'));
    this.right.close();
    this.left.close();
  }
}

export async function connectPeer(address: PeerAddress, secret: Uint8Array, self: PeerIdentity): Promise<WireConnection> {
  return connectWire(address.host, address.port, secret, self);
}
