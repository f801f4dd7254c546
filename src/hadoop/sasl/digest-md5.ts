// DIGEST-MD5 client (RFC 2831, algorithm md5-sess) as Hadoop's TOKEN authentication uses it:
// username/password are Base64 of the token identifier/password, realm "default",
// digest-uri "/default". With qop auth-int or auth-conf (hadoop.rpc.protection integrity or
// privacy) the exchange also yields H(A1), from which ./security-layer.ts derives its keys.
import { createHash, randomBytes } from 'node:crypto';

export class DigestMd5Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestMd5Error';
  }
}

/** The server offers no quality of protection (or, for privacy, no cipher) that horn implements. */
export class SaslQopUnsupportedError extends DigestMd5Error {
  constructor(
    readonly offeredQops: readonly string[],
    readonly offeredCiphers: readonly string[] = [],
  ) {
    super(
      `server offers SASL qop ${offeredQops.join(',') || 'none'}${offeredCiphers.length ? ` with ciphers ${offeredCiphers.join(',')}` : ''}, ` +
        `but horn implements qop ${SUPPORTED_QOPS.join(', ')} and, for auth-conf (hadoop.rpc.protection privacy), only the cipher ${SUPPORTED_CIPHERS.join(', ')}`,
    );
  }
}

/** SASL qualities of protection: hadoop.rpc.protection authentication, integrity, privacy. */
export type Qop = 'auth' | 'auth-int' | 'auth-conf';
/** Strongest first: when a server offers several, horn takes the strongest. */
export const SUPPORTED_QOPS: readonly Qop[] = ['auth-conf', 'auth-int', 'auth'];
/**
 * Ciphers for auth-conf. Only 3des: it is the strongest the JDK offers, and the one Node's
 * OpenSSL 3 has without the legacy provider (rc4 and des need it; both are weak).
 */
export const SUPPORTED_CIPHERS: readonly string[] = ['3des'];

/** Parses `key=value,key="quoted, value"` directives. Keys are lower-cased; repeated keys keep the first value. */
export function parseDigestDirectives(challenge: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = challenge.length;
  while (i < n) {
    while (i < n && (challenge[i] === ',' || challenge[i] === ' ' || challenge[i] === '\t')) i++;
    if (i >= n) break;
    const eq = challenge.indexOf('=', i);
    if (eq < 0) throw new DigestMd5Error(`malformed directive at offset ${i}: ${JSON.stringify(challenge.slice(i))}`);
    const key = challenge.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = '';
    if (challenge[i] === '"') {
      i++;
      while (i < n && challenge[i] !== '"') {
        if (challenge[i] === '\\' && i + 1 < n) i++;
        value += challenge[i];
        i++;
      }
      if (i >= n) throw new DigestMd5Error(`unterminated quoted value for ${key}`);
      i++;
    } else {
      const comma = challenge.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      value = challenge.slice(i, end).trim();
      i = end;
    }
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

export interface DigestMd5Params {
  /** Base64 of the raw token identifier. */
  username: string;
  /** Base64 of the raw token password, used as text. */
  password: string;
  /** The protocol and serverId of the SaslAuth; digest-uri = protocol + "/" + serverId. */
  protocol: string;
  serverId: string;
  /** Client nonce; random when not given (tests pass a fixed one). */
  cnonce?: string;
  /** Qualities of protection the client accepts; all of SUPPORTED_QOPS by default. */
  acceptQops?: readonly Qop[];
}

export interface DigestMd5Step {
  /** The client response to send as the SASL token. */
  response: string;
  /** The rspauth value the server must send back on SUCCESS. */
  expectedRspauth: string;
  /** The negotiated quality of protection. */
  qop: Qop;
  /** The negotiated cipher (auth-conf only). */
  cipher?: string;
  /** H(A1) as 16 raw bytes: the security layer's keys derive from it. */
  ha1: Buffer;
  /** The largest wrapped message the server accepts (its maxbuf, 65536 when it names none). */
  serverMaxBuffer: number;
}

const PROTECTION_QOP: Record<string, Qop> = { authentication: 'auth', integrity: 'auth-int', privacy: 'auth-conf' };

/**
 * hadoop.rpc.protection (a comma-separated list of authentication, integrity, privacy) as SASL
 * qops in the same order; undefined for an empty value. Throws naming the value that is not one.
 */
export function qopsFromProtection(value: string | undefined): Qop[] | undefined {
  const names = (value ?? '').split(',').map((v) => v.trim().toLowerCase()).filter(Boolean);
  if (names.length === 0) return undefined;
  return names.map((n) => {
    const q = PROTECTION_QOP[n];
    if (!q) throw new DigestMd5Error(`hadoop.rpc.protection ${JSON.stringify(value)}: ${JSON.stringify(n)} is not authentication, integrity or privacy`);
    return q;
  });
}

/** The receive buffer horn announces (maxbuf): wrapped messages the server sends must fit in it. */
export const CLIENT_MAX_BUFFER = 65536;

const md5 = (data: Buffer | string): Buffer => createHash('md5').update(data).digest();
const hex = (b: Buffer): string => b.toString('hex');

/** Computes the RFC 2831 response for a server challenge, choosing the strongest qop both sides accept. */
export function respondToChallenge(challengeText: string, params: DigestMd5Params): DigestMd5Step {
  const d = parseDigestDirectives(challengeText);
  const nonce = d.get('nonce');
  if (!nonce) throw new DigestMd5Error(`challenge has no nonce: ${challengeText}`);
  const algorithm = d.get('algorithm');
  if (algorithm !== undefined && algorithm.toLowerCase() !== 'md5-sess') {
    throw new DigestMd5Error(`unsupported digest algorithm ${algorithm}`);
  }
  const offered = (d.get('qop') ?? 'auth').split(',').map((q) => q.trim()).filter(Boolean);
  const ciphers = (d.get('cipher') ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  const cipher = SUPPORTED_CIPHERS.find((c) => ciphers.includes(c));
  const accepted = params.acceptQops ?? SUPPORTED_QOPS;
  const qop = accepted.find((q) => SUPPORTED_QOPS.includes(q) && offered.includes(q) && (q !== 'auth-conf' || cipher !== undefined));
  if (!qop) throw new SaslQopUnsupportedError(offered, ciphers);
  const serverMaxBuffer = d.has('maxbuf') ? Number(d.get('maxbuf')) : 65536;
  if (!(Number.isInteger(serverMaxBuffer) && serverMaxBuffer > 16)) throw new DigestMd5Error(`challenge has an invalid maxbuf ${JSON.stringify(d.get('maxbuf'))}`);
  const realm = d.get('realm') ?? params.serverId;
  const charsetUtf8 = (d.get('charset') ?? '').toLowerCase() === 'utf-8';
  const cnonce = params.cnonce ?? randomBytes(30).toString('base64');
  const digestUri = `${params.protocol}/${params.serverId}`;
  const nc = '00000001';
  const enc = charsetUtf8 ? 'utf8' : 'latin1';

  const userHash = md5(Buffer.from(`${params.username}:${realm}:${params.password}`, enc));
  const a1 = Buffer.concat([userHash, Buffer.from(`:${nonce}:${cnonce}`, enc)]);
  const ha1 = md5(a1);
  const kd = (a2: string): string => hex(md5(`${hex(ha1)}:${nonce}:${nc}:${cnonce}:${qop}:${hex(md5(a2))}`));
  // With a security layer A2 ends in 32 zeros (RFC 2831 2.1.2.1: the hash of an empty entity body).
  const a2Suffix = qop === 'auth' ? '' : ':00000000000000000000000000000000';
  const responseValue = kd(`AUTHENTICATE:${digestUri}${a2Suffix}`);
  const expectedRspauth = kd(`:${digestUri}${a2Suffix}`);

  const parts = [
    ...(charsetUtf8 ? ['charset=utf-8'] : []),
    `username="${quote(params.username)}"`,
    `realm="${quote(realm)}"`,
    `nonce="${quote(nonce)}"`,
    `nc=${nc}`,
    `cnonce="${quote(cnonce)}"`,
    `digest-uri="${quote(digestUri)}"`,
    `maxbuf=${CLIENT_MAX_BUFFER}`,
    `response=${responseValue}`,
    `qop=${qop}`,
    ...(qop === 'auth-conf' ? [`cipher=${cipher}`] : []),
  ];
  return { response: parts.join(','), expectedRspauth, qop, cipher: qop === 'auth-conf' ? cipher : undefined, ha1, serverMaxBuffer };
}

/** Checks the server's `rspauth=<hex>` final message; throws when it does not prove knowledge of the password. */
export function verifyRspauth(successToken: string, expectedRspauth: string): void {
  const d = parseDigestDirectives(successToken);
  const got = d.get('rspauth');
  if (!got) throw new DigestMd5Error(`server success message has no rspauth: ${JSON.stringify(successToken)}`);
  if (got.toLowerCase() !== expectedRspauth) {
    throw new DigestMd5Error('server rspauth does not match: the server does not know the token password');
  }
}

function quote(s: string): string {
  return s.replace(/(["\\])/g, '\\$1');
}
