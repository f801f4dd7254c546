import { randomBytes } from 'node:crypto';
import { PeerLostError, WireRingLink } from '../../../src/container/peers';
import { connectWire, WireServer, type WireConnection } from '../../../src/wire/channel';

describe('ring link', () => {
  const secret = randomBytes(32);
  let server: WireServer;
  let port: number;

  beforeAll(async () => {
    server = new WireServer(secret, () => undefined, () => undefined);
    port = (await server.listen('127.0.0.1')).port;
  });
  afterAll(() => server.close());

  const connect = (id: string): Promise<WireConnection> => connectWire('127.0.0.1', port, secret, { role: 'worker', id });

  test('a send after the left neighbour is gone fails as a lost peer (recoverable), naming it', async () => {
    const right = await connect('1');
    const left = await connect('2');
    const link = new WireRingLink(right, 'worker 1', left, 'worker 2');
    const received = link.receive().catch((err: unknown) => err);
    left.close();
    const chunk = { tag: 0, phase: 'reduce-scatter' as const, step: 0, chunk: 0, bytes: new Uint8Array(8) };
    expect(() => link.send(chunk)).toThrow(PeerLostError);
    expect(() => link.send(chunk)).toThrow(/lost the connection to worker 2/);
    expect(await received).toBeInstanceOf(PeerLostError);
    right.close();
  });
});
