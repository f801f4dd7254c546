// Delegation tokens as data: the identifiers of HDFS_DELEGATION_TOKEN (a Writable,
// AbstractDelegationTokenIdentifier) and RM_DELEGATION_TOKEN (protobuf,
// YARNDelegationTokenIdentifierProto), and the kind/service rewrites a submission needs. The
// kind and service are not covered by the token's password (an HMAC of the identifier), so a
// client may set them.
import { codec } from '../proto';
import { describeToken, TokenKind, type Token } from './token';
import { WritableFormatError, WritableReader } from './writable';

/** What a delegation token says about itself; dates are ms since the epoch. */
export interface DelegationTokenIdentifier {
  readonly owner: string;
  /** The short name of who may renew it (the RM's, for tokens given to YARN); empty: nobody renews it. */
  readonly renewer: string;
  readonly realUser: string;
  readonly issueDate: number;
  /** After this the token cannot be renewed any more: its maximum lifetime. */
  readonly maxDate: number;
  readonly sequenceNumber: number;
  readonly masterKeyId: number;
}

/** A token identifier that cannot be read; names the token (kind@service) and what is wrong. */
export class TokenIdentifierFormatError extends Error {
  constructor(
    readonly token: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot read the identifier of ${token}: ${detail}`, options);
    this.name = 'TokenIdentifierFormatError';
  }
}

const WRITABLE_VERSION = 0;

/** AbstractDelegationTokenIdentifier.readFields: byte version 0, Text owner, renewer, realUser, VLong dates, VInt numbers. */
export function decodeWritableDelegationIdentifier(bytes: Uint8Array, what = 'a delegation token'): DelegationTokenIdentifier {
  const r = new WritableReader(bytes);
  try {
    const version = r.readByte('version');
    if (version !== WRITABLE_VERSION) throw new TokenIdentifierFormatError(what, `unknown identifier version ${version} (expected ${WRITABLE_VERSION})`);
    const id = {
      owner: r.readText('owner'),
      renewer: r.readText('renewer'),
      realUser: r.readText('realUser'),
      issueDate: r.readVLong('issueDate'),
      maxDate: r.readVLong('maxDate'),
      sequenceNumber: r.readVInt('sequenceNumber'),
      masterKeyId: r.readVInt('masterKeyId'),
    };
    if (r.remaining !== 0) throw new TokenIdentifierFormatError(what, `${r.remaining} bytes after the identifier's last field`);
    return id;
  } catch (e) {
    if (e instanceof WritableFormatError) throw new TokenIdentifierFormatError(what, e.message, { cause: e });
    throw e;
  }
}

interface YarnDelegationIdentifierMessage {
  owner?: string;
  renewer?: string;
  realUser?: string;
  issueDate?: number;
  maxDate?: number;
  sequenceNumber?: number;
  masterKeyId?: number;
}
const yarnIdentifierCodec = codec<YarnDelegationIdentifierMessage>('hadoop.yarn.YARNDelegationTokenIdentifierProto');

export function decodeYarnDelegationIdentifier(bytes: Uint8Array, what = 'an RM delegation token'): DelegationTokenIdentifier {
  let m: YarnDelegationIdentifierMessage;
  try {
    m = yarnIdentifierCodec.decode(bytes);
  } catch (cause) {
    throw new TokenIdentifierFormatError(what, (cause as Error).message, { cause });
  }
  return {
    owner: m.owner ?? '',
    renewer: m.renewer ?? '',
    realUser: m.realUser ?? '',
    issueDate: m.issueDate ?? 0,
    maxDate: m.maxDate ?? 0,
    sequenceNumber: m.sequenceNumber ?? 0,
    masterKeyId: m.masterKeyId ?? -1,
  };
}

/** Kinds whose identifier is AbstractDelegationTokenIdentifier's Writable. */
const WRITABLE_KINDS: ReadonlySet<string> = new Set([TokenKind.HDFS_DELEGATION, 'WEBHDFS delegation', 'SWEBHDFS delegation']);

/** The identifier of an HDFS or RM delegation token, by its kind. */
export function decodeDelegationIdentifier(token: Token): DelegationTokenIdentifier {
  if (WRITABLE_KINDS.has(token.kind)) return decodeWritableDelegationIdentifier(token.identifier, describeToken(token));
  if (token.kind === TokenKind.RM_DELEGATION) return decodeYarnDelegationIdentifier(token.identifier, describeToken(token));
  throw new TokenIdentifierFormatError(describeToken(token), `kind ${JSON.stringify(token.kind)} is not a delegation token horn reads (${[...WRITABLE_KINDS, TokenKind.RM_DELEGATION].join(', ')})`);
}

/** The same token under another kind and/or service. */
export function rewriteToken(token: Token, change: { kind?: string; service?: string }): Token {
  return { ...token, kind: change.kind ?? token.kind, service: change.service ?? token.service };
}

/**
 * The service of an HDFS delegation token for a NameNode (host:port of its RPC address, IP when
 * hadoop.security.token.service.use_ip) or, under HA, for a nameservice: "ha-hdfs:<nameservice>"
 * (HAUtilClient.buildTokenServiceForLogicalUri: HA_DT_SERVICE_PREFIX "ha-" + scheme + ":" + host).
 */
export function hdfsTokenService(defaultFs: string, nameservices: readonly string[]): string | undefined {
  const u = new URL(defaultFs);
  if (u.protocol !== 'hdfs:') return undefined;
  return nameservices.includes(u.hostname) ? `ha-hdfs:${u.hostname}` : undefined;
}
