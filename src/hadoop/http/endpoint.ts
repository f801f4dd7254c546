import axios, { AxiosError, type AxiosRequestConfig, type AxiosResponse, type Method } from 'axios';
import type { Agent as HttpsAgent } from 'node:https';
import { HornError } from '../../common/errors';
import { sleep } from '../../common/sleep';
import { certificateError, cookieUser, type HttpAuth } from './auth';

/**
 * A Hadoop HTTP service (WebHDFS, ResourceManager REST) reached through one or more base URLs:
 * several for HA pairs, where only the active one answers. Requests go to the last URL that
 * worked; connection failures and standby answers move on to the next URL, and after a full
 * round the request backs off and tries again, within a bounded number of rounds.
 */
export interface EndpointOptions {
  /** What this is, for messages: "ResourceManager", "WebHDFS". */
  readonly service: string;
  /** Base URLs such as http://master.test:8088, tried in order. */
  readonly baseUrls: readonly string[];
  /** Who horn acts as: sent as user.name under simple authentication. */
  readonly user: string;
  /** How requests authenticate; simple (user.name) by default. */
  readonly auth?: HttpAuth;
  /** A harmless GET under each base URL for the SPNEGO handshake, e.g. /ws/v1/cluster/info. */
  readonly authProbePath?: string;
  /** Where a delegation token goes: WebHDFS's delegation= parameter or the RM's X-Hadoop-Delegation-Token header. */
  readonly tokenIn?: 'param' | 'header';
  /** For https:// URLs with a private CA (--ca-file). */
  readonly httpsAgent?: HttpsAgent;
  readonly caFile?: string;
  /** Idle timeout of one request in ms. */
  readonly timeoutMs?: number;
  /** Full rounds over all URLs before giving up on a transient failure. */
  readonly rounds?: number;
  /** First back-off between rounds in ms (doubles each round). */
  readonly backoffMs?: number;
}

export interface EndpointRequest {
  readonly method: Method;
  readonly path: string;
  readonly params?: Record<string, string | number | boolean | undefined>;
  readonly data?: unknown;
  readonly headers?: Record<string, string>;
  readonly responseType?: 'json' | 'stream' | 'arraybuffer';
  /** Whether the request may be sent again after a failure (false for streamed bodies). */
  readonly retryable?: boolean;
  readonly maxRedirects?: number;
}

/** The service could not be reached at any of its addresses. */
export class ServiceUnreachableError extends HornError {
  constructor(service: string, urls: readonly string[], cause: string) {
    super(`${service} is unreachable at ${urls.join(', ')}: ${cause}`, 'cluster', { service, urls: urls.join(','), cause });
  }
}

/** The service answered with an error status. `remoteClass` is the Java exception, where Hadoop names one. */
export class ServiceResponseError extends HornError {
  constructor(
    readonly service: string,
    readonly status: number,
    readonly remoteClass: string | undefined,
    readonly remoteMessage: string,
    readonly url: string,
  ) {
    super(`${service} refused ${url}: HTTP ${status}${remoteClass ? ` ${remoteClass}` : ''}: ${remoteMessage}`, 'cluster', {
      service,
      status,
      remoteClass,
      url,
    });
  }
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN']);

export class HadoopEndpoint {
  private active = 0;
  readonly timeoutMs: number;
  private readonly rounds: number;
  private readonly backoffMs: number;

  constructor(readonly options: EndpointOptions) {
    if (options.baseUrls.length === 0) throw new HornError(`no address configured for ${options.service}`, 'cluster', { service: options.service });
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.rounds = options.rounds ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
  }

  get user(): string {
    return this.options.user;
  }

  /** The authentication in use (simple unless configured). */
  get auth(): HttpAuth {
    return this.options.auth ?? { kind: 'simple', user: this.options.user };
  }

  /**
   * Query parameters and headers that authenticate a request to `baseUrl` (also what a request
   * to a DataNode redirected from it needs, where the NameNode did not put a token in the URL).
   */
  async credentials(baseUrl: string, renew = false): Promise<{ params: Record<string, string>; headers: Record<string, string> }> {
    const auth = this.auth;
    if (auth.kind === 'simple') return { params: { 'user.name': auth.user }, headers: {} };
    if (auth.kind === 'token') {
      return this.options.tokenIn === 'header' ? { params: {}, headers: { 'X-Hadoop-Delegation-Token': auth.token() } } : { params: { delegation: auth.token() }, headers: {} };
    }
    const cookie = await auth.negotiator.cookie(baseUrl, this.options.authProbePath ?? '/', renew);
    return { params: {}, headers: { Cookie: `hadoop.auth=${cookie}` } };
  }

  /** The short user name the service knows this client by (from its SPNEGO cookie), or the configured user. */
  async authenticatedUser(): Promise<string> {
    const auth = this.auth;
    if (auth.kind !== 'spnego') return this.options.user;
    const cookie = await auth.negotiator.cookie(this.baseUrl, this.options.authProbePath ?? '/');
    return cookieUser(cookie) ?? this.options.user;
  }

  /** The base URL that answered last. */
  get baseUrl(): string {
    return this.options.baseUrls[this.active];
  }

  async request<T>(req: EndpointRequest): Promise<AxiosResponse<T>> {
    const urls = this.options.baseUrls;
    const rounds = req.retryable === false ? 1 : this.rounds;
    let lastCause = 'no attempt made';
    for (let round = 0; round < rounds; round++) {
      if (round > 0) await sleep(this.backoffMs * 2 ** (round - 1));
      for (let i = 0; i < urls.length; i++) {
        const index = (this.active + i) % urls.length;
        const outcome = await this.attempt<T>(urls[index], req);
        if (outcome.kind === 'response') {
          this.active = index;
          return outcome.response;
        }
        if (outcome.kind === 'error') throw outcome.error;
        lastCause = outcome.cause;
      }
    }
    throw new ServiceUnreachableError(this.options.service, urls, lastCause);
  }

  private async attempt<T>(
    baseUrl: string,
    req: EndpointRequest,
    renewed = false,
  ): Promise<{ kind: 'response'; response: AxiosResponse<T> } | { kind: 'next'; cause: string } | { kind: 'error'; error: Error }> {
    let auth: { params: Record<string, string>; headers: Record<string, string> };
    try {
      auth = await this.credentials(baseUrl);
    } catch (err) {
      return { kind: 'error', error: err instanceof Error ? err : new Error(String(err)) };
    }
    const config: AxiosRequestConfig = {
      method: req.method,
      url: baseUrl + req.path,
      params: { ...req.params, ...auth.params },
      data: req.data,
      headers: { ...req.headers, ...auth.headers },
      httpsAgent: this.options.httpsAgent,
      responseType: req.responseType ?? 'json',
      timeout: this.timeoutMs,
      maxRedirects: req.maxRedirects ?? 0,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
      validateStatus: () => true,
      // Hadoop's JSON has 64-bit numbers (file ids, timestamps) that fit doubles; parse normally.
      transitional: { clarifyTimeoutError: true },
    };
    let response: AxiosResponse<T>;
    try {
      response = await axios.request<T>(config);
    } catch (err) {
      const code = err instanceof AxiosError ? err.code : undefined;
      const tls = certificateError(err, baseUrl, this.options.caFile);
      if (tls) return { kind: 'error', error: tls };
      if (code === 'ENOTFOUND') return { kind: 'next', cause: `host not found (${new URL(baseUrl).hostname})` };
      if (code && TRANSIENT_CODES.has(code)) return { kind: 'next', cause: `${code} from ${baseUrl}` };
      return { kind: 'error', error: err instanceof Error ? err : new Error(String(err)) };
    }
    if (response.status < 400) return { kind: 'response', response };
    // A hadoop.auth cookie that expired (or a service restarted with a new secret): negotiate again, once.
    if (response.status === 401 && this.auth.kind === 'spnego' && !renewed) {
      try {
        await this.credentials(baseUrl, true);
      } catch (err) {
        return { kind: 'error', error: err instanceof Error ? err : new Error(String(err)) };
      }
      return this.attempt<T>(baseUrl, req, true);
    }
    const remote = await remoteException(response);
    // An HA standby names itself; the active one is elsewhere.
    if (response.status === 503 || /StandbyException|standby/i.test(remote.className ?? '') || /This is standby RM/i.test(remote.message)) {
      return { kind: 'next', cause: `${baseUrl} is a standby` };
    }
    return {
      kind: 'error',
      error: new ServiceResponseError(this.options.service, response.status, remote.className, remote.message, `${req.method.toUpperCase()} ${baseUrl}${req.path}`),
    };
  }
}

/** Hadoop's error bodies: {"RemoteException":{javaClassName,message}} from WebHDFS and the RM. */
export async function remoteException(response: AxiosResponse): Promise<{ className?: string; message: string }> {
  let body: unknown = response.data;
  if (body && typeof body === 'object' && 'pipe' in body) body = (await readStream(body as NodeJS.ReadableStream)).toString('utf8');
  if (body instanceof ArrayBuffer || Buffer.isBuffer(body)) body = Buffer.from(body as ArrayBuffer).toString('utf8');
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text);
    } catch {
      return { message: text.trim().slice(0, 500) || `HTTP ${response.status}` };
    }
  }
  const remote = (body as { RemoteException?: { javaClassName?: string; exception?: string; message?: string } } | undefined)?.RemoteException;
  if (remote) return { className: remote.javaClassName ?? remote.exception, message: remote.message ?? '' };
  return { message: JSON.stringify(body ?? '').slice(0, 500) };
}

export async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
