// The ApplicationMaster's client of the RM scheduler port (ApplicationMasterProtocol):
// register, allocate heartbeats with absolute asks and response_id sequencing, AMRMToken
// replacement, finish with retry until the RM has stored the final state.
import { clusterEndpoints, loadHadoopConfiguration } from '../conf';
import { ConnectionError, RemoteException, RpcConnection, RpcConnectionOptions, RpcTimeoutError, ServerUnreachableError } from '../ipc';
import { qopsFromProtection, TokenAuthenticator, type Qop } from '../sasl';
import { Credentials } from '../security/credentials';
import { Token, TokenKind } from '../security/token';
import { AskTable, ContainerRequest, MatchResult, TrackedRequest } from './asks';
import { formatContainerId } from './ids';
import { NMTokenCache } from './nm-tokens';
import {
  allocate,
  AllocateRequest,
  AllocateResponse,
  APPLICATION_MASTER_PROTOCOL,
  finishApplicationMaster,
  invoke,
  registerApplicationMaster,
  RegisterApplicationMasterResponse,
  RpcMethod,
} from './protocols';
import { normaliseStatus } from './records';
import type { Container, ContainerId, ContainerStatus, FinalApplicationStatus, Resource } from './records';
import { sleep } from '../../common/sleep';
import { parseHostPort } from '../../common/address';

export class AMRMClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AMRMClientError';
  }
}

export interface AMRMClientOptions {
  /** RM scheduler address (yarn.resourcemanager.scheduler.address), e.g. master.test:8030. */
  host: string;
  port: number;
  /** Further RM scheduler addresses (RM HA), tried in order when the current one is unreachable or standby. */
  failoverAddresses?: ReadonlyArray<{ host: string; port: number }>;
  amrmToken: Token;
  /** SASL qops to accept, in order of preference; default: the strongest the RM offers. */
  acceptQops?: readonly Qop[];
  /** Rack of a host as the RM sees it; default /default-rack. */
  rackOf?: (host: string) => string;
  /** Shared with the NM client so it can authenticate to the nodes. */
  nmTokens?: NMTokenCache;
  connection?: Partial<Omit<RpcConnectionOptions, 'host' | 'port' | 'protocol' | 'authenticator'>>;
}

export interface RegisterOptions {
  host: string;
  rpcPort?: number;
  /** Root URL of the AM's web UI (proxied by the RM at /proxy/<appId>/). */
  trackingUrl?: string;
}

export interface AllocatedContainer {
  container: Container;
  /** The request this container satisfies. */
  request: TrackedRequest;
  locality: MatchResult['locality'];
}

export interface AllocateResult {
  responseId: number;
  allocated: AllocatedContainer[];
  /** Containers that matched no outstanding request; they were queued for release. */
  surplus: Container[];
  completed: ContainerStatus[];
  /** Available resources for this application (headroom). */
  headroom?: Resource;
  numClusterNodes?: number;
  amCommand?: 'AM_RESYNC' | 'AM_SHUTDOWN';
  /** True when the RM sent a new AMRMToken in this response (already in use for reconnects). */
  amrmTokenRenewed: boolean;
}

export interface FinishOptions {
  finalStatus: 'SUCCEEDED' | 'FAILED' | 'KILLED' | 'UNDEFINED' | 'ENDED';
  diagnostics?: string;
  trackingUrl?: string;
  /** Give up after this long; default 30 s. */
  timeoutMs?: number;
  /** Pause between finish calls while the RM has not stored the final state; default 100 ms. */
  retryIntervalMs?: number;
}

export interface HeartbeatOptions {
  intervalMs: number;
  onResult(result: AllocateResult): void | Promise<void>;
  /** Called when the loop gives up (after `toleratedFailures` consecutive failed heartbeats + 1); the loop stops. */
  onError(error: Error): void;
  /** Consecutive failed heartbeats (timeouts, lost connections) to ride out before giving up. Default 0. */
  toleratedFailures?: number;
  /** Told about each tolerated failure. */
  onTransientError?(error: Error, consecutiveFailures: number): void;
}

/** Environment variable horn's submitter sets in the AM container: the scheduler host:port (comma-separated under RM HA). */
export const RM_SCHEDULER_ADDRESS_ENV = 'HORN_RM_SCHEDULER_ADDRESS';
/** The submitter's hadoop.rpc.protection (e.g. "privacy,integrity"): the AM's SASL qops in order of preference. */
export const RPC_PROTECTION_ENV = 'HORN_RPC_PROTECTION';

export { parseHostPort };

/** Fallback when the submitter did not pass the address: the NM's $HADOOP_CONF_DIR/yarn-site.xml, as Java AMs do. */
async function schedulerAddressesFromConf(env: NodeJS.ProcessEnv): Promise<string[]> {
  try {
    const addresses = clusterEndpoints(await loadHadoopConfiguration(env), env).rmSchedulerAddresses;
    if (addresses.length > 0) return addresses;
    throw new Error('yarn-site.xml names no scheduler address');
  } catch (cause) {
    throw new AMRMClientError(
      `the RM scheduler address is unknown: set ${RM_SCHEDULER_ADDRESS_ENV}=host:port in the AM environment (reading HADOOP_CONF_DIR failed: ${(cause as Error).message})`,
      { cause },
    );
  }
}

export class AMRMClient {
  readonly nmTokens: NMTokenCache;
  private connection: RpcConnection;
  private readonly addresses: ReadonlyArray<{ host: string; port: number }>;
  private addressIndex = 0;
  private readonly connectionOptions: AMRMClientOptions['connection'];
  private readonly asks: AskTable;
  private amrmToken: Token;
  private responseId = -1;
  private progress = 0;
  private readonly releases = new Map<string, ContainerId>();
  private readonly blacklistAdd = new Set<string>();
  private readonly blacklistRemove = new Set<string>();
  private registration: RegisterOptions | undefined;
  private heartbeat: { timer?: NodeJS.Timeout; stopped: boolean; running?: Promise<void> } | undefined;
  private trackingUrlUpdate: string | undefined;

  /** The SASL qops this client accepts, in order of preference (undefined: the strongest offered); NM clients follow it. */
  readonly acceptQops: readonly Qop[] | undefined;

  constructor(options: AMRMClientOptions) {
    this.acceptQops = options.acceptQops;
    this.amrmToken = options.amrmToken;
    this.nmTokens = options.nmTokens ?? new NMTokenCache();
    this.asks = new AskTable(options.rackOf);
    this.addresses = [{ host: options.host, port: options.port }, ...(options.failoverAddresses ?? [])];
    this.connectionOptions = options.connection;
    this.connection = this.connect(this.addresses[0]!);
  }

  private connect(address: { host: string; port: number }): RpcConnection {
    return new RpcConnection({
      ...this.connectionOptions,
      host: address.host,
      port: address.port,
      protocol: APPLICATION_MASTER_PROTOCOL,
      authenticator: new TokenAuthenticator(this.amrmToken, this.acceptQops),
    });
  }

  /** Calls the current RM; on an unreachable or standby RM moves on to the next address (RM HA), each tried once. */
  private async call<Req, Res>(m: RpcMethod<Req, Res>, request: Req): Promise<Res> {
    let lastError: unknown;
    for (let tried = 0; tried < this.addresses.length; tried++) {
      try {
        return await invoke(this.connection, m, request);
      } catch (e) {
        const standby = e instanceof RemoteException && e.javaClassName === 'org.apache.hadoop.ipc.StandbyException';
        if (!(e instanceof ServerUnreachableError) && !standby) throw e;
        lastError = e;
        if (this.addresses.length === 1) break;
        const old = this.connection;
        this.addressIndex = (this.addressIndex + 1) % this.addresses.length;
        this.connection = this.connect(this.addresses[this.addressIndex]!);
        void old.close();
      }
    }
    throw lastError;
  }

  /**
   * Builds a client inside the AM container: the AMRMToken from $HADOOP_TOKEN_FILE_LOCATION
   * (found by kind) and the scheduler address from `schedulerAddress` or $HORN_RM_SCHEDULER_ADDRESS.
   */
  static async fromContainerEnvironment(
    env: NodeJS.ProcessEnv = process.env,
    overrides: Partial<AMRMClientOptions> & { schedulerAddress?: string } = {},
  ): Promise<AMRMClient> {
    const credentials = await Credentials.fromContainerEnvironment(env);
    const token = overrides.amrmToken ?? credentials.findTokenByKind(TokenKind.AMRM);
    if (!token) {
      throw new AMRMClientError(`no ${TokenKind.AMRM} token in ${env.HADOOP_TOKEN_FILE_LOCATION}; is this process the ApplicationMaster container?`);
    }
    const addresses = (overrides.schedulerAddress ?? env[RM_SCHEDULER_ADDRESS_ENV] ?? (await schedulerAddressesFromConf(env)).join(','))
      .split(',')
      .filter((a) => a.trim() !== '')
      .map((a) => parseHostPort(a, RM_SCHEDULER_ADDRESS_ENV));
    if (addresses.length === 0) throw new AMRMClientError(`${RM_SCHEDULER_ADDRESS_ENV} is empty`);
    const [first, ...rest] = addresses;
    const acceptQops = overrides.acceptQops ?? qopsFromProtection(env[RPC_PROTECTION_ENV]);
    return new AMRMClient({ ...overrides, host: first!.host, port: first!.port, failoverAddresses: overrides.failoverAddresses ?? rest, amrmToken: token, acceptQops });
  }

  /** host:port this client talks to. */
  get schedulerAddress(): string {
    return this.connection.server;
  }

  get currentAmrmToken(): Token {
    return this.amrmToken;
  }

  get lastResponseId(): number {
    return this.responseId;
  }

  get outstandingRequests(): TrackedRequest[] {
    return this.asks.outstanding;
  }

  async register(options: RegisterOptions): Promise<RegisterApplicationMasterResponse> {
    const response = await this.call(registerApplicationMaster, {
      host: options.host,
      rpcPort: options.rpcPort ?? -1,
      trackingUrl: options.trackingUrl ?? '',
    });
    this.registration = options;
    this.responseId = 0;
    this.nmTokens.update(response.nmTokensFromPreviousAttempts);
    return response;
  }

  addContainerRequest(request: ContainerRequest): TrackedRequest {
    return this.asks.add(request);
  }

  removeContainerRequest(requestId: number): boolean {
    return this.asks.remove(requestId);
  }

  /** Gives a container back to the RM at the next heartbeat (a running one is killed). */
  releaseContainer(id: ContainerId): void {
    this.releases.set(formatContainerId(id), id);
  }

  /** Nodes to stop/start avoiding; sent at the next heartbeat. */
  updateBlacklist(additions: readonly string[], removals: readonly string[] = []): void {
    for (const h of additions) {
      this.blacklistRemove.delete(h);
      this.blacklistAdd.add(h);
    }
    for (const h of removals) {
      this.blacklistAdd.delete(h);
      this.blacklistRemove.add(h);
    }
  }

  /** Progress 0–1, reported to the RM with every heartbeat. */
  setProgress(progress: number): void {
    if (!Number.isFinite(progress)) throw new AMRMClientError(`progress must be a number in 0..1, got ${progress}`);
    this.progress = Math.min(1, Math.max(0, progress));
  }

  /** Changes the tracking URL the RM shows (sent with the next heartbeat; Hadoop 3.3+). */
  updateTrackingUrl(url: string): void {
    this.trackingUrlUpdate = url;
  }

  /** One heartbeat: sends changed asks, releases, blacklist and progress; returns what the RM allocated and what completed. */
  async allocate(): Promise<AllocateResult> {
    if (this.responseId < 0) throw new AMRMClientError('allocate before registerApplicationMaster');
    const asks = this.asks.takeChangedAsks();
    const release = [...this.releases.values()];
    this.releases.clear();
    const additions = [...this.blacklistAdd];
    const removals = [...this.blacklistRemove];
    this.blacklistAdd.clear();
    this.blacklistRemove.clear();
    const request: AllocateRequest = {
      ask: asks,
      release,
      responseId: this.responseId,
      progress: this.progress,
      ...(additions.length || removals.length ? { blacklistRequest: { blacklistAdditions: additions, blacklistRemovals: removals } } : {}),
      ...(this.trackingUrlUpdate !== undefined ? { trackingUrl: this.trackingUrlUpdate } : {}),
    };
    let response: AllocateResponse;
    try {
      response = await this.sendAllocate(request);
    } catch (e) {
      // Nothing reached the RM for certain: put the deltas back so the next heartbeat resends them.
      this.asks.resendAll();
      for (const id of release) this.releases.set(formatContainerId(id), id);
      this.updateBlacklist(additions, removals);
      throw e;
    }
    this.trackingUrlUpdate = undefined;
    this.responseId = response.responseId;
    this.nmTokens.update(response.nmTokens);
    let amrmTokenRenewed = false;
    if (response.amRmToken) {
      this.amrmToken = response.amRmToken;
      this.connection.setAuthenticator(new TokenAuthenticator(response.amRmToken, this.acceptQops));
      amrmTokenRenewed = true;
    }
    const allocated: AllocatedContainer[] = [];
    const surplus: Container[] = [];
    for (const container of response.allocatedContainers) {
      const match = this.asks.match(container);
      if (match) allocated.push({ container, request: match.request, locality: match.locality });
      else {
        surplus.push(container);
        this.releaseContainer(container.id);
      }
    }
    return {
      responseId: response.responseId,
      allocated,
      surplus,
      completed: response.completedContainerStatuses.map(normaliseStatus),
      headroom: response.limit,
      numClusterNodes: response.numClusterNodes,
      amCommand: response.aMCommand,
      amrmTokenRenewed,
    };
  }

  private async sendAllocate(request: AllocateRequest): Promise<AllocateResponse> {
    try {
      return await this.call(allocate, request);
    } catch (e) {
      if (e instanceof ConnectionError && !(e instanceof ServerUnreachableError)) {
        // Lost connection: the RM answers a repeated response_id with its cached response, so one resend is safe.
        return await this.call(allocate, request);
      }
      if (e instanceof RemoteException && e.javaClassName.endsWith('ApplicationMasterNotRegisteredException') && this.registration) {
        // RM restarted/failed over: register again and resend every outstanding ask.
        await this.register(this.registration);
        this.asks.resendAll();
        return await this.call(allocate, { ...request, ask: this.asks.takeChangedAsks(), responseId: this.responseId });
      }
      throw e;
    }
  }

  /** Runs `allocate` every `intervalMs` until `stopHeartbeats` or an error. */
  startHeartbeats(options: HeartbeatOptions): void {
    if (this.heartbeat && !this.heartbeat.stopped) throw new AMRMClientError('heartbeats already running');
    const state: { timer?: NodeJS.Timeout; stopped: boolean; running?: Promise<void> } = { stopped: false };
    this.heartbeat = state;
    let failures = 0;
    const beat = async () => {
      if (state.stopped) return;
      try {
        const result = await this.allocate();
        failures = 0;
        if (!state.stopped) await options.onResult(result);
      } catch (e) {
        const transient = e instanceof RpcTimeoutError || e instanceof ConnectionError;
        failures++;
        if (!transient || failures > (options.toleratedFailures ?? 0)) {
          state.stopped = true;
          options.onError(e as Error);
          return;
        }
        options.onTransientError?.(e as Error, failures);
      }
      if (!state.stopped) state.timer = setTimeout(() => (state.running = beat()), options.intervalMs);
    };
    state.running = beat();
  }

  /** Stops the loop and waits for an in-flight heartbeat. */
  async stopHeartbeats(): Promise<void> {
    const state = this.heartbeat;
    if (!state) return;
    state.stopped = true;
    if (state.timer) clearTimeout(state.timer);
    await state.running;
  }

  /** Unregisters with a final status; repeats until the RM reports the attempt unregistered. */
  async finish(options: FinishOptions): Promise<void> {
    await this.stopHeartbeats();
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    const status = `APP_${options.finalStatus}` as FinalApplicationStatus;
    for (;;) {
      const response = await this.call(finishApplicationMaster, {
        finalApplicationStatus: status,
        diagnostics: options.diagnostics ?? '',
        trackingUrl: options.trackingUrl ?? this.registration?.trackingUrl ?? '',
      });
      if (response.isUnregistered) return;
      if (Date.now() > deadline) {
        throw new AMRMClientError(`finishApplicationMaster: the RM did not confirm unregistration within ${options.timeoutMs ?? 30_000} ms`);
      }
      await sleep(options.retryIntervalMs ?? 100);
    }
  }

  async close(): Promise<void> {
    await this.stopHeartbeats();
    await this.connection.close();
  }
}
