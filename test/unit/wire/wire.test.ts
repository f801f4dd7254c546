import { randomBytes } from 'node:crypto';
import { connectWire, WireServer, type WireConnection } from '../../../src/wire/channel';
import { encodeFrame, FrameDecoder, type Frame } from '../../../src/wire/frames';

describe('frames', () => {
  test('reassemble from chunks of every size, header and binary body intact', () => {
    const frames: Frame[] = [
      { header: { type: 'a', n: 1 } },
      { header: { type: 'tensor', shape: [2, 3] }, body: new Uint8Array(Float32Array.from([1, 2, 3, 4, 5, 6]).buffer) },
      { header: { type: 'ü', text: 'multi-byte ✓' }, body: new Uint8Array([0]) },
    ];
    const bytes = Buffer.concat(frames.map(encodeFrame));
    for (const size of [1, 2, 3, 7, 13, bytes.length]) {
      const decoder = new FrameDecoder();
      const out: Frame[] = [];
      for (let i = 0; i < bytes.length; i += size) out.push(...decoder.push(bytes.subarray(i, i + size)));
      expect(out.map((f) => f.header)).toEqual(frames.map((f) => f.header));
      expect(out.map((f) => (f.body ? Buffer.from(f.body).toString('hex') : undefined))).toEqual(frames.map((f) => (f.body ? Buffer.from(f.body).toString('hex') : undefined)));
    }
  });

  test('transient chunks (a read buffer reused after each push) decode as if they were kept', () => {
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const frames: Frame[] = [{ header: { type: 'small' }, body: new Uint8Array([1, 2, 3]) }, { header: { type: 'big' }, body: big }, { header: { type: 'last', n: 2 } }];
    const bytes = Buffer.concat(frames.map(encodeFrame));
    for (const size of [1, 5, 4096, 65_536, bytes.length]) {
      const decoder = new FrameDecoder();
      const reused = Buffer.alloc(size);
      const out: Frame[] = [];
      for (let i = 0; i < bytes.length; i += size) {
        const n = bytes.copy(reused, 0, i, i + size);
        out.push(...decoder.push(reused.subarray(0, n), true));
        reused.fill(0xee);
      }
      expect(out.map((f) => f.header)).toEqual(frames.map((f) => f.header));
      expect(out.map((f) => (f.body ? Buffer.from(f.body).toString('hex') : undefined))).toEqual(frames.map((f) => (f.body ? Buffer.from(f.body).toString('hex') : undefined)));
    }
  });

  test('a corrupt length is refused, not buffered forever', () => {
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(0xffffffff, 0);
    expect(() => new FrameDecoder().push(bad)).toThrow(/invalid frame length/);
  });
});

describe('authenticated channel', () => {
  const secret = randomBytes(32);
  let server: WireServer;
  let port: number;
  const received: Array<{ peer: string; frame: Frame }> = [];
  const rejected: string[] = [];

  beforeAll(async () => {
    server = new WireServer(
      secret,
      (c: WireConnection) => {
        c.on('message', (frame: Frame) => {
          received.push({ peer: `${c.peer.role}/${c.peer.id}`, frame });
          if (frame.header.type === 'echo') c.reply(frame, { type: 'echoed', value: frame.header.value }, frame.body);
        });
      },
      (reason) => rejected.push(reason),
    );
    port = (await server.listen('127.0.0.1')).port;
  });
  afterAll(() => server.close());

  test('a peer with the secret is admitted, named, and gets replies to requests', async () => {
    const c = await connectWire('127.0.0.1', port, secret, { role: 'worker', id: '3' });
    c.send({ type: 'progress', epoch: 1 });
    const reply = await c.request({ type: 'echo', value: 42 }, new Uint8Array([9, 8, 7]));
    expect(reply.header).toMatchObject({ type: 'echoed', value: 42 });
    expect(Array.from(reply.body ?? [])).toEqual([9, 8, 7]);
    expect(received.map((r) => [r.peer, r.frame.header.type])).toEqual([['worker/3', 'progress'], ['worker/3', 'echo']]);
    c.close();
  });

  test('a peer with another secret is refused before any message counts', async () => {
    await expect(connectWire('127.0.0.1', port, randomBytes(32), { role: 'intruder', id: 'x' })).rejects.toThrow(/refused|authentication/);
    await new Promise((r) => setTimeout(r, 50));
    expect(rejected.some((r) => /failed authentication/.test(r))).toBe(true);
    expect(received.some((r) => r.peer.startsWith('intruder'))).toBe(false);
  });

  test('messages sent before the receiver listens wait for its listener, in order (a ring neighbour may start first)', async () => {
    const eager = new WireServer(secret, (c) => {
      for (let i = 0; i < 3; i++) void c.send({ type: 'chunk', step: i }, new Uint8Array(100_000).fill(i));
    });
    const p = (await eager.listen('127.0.0.1')).port;
    const c = await connectWire('127.0.0.1', p, secret, { role: 'worker', id: '2' });
    await new Promise((r) => setTimeout(r, 100));
    const got: Array<[unknown, number]> = [];
    await new Promise<void>((resolve) =>
      c.on('message', (f: Frame) => {
        got.push([f.header.step, f.body![99_999]!]);
        if (got.length === 3) resolve();
      }),
    );
    expect(got).toEqual([[0, 0], [1, 1], [2, 2]]);
    c.close();
    await eager.close();
  }, 10_000);

  test('a client refuses a server that cannot prove the secret', async () => {
    const impostor = new WireServer(randomBytes(32), () => undefined);
    const p = (await impostor.listen('127.0.0.1')).port;
    await expect(connectWire('127.0.0.1', p, secret, { role: 'worker', id: '1' })).rejects.toThrow();
    await impostor.close();
  });
});
