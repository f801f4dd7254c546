// org.apache.hadoop.security.token.Token: identifier + password + kind + service.
import { WritableReader, WritableWriter } from './writable';

/** A Hadoop delegation/AMRM/NM/container token. Identifier and password are opaque bytes. */
export interface Token {
  identifier: Uint8Array;
  password: Uint8Array;
  /** e.g. `YARN_AM_RM_TOKEN`, `NMToken`, `ContainerToken`, `HDFS_DELEGATION_TOKEN`. */
  kind: string;
  /** e.g. `10.0.0.1:8041`; may be empty. */
  service: string;
}

export const TokenKind = {
  AMRM: 'YARN_AM_RM_TOKEN',
  NM: 'NMToken',
  CONTAINER: 'ContainerToken',
  HDFS_DELEGATION: 'HDFS_DELEGATION_TOKEN',
  RM_DELEGATION: 'RM_DELEGATION_TOKEN',
} as const;

/** Token.write: VInt idLen, id, VInt pwLen, pw, Text kind, Text service. */
export function writeTokenWritable(token: Token, w: WritableWriter = new WritableWriter()): WritableWriter {
  return w.writeVBytes(token.identifier).writeVBytes(token.password).writeText(token.kind).writeText(token.service);
}

export function readTokenWritable(r: WritableReader, context = 'token'): Token {
  const identifier = r.readVBytes(`${context}.identifier`);
  const password = r.readVBytes(`${context}.password`);
  const kind = r.readText(`${context}.kind`);
  const service = r.readText(`${context}.service`);
  return { identifier, password, kind, service };
}

/**
 * Token.encodeToUrlString: URL-safe Base64 without padding of the Writable token. This is the
 * form the RM REST API takes in `am-container-spec.credentials.tokens`.
 */
export function encodeTokenToUrlString(token: Token): string {
  return writeTokenWritable(token).toBuffer().toString('base64url');
}

export function decodeTokenFromUrlString(encoded: string): Token {
  const r = new WritableReader(Buffer.from(encoded, 'base64url'));
  return readTokenWritable(r);
}

/** A short, secret-free description for logs and errors. */
export function describeToken(token: Token): string {
  return `${token.kind}${token.service ? `@${token.service}` : ''}`;
}
