// The Hadoop credentials file ("token storage"): HDTS magic, a format byte, then either the
// Writable encoding (format 0, what Hadoop writes by default and what the NodeManager puts in
// $HADOOP_TOKEN_FILE_LOCATION) or a varint-delimited CredentialsProto (format 1).
import { readFile, writeFile } from 'node:fs/promises';
import { codec } from '../proto';
import { decodeVarint32 } from '../ipc/varint';
import { encodeDelimited } from '../ipc/framing';
import { readTokenWritable, Token, writeTokenWritable } from './token';
import { WritableFormatError, WritableReader, WritableWriter } from './writable';

export const CREDENTIALS_MAGIC = 'HDTS';

export enum CredentialsFormat {
  WRITABLE = 0,
  PROTOBUF = 1,
}

/** A credentials file that cannot be read; names the file (when known), the offset and the field. */
export class CredentialsFormatError extends Error {
  constructor(
    readonly source: string,
    readonly offset: number,
    readonly field: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`credentials ${source}: ${field} at offset ${offset}: ${detail}`, options);
    this.name = 'CredentialsFormatError';
  }
}

interface TokenProtoMessage {
  identifier: Uint8Array;
  password: Uint8Array;
  kind: string;
  service: string;
}
interface CredentialsKVMessage {
  alias: string;
  token?: TokenProtoMessage;
  secret?: Uint8Array;
}
interface CredentialsMessage {
  tokens: CredentialsKVMessage[];
  secrets: CredentialsKVMessage[];
}
const credentialsCodec = codec<CredentialsMessage>('hadoop.common.CredentialsProto');

/** Tokens by alias and secret keys by alias, as org.apache.hadoop.security.Credentials holds them. */
export class Credentials {
  readonly tokens = new Map<string, Token>();
  readonly secrets = new Map<string, Uint8Array>();

  addToken(alias: string, token: Token): this {
    this.tokens.set(alias, token);
    return this;
  }

  getToken(alias: string): Token | undefined {
    return this.tokens.get(alias);
  }

  /** First token of the given kind (the AMRMToken is stored under alias "", so find it by kind). */
  findTokenByKind(kind: string): Token | undefined {
    for (const t of this.tokens.values()) if (t.kind === kind) return t;
    return undefined;
  }

  tokensByKind(kind: string): Token[] {
    return [...this.tokens.values()].filter((t) => t.kind === kind);
  }

  addSecret(alias: string, secret: Uint8Array): this {
    this.secrets.set(alias, secret);
    return this;
  }

  getSecret(alias: string): Uint8Array | undefined {
    return this.secrets.get(alias);
  }

  /** Copies every token and secret of `other` into this one (later wins on equal aliases). */
  merge(other: Credentials): this {
    for (const [a, t] of other.tokens) this.tokens.set(a, t);
    for (const [a, s] of other.secrets) this.secrets.set(a, s);
    return this;
  }

  serialize(format: CredentialsFormat = CredentialsFormat.WRITABLE): Buffer {
    const header = Buffer.from([...Buffer.from(CREDENTIALS_MAGIC, 'ascii'), format]);
    if (format === CredentialsFormat.PROTOBUF) {
      const message: CredentialsMessage = {
        tokens: [...this.tokens].map(([alias, token]) => ({ alias, token: { ...token } })),
        secrets: [...this.secrets].map(([alias, secret]) => ({ alias, secret })),
      };
      return Buffer.concat([header, encodeDelimited(credentialsCodec.encode(message))]);
    }
    const w = new WritableWriter().writeRaw(header).writeVLong(this.tokens.size);
    for (const [alias, token] of this.tokens) writeTokenWritable(token, w.writeText(alias));
    w.writeVLong(this.secrets.size);
    for (const [alias, secret] of this.secrets) w.writeText(alias).writeVBytes(secret);
    return w.toBuffer();
  }

  /** Parses a credentials blob in either format. `source` names it in errors (a path or "CLC tokens"). */
  static parse(bytes: Uint8Array, source = '<bytes>'): Credentials {
    if (bytes.length < 5) throw new CredentialsFormatError(source, 0, 'header', `only ${bytes.length} bytes`);
    const magic = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
    if (magic !== CREDENTIALS_MAGIC) {
      throw new CredentialsFormatError(source, 0, 'magic', `expected "HDTS", found ${JSON.stringify(magic)}`);
    }
    const format = bytes[4]!;
    if (format === CredentialsFormat.WRITABLE) return parseWritable(bytes, source);
    if (format === CredentialsFormat.PROTOBUF) return parseProtobuf(bytes, source);
    throw new CredentialsFormatError(source, 4, 'format', `unknown format byte ${format} (0 = Writable, 1 = protobuf)`);
  }

  static async readFile(path: string): Promise<Credentials> {
    return Credentials.parse(await readFile(path), path);
  }

  /** Reads `$HADOOP_TOKEN_FILE_LOCATION`, the file the NodeManager writes for every container. */
  static async fromContainerEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<Credentials> {
    const path = env.HADOOP_TOKEN_FILE_LOCATION;
    if (!path) throw new CredentialsFormatError('$HADOOP_TOKEN_FILE_LOCATION', 0, 'environment', 'variable is not set');
    return Credentials.readFile(path);
  }

  async writeFile(path: string, format: CredentialsFormat = CredentialsFormat.WRITABLE): Promise<void> {
    await writeFile(path, this.serialize(format), { mode: 0o600 });
  }
}

function parseWritable(bytes: Uint8Array, source: string): Credentials {
  const r = new WritableReader(bytes, 5);
  const creds = new Credentials();
  try {
    const numTokens = r.readVInt('token count');
    for (let i = 0; i < numTokens; i++) {
      const alias = r.readText(`token[${i}].alias`);
      creds.addToken(alias, readTokenWritable(r, `token[${i}]`));
    }
    const numSecrets = r.readVInt('secret count');
    for (let i = 0; i < numSecrets; i++) {
      const alias = r.readText(`secret[${i}].alias`);
      creds.addSecret(alias, r.readVBytes(`secret[${i}].value`));
    }
  } catch (e) {
    if (e instanceof WritableFormatError) throw new CredentialsFormatError(source, e.offset, e.field, e.detail, { cause: e });
    throw e;
  }
  // Trailing bytes are tolerated like Hadoop does: the RM REST path stores a whole backing array.
  return creds;
}

function parseProtobuf(bytes: Uint8Array, source: string): Credentials {
  const len = decodeVarint32(bytes, 5);
  if (!len) throw new CredentialsFormatError(source, 5, 'CredentialsProto length', 'truncated varint');
  const start = 5 + len.length;
  if (start + len.value > bytes.length) {
    throw new CredentialsFormatError(source, 5, 'CredentialsProto', `needs ${len.value} bytes, only ${bytes.length - start} left`);
  }
  let message: CredentialsMessage;
  try {
    message = credentialsCodec.decode(bytes.subarray(start, start + len.value));
  } catch (cause) {
    throw new CredentialsFormatError(source, start, 'CredentialsProto', (cause as Error).message, { cause });
  }
  const creds = new Credentials();
  message.tokens.forEach((kv, i) => {
    if (!kv.token) throw new CredentialsFormatError(source, start, `tokens[${i}].token`, `alias ${JSON.stringify(kv.alias)} has no token`);
    const t = kv.token;
    creds.addToken(kv.alias, {
      identifier: new Uint8Array(t.identifier),
      password: new Uint8Array(t.password),
      kind: t.kind,
      service: t.service,
    });
  });
  for (const kv of message.secrets) creds.addSecret(kv.alias, new Uint8Array(kv.secret ?? new Uint8Array()));
  return creds;
}
