import { HornError } from '../../common/errors';
import { HadoopEndpoint, ServiceResponseError, type EndpointOptions } from '../http/endpoint';
import type { ApplicationReport, ApplicationSubmission, ClusterNode, NewApplication, SchedulerQueue } from './types';

export * from './types';

/** The ResourceManager does not know the application. */
export class ApplicationNotFoundError extends HornError {
  constructor(readonly applicationId: string) {
    super(`the ResourceManager does not know application ${applicationId}`, 'input', { applicationId });
  }
}

/**
 * The ResourceManager's REST API (/ws/v1/cluster): what an edge-node client needs to submit,
 * follow and kill applications with no JVM and no RPC. Under RM HA every RM URL is tried and
 * the active one is followed.
 */
export class ResourceManagerClient {
  private readonly rm: HadoopEndpoint;

  constructor(options: Omit<EndpointOptions, 'service' | 'baseUrls'> & { rmUrls: readonly string[] }) {
    this.rm = new HadoopEndpoint({ authProbePath: '/ws/v1/cluster/info', tokenIn: 'header', ...options, service: 'ResourceManager', baseUrls: options.rmUrls });
  }

  get endpoint(): HadoopEndpoint {
    return this.rm;
  }

  /**
   * A new RM delegation token (POST /ws/v1/cluster/delegation-token, which needs Kerberos) as its
   * URL string. The RM returns it with an empty service; see applicationTokens for why that matters.
   */
  async getDelegationToken(renewer: string): Promise<string> {
    const response = await this.rm.request<{ token?: string }>({
      method: 'POST',
      path: '/ws/v1/cluster/delegation-token',
      data: { renewer },
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      retryable: false,
    });
    if (!response.data.token) throw new HornError('the ResourceManager returned no delegation token', 'cluster', { service: 'ResourceManager' });
    return response.data.token;
  }

  /** The web address of the RM that answered last (for UI links). */
  get webUrl(): string {
    return this.rm.baseUrl;
  }

  async clusterInfo(): Promise<{ state: string; haState?: string; hadoopVersion: string; resourceManagerVersion: string }> {
    return (await this.get<{ clusterInfo: { state: string; haState?: string; hadoopVersion: string; resourceManagerVersion: string } }>('/ws/v1/cluster/info')).clusterInfo;
  }

  async nodes(states?: readonly string[]): Promise<ClusterNode[]> {
    const body = await this.get<{ nodes: { node?: ClusterNode[] } | null }>('/ws/v1/cluster/nodes', states ? { states: states.join(',') } : undefined);
    return body.nodes?.node ?? [];
  }

  async newApplication(): Promise<NewApplication> {
    const response = await this.rm.request<{ 'application-id': string; 'maximum-resource-capability': { memory: number; vCores: number } }>({
      method: 'POST',
      path: '/ws/v1/cluster/apps/new-application',
      headers: { Accept: 'application/json' },
    });
    const body = response.data;
    return { applicationId: body['application-id'], maximumResourceCapability: body['maximum-resource-capability'] };
  }

  /** Submits; the RM answers 202 Accepted and the application starts in state NEW_SAVING/SUBMITTED. */
  async submitApplication(submission: ApplicationSubmission): Promise<void> {
    await this.rm.request({
      method: 'POST',
      path: '/ws/v1/cluster/apps',
      data: toSubmissionJson(submission),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      // A duplicate submission of the same id is refused by the RM, so a resend is harmless.
      retryable: true,
    });
  }

  async getApplication(applicationId: string): Promise<ApplicationReport> {
    try {
      return (await this.get<{ app: ApplicationReport }>(`/ws/v1/cluster/apps/${encodeURIComponent(applicationId)}`)).app;
    } catch (err) {
      if (err instanceof ServiceResponseError && err.status === 404) throw new ApplicationNotFoundError(applicationId);
      throw err;
    }
  }

  async listApplications(filter: { states?: readonly string[]; applicationTypes?: readonly string[]; user?: string; limit?: number } = {}): Promise<ApplicationReport[]> {
    const body = await this.get<{ apps: { app?: ApplicationReport[] } | null }>('/ws/v1/cluster/apps', {
      states: filter.states?.join(','),
      applicationTypes: filter.applicationTypes?.join(','),
      user: filter.user,
      limit: filter.limit,
    });
    return body.apps?.app ?? [];
  }

  /** Asks the RM to kill the application; returns the state the RM reports right after. */
  async killApplication(applicationId: string): Promise<string> {
    try {
      const response = await this.rm.request<{ state: string }>({
        method: 'PUT',
        path: `/ws/v1/cluster/apps/${encodeURIComponent(applicationId)}/state`,
        data: { state: 'KILLED' },
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      });
      return response.data.state;
    } catch (err) {
      if (err instanceof ServiceResponseError && err.status === 404) throw new ApplicationNotFoundError(applicationId);
      throw err;
    }
  }

  async appAttempts(applicationId: string): Promise<Array<{ id: number; containerId: string; nodeHttpAddress: string; nodeId: string; logsLink: string }>> {
    const body = await this.get<{ appAttempts: { appAttempt?: Array<{ id: number; containerId: string; nodeHttpAddress: string; nodeId: string; logsLink: string }> } }>(
      `/ws/v1/cluster/apps/${encodeURIComponent(applicationId)}/appattempts`,
    );
    return body.appAttempts.appAttempt ?? [];
  }

  /** Every leaf and parent queue of the scheduler, flattened, with its full path. */
  /** The running containers of an application's attempts (the RM lists only live ones). */
  async runningContainers(applicationId: string): Promise<Array<{ containerId: string; host: string }>> {
    const attempts = await this.get<{ appAttempts: { appAttempt?: Array<{ appAttemptId: string }> } | null }>(`/ws/v1/cluster/apps/${encodeURIComponent(applicationId)}/appattempts`);
    const out: Array<{ containerId: string; host: string }> = [];
    for (const a of attempts.appAttempts?.appAttempt ?? []) {
      const body = await this.get<{ container?: Array<{ containerId: string; assignedNodeId: string }> } | null>(
        `/ws/v1/cluster/apps/${encodeURIComponent(applicationId)}/appattempts/${encodeURIComponent(a.appAttemptId)}/containers`,
      );
      for (const c of body?.container ?? []) out.push({ containerId: c.containerId, host: c.assignedNodeId.split(':')[0]! });
    }
    return out;
  }

  async queues(): Promise<SchedulerQueue[]> {
    const body = await this.get<{ scheduler: { schedulerInfo: RawQueue } }>('/ws/v1/cluster/scheduler');
    const out: SchedulerQueue[] = [];
    const walk = (q: RawQueue, parentPath: string): void => {
      const path = q.queuePath ?? (parentPath ? `${parentPath}.${q.queueName}` : q.queueName ?? 'root');
      const children = q.queues?.queue ?? [];
      out.push({ name: q.queueName ?? path.slice(path.lastIndexOf('.') + 1), path, leaf: children.length === 0, state: q.state });
      for (const child of children) walk(child, path);
    };
    walk(body.scheduler.schedulerInfo, '');
    return out;
  }

  private async get<T>(path: string, params?: Record<string, string | number | boolean | undefined>): Promise<T> {
    return (await this.rm.request<T>({ method: 'GET', path, params, headers: { Accept: 'application/json' } })).data;
  }
}

interface RawQueue {
  queueName?: string;
  queuePath?: string;
  state?: string;
  queues?: { queue?: RawQueue[] };
}

/** The RM's JAXB JSON shape: maps as {entry:[{key,value}]}, lists wrapped in named objects. */
function toSubmissionJson(s: ApplicationSubmission): Record<string, unknown> {
  const entries = (m: Readonly<Record<string, unknown>> | undefined) => ({ entry: Object.entries(m ?? {}).map(([key, value]) => ({ key, value })) });
  const spec = s.amContainerSpec;
  return {
    'application-id': s.applicationId,
    'application-name': s.name,
    queue: s.queue,
    priority: s.priority,
    'application-type': s.applicationType,
    'application-tags': s.tags && s.tags.length > 0 ? { tag: s.tags } : undefined,
    'max-app-attempts': s.maxAppAttempts,
    'keep-containers-across-application-attempts': s.keepContainersAcrossAttempts ?? false,
    'unmanaged-AM': false,
    resource: { memory: s.resource.memoryMb, vCores: s.resource.vcores },
    'am-container-spec': {
      'local-resources': entries(
        Object.fromEntries(
          Object.entries(spec.localResources ?? {}).map(([name, r]) => [
            name,
            { resource: r.uri, type: r.type, visibility: r.visibility, size: r.size, timestamp: r.timestamp },
          ]),
        ),
      ),
      environment: entries(spec.environment),
      commands: { command: spec.command },
      credentials: spec.credentials
        ? { tokens: entries(spec.credentials.tokens), secrets: entries(spec.credentials.secrets) }
        : undefined,
    },
  };
}
