// The DIGEST-MD5 security layer (integrity and privacy) against the JDK's own SaslServer, and
// against vectors recorded from it, so that a change that breaks interoperability fails here
// rather than as a hang on a Kerberized cluster (the JDK drops a message with a bad MAC silently).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecurityLayer, desEdeKey, parseDigestDirectives, respondToChallenge, SaslIntegrityError, SaslQopUnsupportedError, type Qop } from '../../../src/hadoop/sasl';

const JDK = '/usr/lib/jvm/java-17-openjdk-amd64/bin';
const SOURCE = join(__dirname, 'fixtures', 'jdk-sasl', 'JdkDigestServer.java');
const VECTORS = join(__dirname, 'fixtures', 'jdk-sasl', 'vectors.json');
const USERNAME = Buffer.from('identifier bytes of a token').toString('base64');
const PASSWORD = Buffer.from('password bytes of the token').toString('base64');

let classes: string;

beforeAll(() => {
  // The JDK is part of the test setup (scripts/cluster installs it); its absence is a failure, not a skip.
  if (!existsSync(`${JDK}/javac`)) throw new Error(`${JDK}/javac is missing: install openjdk-17-jdk-headless`);
  classes = mkdtempSync(join(tmpdir(), 'horn-jdk-sasl-'));
  const r = spawnSync(`${JDK}/javac`, ['-d', classes, SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`javac failed: ${r.stderr}`);
}, 60_000);

afterAll(() => rmSync(classes, { recursive: true, force: true }));

/** The Java server over stdin/stdout, one length-prefixed frame at a time. */
class JdkServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private waiting: Array<(b: Buffer) => void> = [];

  constructor(qops: string) {
    this.child = spawn(`${JDK}/java`, ['-cp', classes, 'JdkDigestServer', qops, PASSWORD]);
    this.child.stdout.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.drain();
    });
  }

  private drain(): void {
    while (this.waiting.length && this.buffer.length >= 4 && this.buffer.length >= 4 + this.buffer.readUInt32BE(0)) {
      const n = this.buffer.readUInt32BE(0);
      const frame = this.buffer.subarray(4, 4 + n);
      this.buffer = this.buffer.subarray(4 + n);
      this.waiting.shift()!(Buffer.from(frame));
    }
  }

  read(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the JDK server sent nothing within 10 s')), 10_000);
      this.waiting.push((b) => {
        clearTimeout(timer);
        resolve(b);
      });
      this.drain();
    });
  }

  write(b: Uint8Array): void {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(b.length);
    this.child.stdin.write(Buffer.concat([head, b]));
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    await new Promise((r) => this.child.once('exit', r));
  }
}

async function negotiate(serverQops: string, acceptQops?: Qop[], cnonce?: string) {
  const server = new JdkServer(serverQops);
  const challenge = (await server.read()).toString('utf8');
  const step = respondToChallenge(challenge, { username: USERNAME, password: PASSWORD, protocol: '', serverId: 'default', acceptQops, cnonce });
  server.write(Buffer.from(step.response));
  const final = (await server.read()).toString('utf8');
  const negotiated = (await server.read()).toString('utf8');
  const layer = createSecurityLayer({ qop: step.qop, cipher: step.cipher, ha1: step.ha1, side: 'client', peerMaxBuffer: step.serverMaxBuffer });
  return { server, challenge, step, final, negotiated, layer };
}

const messages = [Buffer.from('x'), Buffer.from('seven b'), Buffer.from('exactly sixteen!'), Buffer.alloc(1000, 0xa5), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])];

describe.each([
  ['auth-int', 'qop=auth-int;rawSendSize=65520'],
  ['auth-conf', 'qop=auth-conf;rawSendSize=65510'],
] as const)('the DIGEST-MD5 security layer with qop %s against the JDK SaslServer', (qop, negotiatedLine) => {
  test('authenticates, then messages go both ways in order (sequence numbers and the CBC chain across messages)', async () => {
    const { server, challenge, step, final, negotiated, layer } = await negotiate(qop);
    try {
      expect(challenge).toContain(`qop="${qop}"`);
      expect(step.qop).toBe(qop);
      expect(final.startsWith('rspauth=')).toBe(true);
      expect(final).toBe(`rspauth=${step.expectedRspauth}`);
      expect(negotiated).toBe(negotiatedLine);
      expect(layer!.rawSendSize).toBe(Number(negotiatedLine.split('rawSendSize=')[1]));
      for (const m of messages) {
        server.write(layer!.wrap(m));
        const reply = await server.read();
        expect(String.fromCharCode(reply[0]!)).toBe('W');
        expect(layer!.unwrap(reply.subarray(1))).toEqual(Buffer.concat([Buffer.from('echo:'), m]));
      }
    } finally {
      await server.close();
    }
  }, 30_000);

  test('a tampered message is refused by the JDK, and a tampered reply by horn', async () => {
    const { server, layer } = await negotiate(qop);
    try {
      const wrapped = layer!.wrap(Buffer.from('a message of some length'));
      wrapped[3] ^= 0x01;
      server.write(wrapped);
      expect((await server.read()).toString('utf8')).toMatch(/^E/);
    } finally {
      await server.close();
    }
    const again = await negotiate(qop);
    try {
      again.server.write(again.layer!.wrap(Buffer.from('hello')));
      const reply = (await again.server.read()).subarray(1);
      const bad = Buffer.from(reply);
      bad[1] ^= 0x80;
      expect(() => again.layer!.unwrap(bad)).toThrow(SaslIntegrityError);
    } finally {
      await again.server.close();
    }
  }, 30_000);
});

test('a client that accepts only auth against a privacy-only server gets SaslQopUnsupportedError naming what was offered', async () => {
  const server = new JdkServer('auth-conf');
  try {
    const challenge = (await server.read()).toString('utf8');
    expect(() => respondToChallenge(challenge, { username: USERNAME, password: PASSWORD, protocol: '', serverId: 'default', acceptQops: ['auth'] })).toThrow(SaslQopUnsupportedError);
    expect(() => respondToChallenge(challenge, { username: USERNAME, password: PASSWORD, protocol: '', serverId: 'default', acceptQops: ['auth'] })).toThrow(/auth-conf with ciphers 3des,rc4,des,rc4-56,rc4-40/);
  } finally {
    await server.close();
  }
}, 30_000);

test('a server offering several qops gets the strongest', async () => {
  const { server, step, negotiated } = await negotiate('auth,auth-int,auth-conf');
  await server.close();
  expect(step.qop).toBe('auth-conf');
  expect(parseDigestDirectives(step.response).get('cipher')).toBe('3des');
  expect(negotiated).toMatch(/^qop=auth-conf;/);
}, 30_000);

describe('vectors recorded from a JDK 17 session (no JVM needed)', () => {
  // Recorded once from a live session with the JdkDigestServer: the JDK's challenge, horn's response
  // with a fixed cnonce, horn's wrapped messages (which the JDK accepted) and the JDK's wrapped echoes.
  const vectors = JSON.parse(readFileSync(VECTORS, 'utf8')) as Array<{ qop: Qop; challenge: string; cnonce: string; response: string; rspauth: string; toServer: string[]; fromServer: string[]; plain: string[] }>;

  test.each(vectors.map((v) => [v.qop, v] as const))('%s: the response, rspauth, every wrap and unwrap are byte-exact', (_qop, v) => {
    const step = respondToChallenge(v.challenge, { username: USERNAME, password: PASSWORD, protocol: '', serverId: 'default', cnonce: v.cnonce });
    expect(step.response).toBe(v.response);
    expect(`rspauth=${step.expectedRspauth}`).toBe(v.rspauth);
    const client = createSecurityLayer({ qop: step.qop, cipher: step.cipher, ha1: step.ha1, side: 'client', peerMaxBuffer: step.serverMaxBuffer })!;
    const server = createSecurityLayer({ qop: step.qop, cipher: step.cipher, ha1: step.ha1, side: 'server', peerMaxBuffer: 65536 })!;
    v.plain.forEach((p, i) => {
      const plain = Buffer.from(p, 'base64');
      expect(client.wrap(plain).toString('base64')).toBe(v.toServer[i]);
      expect(server.unwrap(Buffer.from(v.toServer[i]!, 'base64'))).toEqual(plain);
      const echo = Buffer.concat([Buffer.from('echo:'), plain]);
      expect(server.wrap(echo).toString('base64')).toBe(v.fromServer[i]);
      expect(client.unwrap(Buffer.from(v.fromServer[i]!, 'base64'))).toEqual(echo);
    });
  });

  test('a replayed message is refused for its sequence number', () => {
    const v = vectors.find((x) => x.qop === 'auth-int')!;
    const step = respondToChallenge(v.challenge, { username: USERNAME, password: PASSWORD, protocol: '', serverId: 'default', cnonce: v.cnonce });
    const server = createSecurityLayer({ qop: step.qop, ha1: step.ha1, side: 'server', peerMaxBuffer: 65536 })!;
    server.unwrap(Buffer.from(v.toServer[0]!, 'base64'));
    expect(() => server.unwrap(Buffer.from(v.toServer[0]!, 'base64'))).toThrow(/sequence number 0, expected 1/);
  });
});

test('3DES key: 7-bit groups with odd parity, K1|K2|K1', () => {
  const key = desEdeKey(Buffer.from('00112233445566778899aabbccddeeff', 'hex'));
  expect(key.length).toBe(24);
  expect(key.subarray(0, 8)).toEqual(key.subarray(16, 24));
  for (const b of key) {
    let ones = 0;
    for (let v = b; v; v >>= 1) ones += v & 1;
    expect(ones % 2).toBe(1);
  }
  // 0x00112233445566 in 7-bit groups, each shifted left with an odd-parity low bit (computed independently in Python).
  expect(key.subarray(0, 8).toString('hex')).toBe('01084946342354cd');
});
