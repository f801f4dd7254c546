import {
  ConnectionClosedError,
  ConnectionError,
  RemoteException,
  RpcAuthenticationError,
  RpcConnection,
  RPC_AUTHENTICATED_CHANNEL,
  RpcTimeoutError,
  ServerUnreachableError,
} from '../../../src/hadoop/ipc';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { TokenAuthenticator } from '../../../src/hadoop/sasl';
import { FakeIpcServer, ReceivedCall } from './fake-ipc-server';

const PROTOCOL = 'org.example.TestProtocolPB';

describe('RpcConnection against a fake IPC server', () => {
  let server: FakeIpcServer;
  let calls: ReceivedCall[];
  let handler: (c: ReceivedCall) => void;
  let conn: RpcConnection;

  beforeEach(async () => {
    calls = [];
    handler = (c) => c.reply(c.body);
    server = new FakeIpcServer({ onCall: (c) => (calls.push(c), handler(c)) });
    await server.start();
    conn = new RpcConnection({ host: '127.0.0.1', port: server.port, protocol: PROTOCOL, user: 'alice', callTimeoutMs: 2000, retryDelayMs: 20 });
  });

  afterEach(async () => {
    await conn.close();
    await server.stop();
  });

  test('SIMPLE handshake: preamble, connection context with user and protocol, then calls with a 16-byte client id', async () => {
    const answer = await conn.call('echo', Buffer.from('hi'));
    expect(Buffer.from(answer).toString()).toBe('hi');
    expect(server.preambles[0]!.toString('hex')).toBe('68727063090000');
    expect(server.contexts[0]).toEqual({ userInfo: { effectiveUser: 'alice' }, protocol: PROTOCOL });
    expect(calls[0]).toMatchObject({ callId: 0, method: 'echo', protocol: PROTOCOL, retryCount: 0 });
    expect(calls[0]!.clientId).toHaveLength(16);
  });

  test('concurrent calls answered out of order are matched by call id', async () => {
    handler = () => undefined;
    const results = Promise.all([0, 1, 2, 3, 4].map((i) => conn.call('m', Buffer.from(`req${i}`))));
    while (calls.length < 5) await new Promise((r) => setTimeout(r, 5));
    for (const c of [...calls].reverse()) c.reply(Buffer.from(`ans-${c.body.toString()}`));
    expect((await results).map((b) => Buffer.from(b).toString())).toEqual(['ans-req0', 'ans-req1', 'ans-req2', 'ans-req3', 'ans-req4']);
    expect(calls.map((c) => c.callId).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(server.connections).toHaveLength(1);
  });

  test('an ERROR response is a RemoteException with the Java class and message; the connection stays usable', async () => {
    handler = (c) => (c.method === 'bad' ? c.fail('org.apache.hadoop.yarn.exceptions.InvalidResourceRequestException', 'too big\n\tat Foo.bar') : c.reply(c.body));
    const error = (await conn.call('bad', Buffer.alloc(0)).catch((e: unknown) => e)) as RemoteException;
    expect(error).toBeInstanceOf(RemoteException);
    expect(error.javaClassName).toBe('org.apache.hadoop.yarn.exceptions.InvalidResourceRequestException');
    expect(error.simpleClassName).toBe('InvalidResourceRequestException');
    expect(error.remoteMessage).toContain('too big');
    expect(error.fatal).toBe(false);
    expect(error.method).toBe('bad');
    expect(error.message).toBe(`org.apache.hadoop.yarn.exceptions.InvalidResourceRequestException: too big (call bad to 127.0.0.1:${server.port})`);
    expect(Buffer.from(await conn.call('ok', Buffer.from('x'))).toString()).toBe('x');
    expect(server.connections).toHaveLength(1);
  });

  test('a call without an answer times out; a late answer is ignored and later calls work', async () => {
    let held: ReceivedCall | undefined;
    handler = (c) => (c.method === 'hang' ? (held = c) : c.reply(c.body));
    const error = await conn.call('hang', Buffer.alloc(0), { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcTimeoutError);
    expect((error as RpcTimeoutError).message).toMatch(/call hang \(id 0\) .* no response within 100 ms/);
    held!.reply(Buffer.from('late'));
    expect(Buffer.from(await conn.call('ok', Buffer.from('y'))).toString()).toBe('y');
  });

  test('connection loss fails every pending call; the next call reconnects', async () => {
    handler = () => undefined;
    const pending = [conn.call('a', Buffer.alloc(0)), conn.call('b', Buffer.alloc(0))].map((p) => p.catch((e: unknown) => e));
    while (calls.length < 2) await new Promise((r) => setTimeout(r, 5));
    calls[0]!.socket.destroy();
    const errors = await Promise.all(pending);
    for (const e of errors) expect(e).toBeInstanceOf(ConnectionError);
    expect(conn.pendingCalls).toBe(0);
    handler = (c) => c.reply(c.body);
    expect(Buffer.from(await conn.call('again', Buffer.from('z'))).toString()).toBe('z');
    expect(server.connections).toHaveLength(2);
  });

  test('a FATAL response fails the call with the remote class and the others with a connection error', async () => {
    handler = (c) => (c.method === 'fatal' ? setTimeout(() => c.fail('org.apache.hadoop.ipc.RpcServerException', 'broken', true), 20) : undefined);
    const other = conn.call('waiting', Buffer.alloc(0)).catch((e: unknown) => e);
    const fatal = (await conn.call('fatal', Buffer.alloc(0)).catch((e: unknown) => e)) as RemoteException;
    expect(fatal).toBeInstanceOf(RemoteException);
    expect(fatal.fatal).toBe(true);
    const e = (await other) as ConnectionError;
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.message).toMatch(/fatal error: org.apache.hadoop.ipc.RpcServerException: broken/);
  });

  test('close() fails pending calls and refuses new ones', async () => {
    handler = () => undefined;
    const p = conn.call('x', Buffer.alloc(0)).catch((e: unknown) => e);
    while (calls.length < 1) await new Promise((r) => setTimeout(r, 5));
    await conn.close();
    expect(await p).toBeInstanceOf(ConnectionClosedError);
    await expect(conn.call('y', Buffer.alloc(0))).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});

describe('RpcConnection with SASL TOKEN auth', () => {
  const token = { identifier: Buffer.from('attempt-id-bytes'), password: Buffer.from('right-password'), kind: 'YARN_AM_RM_TOKEN', service: '' };
  let server: FakeIpcServer;

  beforeEach(async () => {
    server = new FakeIpcServer({ tokenPassword: token.password, onCall: (c) => c.reply(c.body) });
    await server.start();
  });
  afterEach(() => server.stop());

  test('negotiates DIGEST-MD5, verifies rspauth, sends an empty userInfo, then calls', async () => {
    const conn = new RpcConnection({ host: '127.0.0.1', port: server.port, protocol: PROTOCOL, authenticator: new TokenAuthenticator(token) });
    expect(Buffer.from(await conn.call('echo', Buffer.from('ok'))).toString()).toBe('ok');
    expect(server.preambles[0]!.toString('hex')).toBe('687270630900df');
    expect(server.contexts[0]).toEqual({ userInfo: {}, protocol: PROTOCOL });
    await conn.close();
  });

  test('a wrong password is an RpcAuthenticationError naming the token kind, without retries', async () => {
    const bad = { ...token, password: Buffer.from('wrong') };
    const conn = new RpcConnection({ host: '127.0.0.1', port: server.port, protocol: PROTOCOL, authenticator: new TokenAuthenticator(bad), maxConnectAttempts: 4 });
    const error = (await conn.call('echo', Buffer.alloc(0)).catch((e: unknown) => e)) as RpcAuthenticationError;
    expect(error).toBeInstanceOf(RpcAuthenticationError);
    expect(error.tokenKind).toBe('YARN_AM_RM_TOKEN');
    expect(error.javaClassName).toBe('javax.security.sasl.SaslException');
    expect(error.message).toMatch(/authentication to 127.0.0.1:\d+ failed with token of kind YARN_AM_RM_TOKEN: javax.security.sasl.SaslException: .*Mismatched response/);
    expect(server.connections).toHaveLength(1);
    await conn.close();
  });
});

test('an unreachable server fails with ServerUnreachableError after the configured attempts', async () => {
  const probe = new FakeIpcServer({ onCall: () => undefined });
  const port = await probe.start();
  await probe.stop(); // the port is now closed
  const conn = new RpcConnection({ host: '127.0.0.1', port, protocol: PROTOCOL, maxConnectAttempts: 3, retryDelayMs: 50 });
  const started = Date.now();
  const error = (await conn.call('x', Buffer.alloc(0)).catch((e: unknown) => e)) as ServerUnreachableError;
  expect(error).toBeInstanceOf(ServerUnreachableError);
  expect(error.attempts).toBe(3);
  expect(error.message).toMatch(/server unreachable after 3 attempt\(s\).*ECONNREFUSED/);
  // Backoff 50 + 100 ms between the attempts.
  expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  await conn.close();
});

describe.each([['auth-int'], ['auth-conf']] as const)('RpcConnection under SASL %s (Hadoop WRAP framing)', (qop) => {
  const token = { identifier: Buffer.from('attempt-id-bytes'), password: Buffer.from('right-password'), kind: 'YARN_AM_RM_TOKEN', service: '' };
  let server: FakeIpcServer;

  beforeEach(async () => {
    // A small maxbuf: a large call must be cut into several WRAP messages, whose pieces do not align with frames.
    server = new FakeIpcServer({ tokenPassword: token.password, qops: [qop], maxBuffer: 1024, onCall: (c) => c.reply(Buffer.concat([Buffer.from('re:'), c.body])) });
    await server.start();
  });
  afterEach(() => server.stop());

  test('the connection context and every call go wrapped; wrapped responses are unwrapped, also several in flight', async () => {
    const events: Array<{ qop: string; server: string }> = [];
    const listener = (e: unknown) => events.push(e as { qop: string; server: string });
    subscribe(RPC_AUTHENTICATED_CHANNEL, listener);
    const conn = new RpcConnection({ host: '127.0.0.1', port: server.port, protocol: PROTOCOL, authenticator: new TokenAuthenticator(token) });
    try {
      const big = Buffer.alloc(5000, 7);
      const replies = await Promise.all([conn.call('a', Buffer.from('one')), conn.call('b', big), conn.call('c', Buffer.from('three'))]);
      expect(Buffer.from(replies[0]!).toString()).toBe('re:one');
      expect(Buffer.from(replies[1]!)).toEqual(Buffer.concat([Buffer.from('re:'), big]));
      expect(Buffer.from(replies[2]!).toString()).toBe('re:three');
      expect(server.negotiatedQops).toEqual([qop]);
      expect(server.contexts[0]).toEqual({ userInfo: {}, protocol: PROTOCOL });
      // context + 2 small calls + a 5000-byte call in pieces of at most 1024 - overhead.
      expect(server.wrapPackets).toBeGreaterThanOrEqual(1 + 2 + 5);
      expect(events).toEqual([expect.objectContaining({ qop, server: `127.0.0.1:${server.port}`, tokenKind: 'YARN_AM_RM_TOKEN', protocol: PROTOCOL })]);
    } finally {
      unsubscribe(RPC_AUTHENTICATED_CHANNEL, listener);
      await conn.close();
    }
  });

  test('a client that accepts only "auth" is refused with the qop the server demands', async () => {
    const conn = new RpcConnection({ host: '127.0.0.1', port: server.port, protocol: PROTOCOL, authenticator: new TokenAuthenticator(token, ['auth']) });
    const error = (await conn.call('a', Buffer.alloc(0)).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(RpcAuthenticationError);
    expect(error.message).toContain(`server offers SASL qop ${qop}`);
    await conn.close();
  });
});
