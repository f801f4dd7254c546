// Hadoop SASL TOKEN authentication with DIGEST-MD5 over an IPC SaslExchange:
// NEGOTIATE → server lists auths (TOKEN first, challenge piggybacked) → INITIATE echoing the chosen
// SaslAuth without its challenge → SUCCESS with rspauth, which is verified.
import { ConnectionAuthenticator, RpcAuthenticationError, SaslExchange } from '../ipc';
import { codec, hasField } from '../proto';
import { describeToken, Token } from '../security/token';
import { DigestMd5Error, respondToChallenge, SaslQopUnsupportedError, verifyRspauth, type DigestMd5Step, type Qop } from './digest-md5';
import { createSecurityLayer, type SaslSecurityLayer } from './security-layer';

export type SaslState = 'SUCCESS' | 'NEGOTIATE' | 'INITIATE' | 'CHALLENGE' | 'RESPONSE' | 'WRAP';

export interface SaslAuth {
  method: string;
  mechanism: string;
  protocol?: string;
  serverId?: string;
  challenge?: Uint8Array;
}

export interface SaslMessage {
  version?: number;
  state: SaslState;
  token?: Uint8Array;
  auths?: SaslAuth[];
}

export const saslCodec = codec<SaslMessage>('hadoop.common.RpcSaslProto');

/** The echo of the server's SaslAuth: same fields with the same presence, challenge removed. */
export function echoSaslAuth(auth: SaslAuth): SaslAuth {
  const out: SaslAuth = { method: auth.method, mechanism: auth.mechanism };
  if (hasField(auth, 'protocol')) out.protocol = auth.protocol ?? '';
  if (hasField(auth, 'serverId')) out.serverId = auth.serverId ?? '';
  return out;
}

export interface TokenSaslState {
  chosen: SaslAuth;
  expectedRspauth: string;
  step: DigestMd5Step;
}

/**
 * Pure step 1: given the server's NEGOTIATE reply, builds the INITIATE message. Returns
 * `undefined` when the server answered SUCCESS (a SIMPLE-only server: no authentication needed).
 */
export function buildInitiate(token: Token, negotiateReply: SaslMessage, cnonce?: string, acceptQops?: readonly Qop[]): { initiate: SaslMessage; state: TokenSaslState } | undefined {
  if (negotiateReply.state === 'SUCCESS') return undefined;
  if (negotiateReply.state !== 'NEGOTIATE') {
    throw new DigestMd5Error(`expected NEGOTIATE from the server, got ${negotiateReply.state}`);
  }
  const auths = negotiateReply.auths ?? [];
  const chosen = auths.find((a) => a.method === 'TOKEN' && a.mechanism === 'DIGEST-MD5');
  if (!chosen) {
    throw new DigestMd5Error(`server does not offer TOKEN/DIGEST-MD5; it offers ${auths.map((a) => `${a.method}/${a.mechanism}`).join(', ') || 'nothing'}`);
  }
  if (!chosen.challenge || chosen.challenge.length === 0) {
    throw new DigestMd5Error('server offered TOKEN without the initial DIGEST-MD5 challenge');
  }
  const step = respondToChallenge(Buffer.from(chosen.challenge).toString('utf8'), {
    username: Buffer.from(token.identifier).toString('base64'),
    password: Buffer.from(token.password).toString('base64'),
    protocol: chosen.protocol ?? '',
    serverId: chosen.serverId ?? 'default',
    cnonce,
    acceptQops,
  });
  return {
    initiate: { state: 'INITIATE', token: Buffer.from(step.response, 'utf8'), auths: [echoSaslAuth(chosen)] },
    state: { chosen, expectedRspauth: step.expectedRspauth, step },
  };
}

/** Pure step 2: checks the server's final message; returns the security layer when integrity or privacy was negotiated. */
export function checkSuccess(reply: SaslMessage, state: TokenSaslState): SaslSecurityLayer | undefined {
  if (reply.state !== 'SUCCESS') {
    throw new DigestMd5Error(`expected SUCCESS after INITIATE, got ${reply.state} (multi-round DIGEST-MD5 is not expected from Hadoop)`);
  }
  if (!reply.token || reply.token.length === 0) {
    throw new DigestMd5Error('server SUCCESS carries no rspauth, so it did not prove it knows the token');
  }
  verifyRspauth(Buffer.from(reply.token).toString('utf8'), state.expectedRspauth);
  const { qop, cipher, ha1, serverMaxBuffer } = state.step;
  return createSecurityLayer({ qop, cipher, ha1, side: 'client', peerMaxBuffer: serverMaxBuffer });
}

/**
 * ConnectionAuthenticator for one token (AMRMToken for the RM scheduler port, NMToken for a
 * NodeManager). `acceptQops` is the client's hadoop.rpc.protection in order of preference, as
 * Java clients use theirs; by default the strongest the server offers.
 */
export class TokenAuthenticator implements ConnectionAuthenticator {
  constructor(
    readonly token: Token,
    readonly acceptQops?: readonly Qop[],
  ) {}

  get tokenKind(): string {
    return this.token.kind;
  }

  async authenticate(exchange: SaslExchange, server: string): Promise<SaslSecurityLayer | undefined> {
    try {
      const negotiate = saslCodec.decode(await exchange(saslCodec.encode({ state: 'NEGOTIATE' })));
      const step = buildInitiate(this.token, negotiate, undefined, this.acceptQops);
      if (!step) return undefined;
      const reply = saslCodec.decode(await exchange(saslCodec.encode(step.initiate)));
      return checkSuccess(reply, step.state);
    } catch (e) {
      if (e instanceof SaslQopUnsupportedError) {
        throw new RpcAuthenticationError(server, this.token.kind, e.message, undefined, { cause: e });
      }
      if (e instanceof DigestMd5Error) {
        throw new RpcAuthenticationError(server, this.token.kind, `${describeToken(this.token)}: ${e.message}`, undefined, { cause: e });
      }
      throw e;
    }
  }
}
