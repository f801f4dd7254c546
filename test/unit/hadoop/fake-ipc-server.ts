// A minimal Hadoop IPC server for unit tests: speaks the real framing and headers so the client's
// connection logic (call ids, errors, timeouts, loss, SASL) can be tested without a cluster.
import { createServer, Server, Socket } from 'node:net';
import { encodeFrame, FrameDecoder, splitDelimited } from '../../../src/hadoop/ipc';
import { codec } from '../../../src/hadoop/proto';
import { createSecurityLayer, parseDigestDirectives, respondToChallenge, saslCodec, type Qop, type SaslSecurityLayer } from '../../../src/hadoop/sasl';

interface ReqHeader {
  callId: number;
  clientId: Uint8Array;
  retryCount?: number;
}
interface MethodHeader {
  methodName: string;
  declaringClassProtocolName: string;
  clientProtocolVersion: number;
}
const reqHeader = codec<ReqHeader>('hadoop.common.RpcRequestHeaderProto');
const methodHeader = codec<MethodHeader>('hadoop.common.RequestHeaderProto');
const respHeader = codec<object>('hadoop.common.RpcResponseHeaderProto');
const context = codec<{ userInfo?: { effectiveUser?: string }; protocol?: string }>('hadoop.common.IpcConnectionContextProto');

export interface ReceivedCall {
  callId: number;
  clientId: Uint8Array;
  retryCount?: number;
  method: string;
  protocol: string;
  body: Buffer;
  reply(body: Uint8Array): void;
  fail(javaClass: string, message: string, fatal?: boolean): void;
  socket: Socket;
}

export interface FakeServerOptions {
  /** When set, the server demands TOKEN/DIGEST-MD5 with this password (Base64 text as Hadoop uses it). */
  tokenPassword?: Uint8Array;
  /** SASL qop the server offers (as hadoop.rpc.protection would); "auth" by default. */
  qops?: readonly Qop[];
  /** maxbuf in the challenge: the largest wrapped message the server takes. */
  maxBuffer?: number;
  onCall(call: ReceivedCall): void;
}

export class FakeIpcServer {
  private server: Server;
  readonly connections: Socket[] = [];
  readonly contexts: Array<{ userInfo?: { effectiveUser?: string }; protocol?: string }> = [];
  readonly preambles: Buffer[] = [];
  /** WRAP packets received, and the qop negotiated per connection. */
  wrapPackets = 0;
  readonly negotiatedQops: string[] = [];
  port = 0;

  constructor(private readonly options: FakeServerOptions) {
    this.server = createServer((s) => this.accept(s));
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const s of this.connections) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(socket: Socket): void {
    this.connections.push(socket);
    let preamble: Buffer | undefined;
    let pending = Buffer.alloc(0);
    const decoder = new FrameDecoder();
    const inner = new FrameDecoder();
    let nonce = '';
    let layer: SaslSecurityLayer | undefined;
    const qops = this.options.qops ?? ['auth'];
    const challengeText = () =>
      `realm="default",nonce="${nonce}",qop="${qops.join(',')}",${qops.includes('auth-conf') ? 'cipher="3des,rc4,des,rc4-56,rc4-40",' : ''}${this.options.maxBuffer ? `maxbuf=${this.options.maxBuffer},` : ''}charset=utf-8,algorithm=md5-sess`;
    const send = (header: object, body?: Uint8Array) => {
      if (socket.destroyed) return;
      const frame = encodeFrame(body ? [respHeader.encode(header), body] : [respHeader.encode(header)]);
      // As Hadoop's Server.wrapWithSasl: the whole response frame, wrapped in one SASL WRAP message.
      if (layer) socket.write(encodeFrame([respHeader.encode({ callId: -33, status: 'SUCCESS' }), saslCodec.encode({ state: 'WRAP', token: layer.wrap(frame) })]));
      else socket.write(frame);
    };
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (!preamble) {
        pending = Buffer.concat([pending, chunk]);
        if (pending.length < 7) return;
        preamble = pending.subarray(0, 7);
        this.preambles.push(preamble);
        data = pending.subarray(7);
      }
      for (const frame of decoder.push(data)) handle(frame);
    });
    const handle = (frame: Buffer): void => {
      {
        const [h, ...rest] = splitDelimited(frame);
        const header = reqHeader.decode(h!);
        if (header.callId === -33 && layer) {
          const sasl = saslCodec.decode(rest[0]!);
          if (sasl.state !== 'WRAP') throw new Error(`fake server: expected WRAP, got ${sasl.state}`);
          this.wrapPackets++;
          for (const f of inner.push(layer.unwrap(sasl.token!))) handle(f);
          return;
        }
        if (layer === undefined && header.callId !== -33 && qops[0] !== 'auth' && nonce) throw new Error('fake server: a plain frame after a security layer was negotiated');
        if (header.callId === -33) {
          const sasl = saslCodec.decode(rest[0]!);
          if (sasl.state === 'NEGOTIATE') {
            nonce = `nonce${Math.random().toString(36).slice(2)}`;
            const challenge = Buffer.from(challengeText());
            send({ callId: -33, status: 'SUCCESS' }, saslCodec.encode({ state: 'NEGOTIATE', auths: [{ method: 'TOKEN', mechanism: 'DIGEST-MD5', protocol: '', serverId: 'default', challenge }] }));
          } else if (sasl.state === 'INITIATE') {
            const d = parseDigestDirectives(Buffer.from(sasl.token!).toString());
            const expected = respondToChallenge(challengeText(), {
              username: d.get('username')!,
              password: Buffer.from(this.options.tokenPassword ?? []).toString('base64'),
              protocol: '',
              serverId: 'default',
              cnonce: d.get('cnonce'),
              acceptQops: [d.get('qop') as Qop],
            });
            if (parseDigestDirectives(expected.response).get('response') !== d.get('response')) {
              send({ callId: -1, status: 'FATAL', exceptionClassName: 'javax.security.sasl.SaslException', errorMsg: 'DIGEST-MD5: digest response format violation. Mismatched response.', errorDetail: 'FATAL_UNAUTHORIZED' });
              socket.end();
              return;
            }
            send({ callId: -33, status: 'SUCCESS' }, saslCodec.encode({ state: 'SUCCESS', token: Buffer.from(`rspauth=${expected.expectedRspauth}`) }));
            this.negotiatedQops.push(expected.qop);
            layer = createSecurityLayer({ qop: expected.qop, cipher: expected.cipher, ha1: expected.ha1, side: 'server', peerMaxBuffer: 65536 });
          }
          return;
        }
        if (header.callId === -3) {
          this.contexts.push(context.decode(rest[0]!));
          return;
        }
        const m = methodHeader.decode(rest[0]!);
        this.options.onCall({
          callId: header.callId,
          clientId: header.clientId,
          retryCount: header.retryCount,
          method: m.methodName,
          protocol: m.declaringClassProtocolName,
          body: Buffer.from(rest[1] ?? []),
          socket,
          reply: (body) => send({ callId: header.callId, status: 'SUCCESS', serverIpcVersionNum: 9, clientId: header.clientId }, body),
          fail: (javaClass, message, fatal = false) => {
            send({ callId: header.callId, status: fatal ? 'FATAL' : 'ERROR', exceptionClassName: javaClass, errorMsg: message, errorDetail: fatal ? 'FATAL_UNKNOWN' : 'ERROR_APPLICATION' });
            if (fatal) socket.end();
          },
        });
      }
    };
  }
}
