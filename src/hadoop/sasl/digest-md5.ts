// DIGEST-MD5 client (RFC 2831, algorithm md5-sess) as Hadoop's TOKEN authentication uses it:
// username/password are Base64 of the token identifier/password, realm "default",
// digest-uri "/default", qop "auth" only (no security layer).
import { createHash, randomBytes } from 'node:crypto';

export class DigestMd5Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestMd5Error';
  }
}

/** The server demands a SASL security layer (hadoop.rpc.protection = integrity or privacy). */
export class SaslQopUnsupportedError extends DigestMd5Error {
  constructor(readonly offeredQops: readonly string[]) {
    super(
      `server offers SASL qop ${offeredQops.join(',')} but horn supports only "auth": the cluster sets ` +
        `hadoop.rpc.protection to integrity or privacy, which horn does not implement yet; ` +
        `set it to "authentication" to use horn`,
    );
  }
}

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
}

export interface DigestMd5Step {
  /** The client response to send as the SASL token. */
  response: string;
  /** The rspauth value the server must send back on SUCCESS. */
  expectedRspauth: string;
}

const md5 = (data: Buffer | string): Buffer => createHash('md5').update(data).digest();
const hex = (b: Buffer): string => b.toString('hex');

/** Computes the RFC 2831 response for a server challenge (qop auth only). */
export function respondToChallenge(challengeText: string, params: DigestMd5Params): DigestMd5Step {
  const d = parseDigestDirectives(challengeText);
  const nonce = d.get('nonce');
  if (!nonce) throw new DigestMd5Error(`challenge has no nonce: ${challengeText}`);
  const algorithm = d.get('algorithm');
  if (algorithm !== undefined && algorithm.toLowerCase() !== 'md5-sess') {
    throw new DigestMd5Error(`unsupported digest algorithm ${algorithm}`);
  }
  const qops = (d.get('qop') ?? 'auth').split(',').map((q) => q.trim()).filter(Boolean);
  if (!qops.includes('auth')) throw new SaslQopUnsupportedError(qops);
  const realm = d.get('realm') ?? params.serverId;
  const charsetUtf8 = (d.get('charset') ?? '').toLowerCase() === 'utf-8';
  const cnonce = params.cnonce ?? randomBytes(30).toString('base64');
  const digestUri = `${params.protocol}/${params.serverId}`;
  const nc = '00000001';
  const qop = 'auth';
  const enc = charsetUtf8 ? 'utf8' : 'latin1';

  const userHash = md5(Buffer.from(`${params.username}:${realm}:${params.password}`, enc));
  const a1 = Buffer.concat([userHash, Buffer.from(`:${nonce}:${cnonce}`, enc)]);
  const ha1 = hex(md5(a1));
  const kd = (a2: string): string => hex(md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${hex(md5(a2))}`));
  const responseValue = kd(`AUTHENTICATE:${digestUri}`);
  const expectedRspauth = kd(`:${digestUri}`);

  const parts = [
    ...(charsetUtf8 ? ['charset=utf-8'] : []),
    `username="${quote(params.username)}"`,
    `realm="${quote(realm)}"`,
    `nonce="${quote(nonce)}"`,
    `nc=${nc}`,
    `cnonce="${quote(cnonce)}"`,
    `digest-uri="${quote(digestUri)}"`,
    'maxbuf=65536',
    `response=${responseValue}`,
    `qop=${qop}`,
  ];
  return { response: parts.join(','), expectedRspauth };
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
