// Delegation tokens inside a YARN application (the ApplicationMaster and its containers, which
// have no Kerberos): WebHDFS authenticates with the HDFS delegation token from the container's
// credentials, the tokens (never the AMRMToken) travel on to every container the AM launches,
// and fresh ones that `horn renew` leaves in the staging directory replace them while the job runs.
import { describeError } from '../../common/errors';
import { Credentials } from '../security/credentials';
import { encodeTokenToUrlString, TokenKind, type Token } from '../security/token';
import { WebHdfsClient } from './client';

/** Name of the file `horn renew` writes in the application's staging directory (a credentials file, mode 600). */
export const RENEWED_TOKENS_FILE = 'renewed-tokens';

/** Tokens a container may pass on: the RM gives the AM its AMRMToken, which must stay with the AM. */
const NOT_PASSED_ON: ReadonlySet<string> = new Set([TokenKind.AMRM, TokenKind.NM, TokenKind.CONTAINER]);

/** The delegation tokens an AM or container holds now. */
export class DelegationTokens {
  private tokens: Token[];
  private renewedAt = 0;

  constructor(credentials: Credentials) {
    this.tokens = [...credentials.tokens.values()].filter((t) => !NOT_PASSED_ON.has(t.kind));
  }

  /** The HDFS delegation token (the newest, when several), or undefined on a cluster without Kerberos. */
  get hdfs(): Token | undefined {
    const all = this.tokens.filter((t) => t.kind === TokenKind.HDFS_DELEGATION);
    return all[all.length - 1];
  }

  get all(): readonly Token[] {
    return this.tokens;
  }

  /** Credentials for a container: these tokens and, when given, a secret. */
  credentials(secret?: { alias: string; value: Uint8Array }): Credentials {
    const c = new Credentials();
    for (const t of this.tokens) c.addToken(t.service || t.kind, t);
    if (secret) c.addSecret(secret.alias, secret.value);
    return c;
  }

  /** Takes fresh tokens; returns the kinds replaced. Tokens of kinds not renewed are kept. */
  replace(fresh: Credentials, modifiedAt: number): string[] {
    const incoming = [...fresh.tokens.values()].filter((t) => !NOT_PASSED_ON.has(t.kind));
    const kinds = new Set(incoming.map((t) => t.kind));
    this.tokens = [...this.tokens.filter((t) => !kinds.has(t.kind)), ...incoming];
    this.renewedAt = modifiedAt;
    return [...kinds];
  }

  get lastRenewal(): number {
    return this.renewedAt;
  }
}

/** A WebHDFS client for code running in a YARN container: on the HDFS delegation token when there is one, else as `user`. */
export function containerWebHdfs(namenodeUrls: readonly string[], user: string, tokens: DelegationTokens): WebHdfsClient {
  if (!tokens.hdfs) return new WebHdfsClient({ namenodeUrls, user });
  return new WebHdfsClient({ namenodeUrls, user, auth: { kind: 'token', token: () => encodeTokenToUrlString(tokens.hdfs!) } });
}

/**
 * Reads the application's renewed-tokens file whenever it changes (every `intervalMs`) and puts
 * its tokens in place of the old ones; WebHDFS clients made by containerWebHdfs use them at once.
 */
export function watchRenewedTokens(hdfs: WebHdfsClient, tokens: DelegationTokens, stagingDir: string, log: (message: string) => void, intervalMs = 10_000): { stop(): void } {
  if (!tokens.hdfs) return { stop: () => undefined };
  const path = `${stagingDir}/${RENEWED_TOKENS_FILE}`;
  let busy = false;
  const check = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const st = await hdfs.stat(path);
      if (!st || st.modificationTime <= tokens.lastRenewal) return;
      const kinds = tokens.replace(Credentials.parse(await hdfs.readFile(path), path), st.modificationTime);
      log(`renewed delegation tokens (${kinds.join(', ')}) from ${path}`);
    } catch (err) {
      log(`could not read renewed tokens from ${path}: ${describeError(err)}`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
