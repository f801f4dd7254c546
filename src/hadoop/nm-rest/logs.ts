// The NodeManager's REST API (/ws/v1/node) for what horn reads there: the containers it tracks
// for an application and their log files, unframed. Used by `horn logs` and by the
// ApplicationMaster for the stderr of a failed container.
import axios, { AxiosError } from 'axios';
import type { Agent as HttpsAgent } from 'node:https';
import { describeError } from '../../common/errors';
import { KerberosLoginError, type SpnegoNegotiator } from '../http/auth';

export interface ContainerRef {
  readonly containerId: string;
  /** host:port of the NM web server. */
  readonly nodeHttpAddress: string;
  /** Whether this is an ApplicationMaster container. */
  readonly am: boolean;
}

export interface LogFileInfo {
  readonly fileName: string;
  readonly fileSize: number;
}

/** Whether a container id belongs to the application (application_<ts>_<seq> ↔ container_[eNN_]<ts>_<seq>_…). */
export function containerBelongsTo(containerId: string, applicationId: string): boolean {
  const app = /^application_(\d+)_(\d+)$/.exec(applicationId);
  const c = /^container_(?:e\d+_)?(\d+)_(\d+)_\d+_\d+$/.exec(containerId);
  return !!app && !!c && app[1] === c[1] && Number(app[2]) === Number(c[2]);
}

/**
 * The file's bytes from an NM containerlogs answer, which frames them as
 * "Container: … / LogAggregationType: … / ==== / LogType: / LogLastModifiedTime: / LogLength:N /
 * LogContents:\n<N bytes>\nEnd of LogType:…". An answer without that frame is returned whole.
 */
export function unframeContainerLog(body: Buffer): Buffer {
  const marker = Buffer.from('LogContents:\n');
  const at = body.indexOf(marker);
  if (at < 0) return body;
  const head = body.subarray(0, at).toString('utf8');
  const m = /LogLength:\s*(\d+)\s*$/m.exec(head);
  const start = at + marker.length;
  if (!m) {
    const end = body.lastIndexOf(Buffer.from('\nEnd of LogType:'));
    return body.subarray(start, end >= start ? end : body.length);
  }
  return body.subarray(start, Math.min(body.length, start + Number(m[1])));
}

/** containerLogsInfo in either of the shapes the NM sends (one object, or a list per aggregation type). */
export function parseLogFileList(body: unknown): LogFileInfo[] {
  const infos = Array.isArray(body) ? body : [body];
  const out: LogFileInfo[] = [];
  for (const item of infos) {
    const info = (item as { containerLogsInfo?: { containerLogInfo?: unknown } } | undefined)?.containerLogsInfo ?? item;
    const raw = (info as { containerLogInfo?: unknown } | undefined)?.containerLogInfo;
    const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
    for (const f of list as Array<{ fileName?: string; fileSize?: string | number }>) {
      if (f.fileName && !out.some((o) => o.fileName === f.fileName)) out.push({ fileName: f.fileName, fileSize: Number(f.fileSize ?? 0) });
    }
  }
  return out;
}

/** The NodeManager REST API (/ws/v1/node), one NM per call; answers for unknown things are undefined. */
export class NodeManagerLogs {
  private readonly warned = new Set<string>();

  constructor(
    private readonly user: string,
    private readonly timeoutMs = 5_000,
    private readonly warn: (message: string) => void = (m) => process.stderr.write(`horn: ${m}\n`),
    /** Under Kerberos: SPNEGO to each NodeManager's web server (and its CA for https). */
    private readonly security: { readonly negotiator?: SpnegoNegotiator; readonly httpsAgent?: HttpsAgent; readonly https?: boolean } = {},
  ) {}

  /** Containers the NM currently tracks for the application (running and recently completed). */
  async containers(nodeHttpAddress: string, applicationId: string): Promise<ContainerRef[]> {
    const body = await this.getJson<{ containers?: { container?: Array<{ id: string }> | { id: string } } | null }>(nodeHttpAddress, '/ws/v1/node/containers');
    const raw = body?.containers?.container;
    const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
    return list.filter((c) => containerBelongsTo(c.id, applicationId)).map((c) => ({ containerId: c.id, nodeHttpAddress, am: false }));
  }

  /** Whether the NM knows the application at all (it ran a container of it and still keeps its logs). */
  async knowsApplication(nodeHttpAddress: string, applicationId: string): Promise<boolean> {
    return (await this.getJson(nodeHttpAddress, `/ws/v1/node/apps/${applicationId}`)) !== undefined;
  }

  async logFiles(nodeHttpAddress: string, containerId: string): Promise<LogFileInfo[] | undefined> {
    const body = await this.getJson(nodeHttpAddress, `/ws/v1/node/containers/${containerId}/logs`);
    return body === undefined ? undefined : parseLogFileList(body);
  }

  async read(nodeHttpAddress: string, containerId: string, file: string): Promise<Buffer | undefined> {
    const response = await this.request<ArrayBuffer>(nodeHttpAddress, `/ws/v1/node/containerlogs/${containerId}/${encodeURIComponent(file)}`, 'arraybuffer');
    return response === undefined ? undefined : unframeContainerLog(Buffer.from(response));
  }

  private async getJson<T = unknown>(nodeHttpAddress: string, path: string): Promise<T | undefined> {
    return this.request<T>(nodeHttpAddress, path, 'json');
  }

  private async request<T>(nodeHttpAddress: string, path: string, responseType: 'json' | 'arraybuffer'): Promise<T | undefined> {
    try {
      const base = `${this.security.https ? 'https' : 'http'}://${nodeHttpAddress}`;
      const negotiator = this.security.negotiator;
      const cookie = negotiator ? await negotiator.cookie(base, '/ws/v1/node/info') : undefined;
      const response = await axios.get<T>(`${base}${path}`, {
        params: negotiator ? {} : { 'user.name': this.user },
        httpsAgent: this.security.httpsAgent,
        headers: { Accept: responseType === 'json' ? 'application/json' : 'text/plain', ...(cookie ? { Cookie: `hadoop.auth=${cookie}` } : {}) },
        responseType,
        timeout: this.timeoutMs,
        validateStatus: () => true,
      });
      // The NM answers 404, or 500/503 wrapping a NotFoundException, for containers and apps it does not have.
      if (response.status >= 400) {
        // A secure NM opens log files through SecureIOUtils, which needs Hadoop's native library (libhadoop).
        const text = responseType === 'arraybuffer' ? Buffer.from(response.data as ArrayBuffer).toString('utf8') : JSON.stringify(response.data ?? '');
        if (/Secure IO is not possible without native code/.test(text) && !this.warned.has(`native ${nodeHttpAddress}`)) {
          this.warned.add(`native ${nodeHttpAddress}`);
          this.warn(`NodeManager ${nodeHttpAddress} cannot serve log files: under Kerberos it needs Hadoop's native library (libhadoop) for SecureIOUtils, which it lacks`);
        }
        return undefined;
      }
      return response.data;
    } catch (err) {
      if (err instanceof KerberosLoginError) throw err;
      const why = err instanceof AxiosError ? (err.code ?? err.message) : describeError(err);
      if (!this.warned.has(nodeHttpAddress)) {
        this.warned.add(nodeHttpAddress);
        this.warn(`NodeManager ${nodeHttpAddress} did not answer (${why}); its containers' logs are skipped`);
      }
      return undefined;
    }
  }
}
