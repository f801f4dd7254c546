// How horn authenticates to Hadoop's HTTP services (WebHDFS, the ResourceManager and
// NodeManager REST APIs):
//   simple  user.name=<user> (hadoop.security.authentication simple)
//   spnego  Kerberos (SPNEGO) once per service, then the hadoop.auth cookie the service signs
//   token   a delegation token: WebHDFS delegation=<token>, the RM X-Hadoop-Delegation-Token header
//
// SPNEGO goes through `curl --negotiate`, not the optional `kerberos` npm addon: the addon has
// no prebuilt binary that installs here and must be compiled against libkrb5-dev on every edge
// node, while curl with GSS-API is on every Kerberized edge node already (Debian's curl is built
// with it), and only one request per service and command needs it. Everything after that runs
// on the service's own cookie (or on delegation tokens) through axios. A keytab login is a
// `kinit -k -t` into a private credential cache that is removed afterwards, never the user's.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { HornError } from '../../common/errors';

export type HttpAuth =
  | { readonly kind: 'simple'; readonly user: string }
  | { readonly kind: 'spnego'; readonly negotiator: SpnegoNegotiator }
  | { readonly kind: 'token'; readonly token: () => string };

/** No usable Kerberos credentials: no ticket, an expired one, or a keytab that does not work. Exit 4. */
export class KerberosLoginError extends HornError {
  constructor(message: string, context: Record<string, string | number | boolean | undefined> = {}) {
    super(message, 'cluster', context);
  }
}

/** The TLS certificate of a service is not trusted (no --ca-file for a private CA, or the wrong one). */
export class CertificateError extends HornError {
  constructor(url: string, code: string, detail: string, caFile: string | undefined) {
    super(
      `TLS: the certificate of ${url} is not trusted (${code}: ${detail}); ${caFile ? `it is not signed by the CA in ${caFile}` : "pass the cluster's CA certificate (PEM) with --ca-file FILE or HORN_CA_FILE"}`,
      'cluster',
      { url, code, caFile },
    );
  }
}

const CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** A certificate failure as a CertificateError, or undefined for any other error. */
export function certificateError(err: unknown, url: string, caFile: string | undefined): CertificateError | undefined {
  const code = (err as { code?: string } | undefined)?.code;
  if (!code || !CERTIFICATE_CODES.has(code)) return undefined;
  return new CertificateError(url, code, (err as Error).message, caFile);
}

/** An HTTPS agent trusting the system CAs and, when given, the CA file (PEM). */
export function httpsAgentFor(caFile: string | undefined): HttpsAgent | undefined {
  if (!caFile) return undefined;
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new HornError(`--ca-file ${caFile}: cannot read it (${(err as Error).message})`, 'input', { file: caFile });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new HornError(`--ca-file ${caFile}: expected PEM certificates (-----BEGIN CERTIFICATE-----)`, 'input', { file: caFile });
  return new HttpsAgent({ ca: [...rootCertificates, pem], keepAlive: true });
}

/** Where Kerberos credentials come from: the user's ticket cache, or a keytab for a principal. */
export interface KerberosCredentials {
  readonly keytab?: string;
  readonly principal?: string;
}

interface CurlResult {
  readonly status: number;
  readonly headers: string;
  readonly diagnostics: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return reject(error);
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The first value of `name=` in a Cookie/Set-Cookie value list (quotes kept, as the server sent them). */
export function parseSetCookie(headers: string, name: string): string | undefined {
  for (const line of headers.split(/\r?\n/)) {
    const m = /^set-cookie:\s*([^=;\s]+)=("[^"]*"|[^;\r\n]*)/i.exec(line);
    if (m && m[1] === name && m[2] !== '' && m[2] !== '""') return m[2];
  }
  return undefined;
}

/** The short user name the service put in its hadoop.auth cookie ("u=alice&p=alice@REALM&t=kerberos&e=…&s=…"). */
export function cookieUser(cookie: string): string | undefined {
  const m = /(?:^"?|&)u=([^&"]+)/.exec(cookie);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

/**
 * Kerberos for HTTP: a hadoop.auth cookie per service base URL, obtained with one
 * `curl --negotiate` request and reused for every later request to that service.
 */
export class SpnegoNegotiator {
  private readonly cookies = new Map<string, Promise<string>>();
  private ccacheDir: string | undefined;
  private env: NodeJS.ProcessEnv | undefined;

  constructor(
    private readonly credentials: KerberosCredentials,
    private readonly options: { readonly caFile?: string; readonly timeoutMs?: number; readonly baseEnv?: NodeJS.ProcessEnv } = {},
  ) {}

  /** The principal named by --principal (or the keytab login), when there is one. */
  get principal(): string | undefined {
    return this.credentials.principal;
  }

  /** The cookie for `baseUrl`, negotiating with `probePath` when there is none yet (or `renew`). */
  cookie(baseUrl: string, probePath: string, renew = false): Promise<string> {
    const cached = this.cookies.get(baseUrl);
    if (cached && !renew) return cached;
    const p = this.negotiate(baseUrl + probePath);
    this.cookies.set(baseUrl, p);
    p.catch(() => this.cookies.delete(baseUrl));
    return p;
  }

  /** Removes the private credential cache of a keytab login. */
  close(): void {
    if (this.ccacheDir) rmSync(this.ccacheDir, { recursive: true, force: true });
    this.ccacheDir = undefined;
    this.env = undefined;
  }

  private async environment(): Promise<NodeJS.ProcessEnv> {
    if (this.env) return this.env;
    const base = this.options.baseEnv ?? process.env;
    const { keytab, principal } = this.credentials;
    if (!keytab) {
      this.env = base;
      return base;
    }
    if (!principal) throw new KerberosLoginError(`--keytab ${keytab} needs --principal NAME (the principal whose keys it holds)`, { keytab });
    this.ccacheDir = mkdtempSync(join(tmpdir(), 'horn-krb5-'));
    const env = { ...base, KRB5CCNAME: `FILE:${join(this.ccacheDir, 'ccache')}` };
    let r: { code: number; stderr: string };
    try {
      r = await run('kinit', ['-k', '-t', keytab, principal], env, this.options.timeoutMs ?? 10_000);
    } catch {
      this.close();
      throw new KerberosLoginError('kinit (MIT Kerberos, Debian package krb5-user) is not installed; it is needed for --keytab', { keytab });
    }
    if (r.code !== 0) {
      this.close();
      const why = r.stderr.trim().replace(/^kinit:\s*/, '') || `exit status ${r.code}`;
      throw new KerberosLoginError(`Kerberos login as ${principal} with keytab ${keytab} failed: ${why}`, { principal, keytab });
    }
    this.env = env;
    return env;
  }

  private async negotiate(url: string): Promise<string> {
    const env = await this.environment();
    const args = ['-sS', '-v', '--negotiate', '-u', ':', '-o', '/dev/null', '-D', '-', '--max-time', String(Math.ceil((this.options.timeoutMs ?? 10_000) / 1000))];
    if (this.options.caFile) args.push('--cacert', this.options.caFile);
    args.push(url);
    let result: CurlResult;
    try {
      const r = await run('curl', args, env, (this.options.timeoutMs ?? 10_000) + 2_000);
      // -v shows why GSS-API failed; only those lines are kept (never the Authorization header).
      const diagnostics = r.stderr
        .split(/\r?\n/)
        .filter((l) => /gss|kerberos|credential|ticket|SSL certificate|curl: \(/i.test(l) && !/authorization:/i.test(l))
        .map((l) => l.replace(/^[*<>]\s*/, '').trim())
        .filter((l, i, all) => all.indexOf(l) === i)
        .join('; ');
      const statuses = [...r.stdout.matchAll(/^HTTP\/[\d.]+\s+(\d{3})/gim)].map((m) => Number(m[1]));
      // curl's exit status 60: the peer's certificate is not trusted.
      if (r.code === 60) throw new CertificateError(new URL(url).origin, 'SELF_SIGNED_CERT_IN_CHAIN', diagnostics || 'curl exit status 60', this.options.caFile);
      if (r.code !== 0 && statuses.length === 0) throw new HornError(`SPNEGO request to ${url} failed: ${diagnostics || `curl exit status ${r.code}`}`, 'cluster', { url });
      result = { status: statuses[statuses.length - 1] ?? 0, headers: r.stdout, diagnostics };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new HornError('curl is not installed; horn uses curl --negotiate for Kerberos (SPNEGO)', 'cluster', { url });
      throw err;
    }
    const cookie = parseSetCookie(result.headers, 'hadoop.auth');
    if (result.status < 400 && cookie) return cookie;
    if (result.status === 401 || result.status === 403) {
      const who = this.credentials.principal ? ` as ${this.credentials.principal}` : '';
      const hint = this.credentials.keytab
        ? `the service refused the Kerberos credentials of ${this.credentials.principal}`
        : 'no valid Kerberos ticket: run kinit, or pass --keytab FILE --principal NAME';
      throw new KerberosLoginError(`SPNEGO to ${new URL(url).origin}${who} failed (HTTP ${result.status}): ${hint}${result.diagnostics ? ` (${result.diagnostics})` : ''}`, {
        url,
        principal: this.credentials.principal,
      });
    }
    throw new HornError(`SPNEGO to ${url} answered HTTP ${result.status} without a hadoop.auth cookie${result.diagnostics ? ` (${result.diagnostics})` : ''}`, 'cluster', { url });
  }
}
