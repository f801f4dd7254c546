import axios, { AxiosError, type AxiosRequestConfig, type AxiosResponse, type Method } from 'axios';
import { HornError } from '../../common/errors';
import { sleep } from '../../common/sleep';

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
  /** The simple-auth user, sent as user.name. */
  readonly user: string;
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
  ): Promise<{ kind: 'response'; response: AxiosResponse<T> } | { kind: 'next'; cause: string } | { kind: 'error'; error: Error }> {
    const config: AxiosRequestConfig = {
      method: req.method,
      url: baseUrl + req.path,
      params: { ...req.params, 'user.name': this.options.user },
      data: req.data,
      headers: req.headers,
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
      if (code === 'ENOTFOUND') return { kind: 'next', cause: `host not found (${new URL(baseUrl).hostname})` };
      if (code && TRANSIENT_CODES.has(code)) return { kind: 'next', cause: `${code} from ${baseUrl}` };
      return { kind: 'error', error: err instanceof Error ? err : new Error(String(err)) };
    }
    if (response.status < 400) return { kind: 'response', response };
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
