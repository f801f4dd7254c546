import { lookup } from 'node:dns/promises';
import axios from 'axios';
import { Readable } from 'node:stream';
import { HornError } from '../../common/errors';
import { certificateError } from '../http/auth';
import { HadoopEndpoint, readStream, remoteException, ServiceResponseError, type EndpointOptions } from '../http/endpoint';

// HDFS through WebHDFS (REST on the NameNode's HTTP port, data redirected to DataNodes), so that
// no JVM and no HDFS client library is needed anywhere horn runs.

export interface FileStatus {
  readonly path: string;
  readonly type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  readonly length: number;
  /** Milliseconds since the epoch; what a YARN LocalResource must name as its timestamp. */
  readonly modificationTime: number;
  readonly permission: string;
  readonly owner: string;
  readonly group: string;
  readonly replication: number;
  readonly blockSize: number;
}

export interface BlockLocation {
  readonly offset: number;
  readonly length: number;
  /** DataNode host names holding a replica. */
  readonly hosts: readonly string[];
}

export interface CreateOptions {
  readonly overwrite?: boolean;
  /** Octal string such as "600". */
  readonly permission?: string;
  readonly replication?: number;
  readonly blockSize?: number;
}

/** The path does not exist. */
export class HdfsNotFoundError extends HornError {
  constructor(readonly path: string, detail: string) {
    super(`HDFS path ${path} does not exist (${detail})`, 'cluster', { path });
  }
}

/** HDFS refused an operation on a path (permissions, exists already, quota…). */
export class HdfsOperationError extends HornError {
  constructor(readonly op: string, readonly path: string, readonly remoteClass: string | undefined, remoteMessage: string) {
    super(`HDFS ${op} ${path} failed: ${remoteClass ? `${shortClass(remoteClass)}: ` : ''}${remoteMessage}${tokenHint(remoteMessage)}`, 'cluster', { op, path, remoteClass });
  }
}

/** What to do about a delegation token that expired or was cancelled, when the message says so. */
function tokenHint(message: string): string {
  if (!/token\b.*\b(is expired|has expired|can't be found in cache)/i.test(message)) return '';
  return ' (the HDFS delegation token expired: a token lives at most dfs.namenode.delegation.token.max-lifetime, 7 days by default, and is renewed only until then; for longer jobs run `horn renew APP_ID` more often than dfs.namenode.delegation.token.renew-interval)';
}

const PREFIX = '/webhdfs/v1';
/** How many other DataNodes a read or a Buffer write tries after the NameNode's first choice cannot be reached. */
const DATANODE_RETRIES = 2;
/** Connection errors that mean the DataNode is not there (as opposed to one that answered). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

export class WebHdfsClient {
  private readonly nn: HadoopEndpoint;

  /** `namenodeUrls`: http://host:port of each NameNode (several under HA). */
  constructor(options: Omit<EndpointOptions, 'service' | 'baseUrls'> & { namenodeUrls: readonly string[] }) {
    this.nn = new HadoopEndpoint({ authProbePath: `${PREFIX}/?op=GETHOMEDIRECTORY`, tokenIn: 'param', ...options, service: 'WebHDFS', baseUrls: options.namenodeUrls });
  }

  get user(): string {
    return this.nn.user;
  }

  /** The endpoint, for what must authenticate the same way (the short user name under Kerberos). */
  get endpoint(): HadoopEndpoint {
    return this.nn;
  }

  /**
   * A delegation token for HDFS (GETDELEGATIONTOKEN, which needs Kerberos), as its URL string.
   * `kind` HDFS_DELEGATION_TOKEN makes it the token a DistributedFileSystem would get (service:
   * the NameNode's RPC address), which the ResourceManager renews over RPC; WebHDFS's default
   * kind ("WEBHDFS delegation") it would try to renew over HTTP at the RPC port, and fail.
   */
  async getDelegationToken(renewer: string, options: { kind?: string; service?: string } = {}): Promise<string> {
    const body = await this.json<{ Token: { urlString: string } | null }>('GET', '/', 'GETDELEGATIONTOKEN', { renewer, kind: options.kind, service: options.service });
    if (!body.Token?.urlString) throw new HdfsOperationError('GETDELEGATIONTOKEN', '/', undefined, 'the NameNode issued no token (is security off? tokens exist only under Kerberos)');
    return body.Token.urlString;
  }

  async getFileStatus(path: string): Promise<FileStatus> {
    const body = await this.json<{ FileStatus: RawStatus }>('GET', path, 'GETFILESTATUS');
    return toStatus(path, body.FileStatus);
  }

  /** The status, or undefined when the path does not exist. */
  async stat(path: string): Promise<FileStatus | undefined> {
    try {
      return await this.getFileStatus(path);
    } catch (err) {
      if (err instanceof HdfsNotFoundError) return undefined;
      throw err;
    }
  }

  async listStatus(path: string): Promise<FileStatus[]> {
    const body = await this.json<{ FileStatuses: { FileStatus: RawStatus[] } }>('GET', path, 'LISTSTATUS');
    return body.FileStatuses.FileStatus.map((s) => toStatus(joinPath(path, s.pathSuffix), s));
  }

  async mkdirs(path: string, permission?: string): Promise<void> {
    const body = await this.json<{ boolean: boolean }>('PUT', path, 'MKDIRS', { permission });
    if (!body.boolean) throw new HdfsOperationError('MKDIRS', path, undefined, 'the NameNode answered false');
  }

  async setPermission(path: string, permission: string): Promise<void> {
    await this.json('PUT', path, 'SETPERMISSION', { permission });
  }

  /** Deletes a path; false when it did not exist. */
  async delete(path: string, recursive = false): Promise<boolean> {
    const body = await this.json<{ boolean: boolean }>('DELETE', path, 'DELETE', { recursive });
    return body.boolean;
  }

  /** Renames; false when HDFS refuses without an exception (e.g. the destination exists). */
  async rename(path: string, destination: string): Promise<boolean> {
    const body = await this.json<{ boolean: boolean }>('PUT', path, 'RENAME', { destination });
    return body.boolean;
  }

  /**
   * Renames over an existing destination in one NameNode operation (rename with OVERWRITE), so a
   * reader of `destination` sees the old file or the new one, never neither.
   */
  async renameReplacing(path: string, destination: string): Promise<void> {
    await this.json('PUT', path, 'RENAME', { destination, renameoptions: 'OVERWRITE' });
  }

  /** Writes a file. A Buffer body is retried on transient failures; a stream is sent once. */
  async create(path: string, data: Buffer | Readable, options: CreateOptions = {}): Promise<void> {
    const params = {
      overwrite: options.overwrite ?? false,
      permission: options.permission,
      replication: options.replication,
      blocksize: options.blockSize,
      noredirect: true,
    };
    // A Buffer can be sent again to another DataNode when the first one cannot be reached; a
    // stream may have been read from already, so it goes once.
    const retries = data instanceof Readable ? 0 : DATANODE_RETRIES;
    return this.viaDataNode(retries, (excluded) => this.json<{ Location: string }>('PUT', path, 'CREATE', { ...params, ...excluded }), (location) => this.putAt(location, path, data));
  }

  private async putAt(location: { Location: string }, path: string, data: Buffer | Readable): Promise<void> {
    // axios' timeout bounds the whole request, which a stream of any length outlasts: a streamed
    // body is bounded by silence instead (no byte sent, or no answer after the last, for as long).
    const idle = data instanceof Readable ? abortWhenIdle(data, this.nn.timeoutMs, `no byte of ${path} went to the DataNode`) : undefined;
    const response = await axios
      .put(location.Location, data, {
        headers: { 'Content-Type': 'application/octet-stream' },
        maxBodyLength: Infinity,
        maxContentLength: Infinity,
        // The DataNode answers itself. With redirects on, axios' follow-redirects keeps every byte
        // of the body in memory to replay it, which a streamed upload of any size cannot afford.
        maxRedirects: 0,
        timeout: idle ? 0 : this.nn.timeoutMs,
        signal: idle?.signal,
        validateStatus: () => true,
        httpsAgent: this.nn.options.httpsAgent,
      })
      .catch((err: unknown) => {
        throw idle?.signal.aborted ? new HdfsOperationError('CREATE', path, undefined, `${idle.reason} for ${this.nn.timeoutMs} ms`) : (certificateError(err, location.Location, this.nn.options.caFile) ?? err);
      })
      .finally(() => idle?.stop());
    if (response.status !== 201) {
      const remote = await remoteException(response);
      throw new HdfsOperationError('CREATE', path, remote.className, remote.className ? remote.message : `DataNode answered HTTP ${response.status}: ${remote.message}`);
    }
  }

  /**
   * Writes under a temporary name beside `path` and renames it into place, so that no reader
   * ever sees a partial file. With `replace`, an existing `path` is deleted just before the
   * rename. Returns false (and removes the temporary) when HDFS refuses the rename, e.g.
   * because `path` exists. A stream `data` is written as it comes; if it fails, the temporary
   * is removed and the error passed on.
   */
  async createAtomically(path: string, data: Buffer | Readable, options: CreateOptions & { replace?: boolean } = {}): Promise<boolean> {
    const slash = path.lastIndexOf('/');
    const temporary = `${path.slice(0, slash)}/.${path.slice(slash + 1)}.${process.pid}.${Date.now()}.tmp`;
    try {
      await this.create(temporary, data, { ...options, overwrite: true });
    } catch (err) {
      await this.delete(temporary).catch(() => false);
      throw err;
    }
    if (options.replace) await this.delete(path);
    if (await this.rename(temporary, path)) return true;
    await this.delete(temporary);
    return false;
  }

  /** A stream of the file's bytes from `offset`, `length` bytes long (to the end when omitted). */
  async open(path: string, range: { offset?: number; length?: number } = {}): Promise<Readable> {
    const params = { offset: range.offset, length: range.length, noredirect: true };
    return this.viaDataNode(DATANODE_RETRIES, (excluded) => this.json<{ Location: string }>('GET', path, 'OPEN', { ...params, ...excluded }), (location) => this.getAt(location, path));
  }

  /**
   * One request to the DataNode the NameNode redirected to; when that DataNode cannot be reached
   * (it died and the NameNode does not know yet), the NameNode is asked again with it excluded
   * (WebHDFS's `excludedatanodes`), up to `retries` times.
   */
  private async viaDataNode<T>(retries: number, locate: (excluded: { excludedatanodes?: string }) => Promise<{ Location: string }>, send: (location: { Location: string }) => Promise<T>): Promise<T> {
    const excluded: string[] = [];
    for (;;) {
      const location = await locate(excluded.length ? { excludedatanodes: excluded.join(',') } : {});
      try {
        return await send(location);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (excluded.length >= retries || !code || !UNREACHABLE.has(code)) throw err;
        // The NameNode matches a bare entry against its DataNodes' IP addresses (a host:port entry
        // would have to be the transfer port, which the redirect does not show).
        const host = new URL(location.Location).hostname;
        excluded.push(await lookup(host).then((a) => a.address, () => host));
      }
    }
  }

  private async getAt(location: { Location: string }, path: string): Promise<Readable> {
    const response = await axios
      .get<Readable>(location.Location, { responseType: 'stream', timeout: this.nn.timeoutMs, validateStatus: () => true, httpsAgent: this.nn.options.httpsAgent })
      .catch((err: unknown) => {
        throw certificateError(err, location.Location, this.nn.options.caFile) ?? err;
      });
    if (response.status !== 200) {
      const text = (await readStream(response.data)).toString('utf8');
      throw new HdfsOperationError('OPEN', path, undefined, `DataNode answered HTTP ${response.status}: ${text.slice(0, 300)}`);
    }
    return response.data;
  }

  /**
   * Opens a file at one DataNode's own WebHDFS endpoint (http://host:port from the block
   * locations), not through the NameNode's redirect: how a reader picks the replica on its own host.
   * `namenodeRpcAddress` is the NameNode RPC host:port (or nameservice) the DataNode reads metadata from.
   */
  async openAtDataNode(httpAddress: string, namenodeRpcAddress: string, path: string, range: { offset?: number; length?: number } = {}): Promise<Readable> {
    if (!path.startsWith('/')) throw new HornError(`HDFS path must be absolute: ${JSON.stringify(path)}`, 'input', { path });
    // A DataNode takes user.name or a delegation token, not SPNEGO: under Kerberos without a token, go through the NameNode.
    if (this.nn.auth.kind === 'spnego') return this.open(path, range);
    const scheme = new URL(this.nn.baseUrl).protocol === 'https:' ? 'https' : 'http';
    const auth = await this.nn.credentials(this.nn.baseUrl);
    const response = await axios.get<Readable>(`${scheme}://${httpAddress}${PREFIX}${encodePath(path)}`, {
      httpsAgent: this.nn.options.httpsAgent,
      headers: auth.headers,
      params: { op: 'OPEN', ...auth.params, namenoderpcaddress: namenodeRpcAddress, offset: range.offset, length: range.length },
      responseType: 'stream',
      timeout: this.nn.timeoutMs,
      validateStatus: () => true,
    });
    if (response.status !== 200) {
      const text = (await readStream(response.data)).toString('utf8');
      throw new HdfsOperationError('OPEN', path, undefined, `DataNode ${httpAddress} answered HTTP ${response.status}: ${text.slice(0, 300)}`);
    }
    return response.data;
  }

  /** Block locations with each replica's DataNode HTTP address and rack (GET_BLOCK_LOCATIONS). */
  async getBlockReplicas(path: string): Promise<Array<BlockLocation & { replicas: Array<{ host: string; httpAddress: string; rack: string }> }>> {
    const body = await this.json<{ LocatedBlocks: { locatedBlocks: Array<{ startOffset: number; block: { numBytes: number }; locations: Array<{ hostName: string; infoPort: number; infoSecurePort?: number; networkLocation?: string }> }> } }>(
      'GET',
      path,
      'GET_BLOCK_LOCATIONS',
    );
    const secure = new URL(this.nn.baseUrl).protocol === 'https:';
    return body.LocatedBlocks.locatedBlocks.map((b) => ({
      offset: b.startOffset,
      length: b.block.numBytes,
      hosts: b.locations.map((l) => l.hostName),
      replicas: b.locations.map((l) => ({ host: l.hostName, httpAddress: `${l.hostName}:${secure ? l.infoSecurePort : l.infoPort}`, rack: l.networkLocation ?? '/default-rack' })),
    }));
  }

  async readFile(path: string): Promise<Buffer> {
    return readStream(await this.open(path));
  }

  /**
   * Where the file's blocks are. Uses GETFILEBLOCKLOCATIONS and falls back to the older
   * GET_BLOCK_LOCATIONS on NameNodes that lack it (Hadoop before 3.1.4).
   */
  async getFileBlockLocations(path: string): Promise<BlockLocation[]> {
    try {
      const body = await this.json<{ BlockLocations: { BlockLocation: Array<{ offset: number; length: number; hosts: string[] }> } }>(
        'GET',
        path,
        'GETFILEBLOCKLOCATIONS',
      );
      return body.BlockLocations.BlockLocation.map((b) => ({ offset: b.offset, length: b.length, hosts: b.hosts }));
    } catch (err) {
      if (!(err instanceof HdfsOperationError) || !/Invalid value for webhdfs parameter "?op"?/i.test(err.message)) throw err;
    }
    const body = await this.json<{ LocatedBlocks: { locatedBlocks: Array<{ startOffset: number; block: { numBytes: number }; locations: Array<{ hostName: string }> }> } }>(
      'GET',
      path,
      'GET_BLOCK_LOCATIONS',
    );
    return body.LocatedBlocks.locatedBlocks.map((b) => ({ offset: b.startOffset, length: b.block.numBytes, hosts: b.locations.map((l) => l.hostName) }));
  }

  private async json<T>(method: 'GET' | 'PUT' | 'DELETE', path: string, op: string, params: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
    if (!path.startsWith('/')) throw new HornError(`HDFS path must be absolute: ${JSON.stringify(path)}`, 'input', { path });
    try {
      const response = await this.nn.request<T>({ method, path: PREFIX + encodePath(path), params: { op, ...params } });
      return response.data;
    } catch (err) {
      if (err instanceof ServiceResponseError) {
        if (err.status === 404 || /FileNotFoundException/.test(err.remoteClass ?? '')) throw new HdfsNotFoundError(path, err.remoteMessage);
        throw new HdfsOperationError(op, path, err.remoteClass, err.remoteMessage);
      }
      throw err;
    }
  }
}

interface RawStatus {
  pathSuffix: string;
  type: FileStatus['type'];
  length: number;
  modificationTime: number;
  permission: string;
  owner: string;
  group: string;
  replication: number;
  blockSize: number;
}

function toStatus(path: string, s: RawStatus): FileStatus {
  return {
    path,
    type: s.type,
    length: s.length,
    modificationTime: s.modificationTime,
    permission: s.permission,
    owner: s.owner,
    group: s.group,
    replication: s.replication,
    blockSize: s.blockSize,
  };
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function joinPath(dir: string, name: string): string {
  if (!name) return dir;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** An AbortSignal that fires when `stream` has passed no data for `ms` (measured from the last chunk, also after its end). */
function abortWhenIdle(stream: Readable, ms: number, reason: string): { signal: AbortSignal; reason: string; stop(): void } {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), ms);
  const onData = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), ms);
  };
  stream.on('data', onData);
  return {
    signal: controller.signal,
    reason,
    stop: () => {
      clearTimeout(timer);
      stream.off('data', onData);
    },
  };
}

function shortClass(javaClass: string): string {
  return javaClass.slice(javaClass.lastIndexOf('.') + 1);
}
