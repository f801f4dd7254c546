// The ApplicationMaster's client of NodeManagers (ContainerManagementProtocol): one connection per
// node, authenticated with that node's NMToken; launch, stop and query containers.
import { RpcConnection, RpcConnectionOptions } from '../ipc';
import { TokenAuthenticator, type Qop } from '../sasl';
import { Credentials } from '../security/credentials';
import type { Token } from '../security/token';
import { formatContainerId } from './ids';
import { nodeKey, NMTokenCache } from './nm-tokens';
import {
  CONTAINER_MANAGEMENT_PROTOCOL,
  ContainerLaunchContextRecord,
  getContainerStatuses,
  invoke,
  startContainers,
  stopContainers,
} from './protocols';
import { normaliseStatus } from './records';
import type { Container, ContainerExceptionEntry, ContainerId, ContainerStatus, LocalResource, NodeId, SerializedException } from './records';

export interface ContainerLaunchContext {
  /** Link name in the container's working directory → resource. */
  localResources?: Readonly<Record<string, LocalResource>>;
  environment?: Readonly<Record<string, string>>;
  /** Joined with spaces into the launch script; the NM expands <LOG_DIR> and {{VAR}}. */
  commands: readonly string[];
  /** Tokens and secrets the container finds in $HADOOP_TOKEN_FILE_LOCATION. */
  credentials?: Credentials;
  serviceData?: Readonly<Record<string, Uint8Array>>;
  acls?: { view?: string; modify?: string };
}

export class NMClientError extends Error {
  constructor(
    readonly node: string,
    readonly containerId: string | undefined,
    message: string,
    readonly remoteClass?: string,
  ) {
    super(`NodeManager ${node}${containerId ? `, container ${containerId}` : ''}: ${message}`);
    this.name = 'NMClientError';
  }
}

export class NoNMTokenError extends NMClientError {
  constructor(node: string) {
    super(node, undefined, 'no NMToken for this node (the RM sends it with the first container allocated there)');
  }
}

export interface NMClientOptions {
  nmTokens: NMTokenCache;
  /** SASL qops to accept, in order of preference; default: the strongest the NodeManager offers. */
  acceptQops?: readonly Qop[];
  connection?: Partial<Omit<RpcConnectionOptions, 'host' | 'port' | 'protocol' | 'authenticator'>>;
}

function describeException(e: SerializedException | undefined): { message: string; className?: string } {
  if (!e) return { message: 'unknown failure' };
  const cause = e.cause ? ` (cause: ${describeException(e.cause).message})` : '';
  return { message: `${e.message ?? 'no message'}${cause}`, className: e.className };
}

function failure(node: string, entry: ContainerExceptionEntry): NMClientError {
  const d = describeException(entry.exception);
  return new NMClientError(node, formatContainerId(entry.containerId), d.message, d.className);
}

export function toLaunchContextRecord(ctx: ContainerLaunchContext): ContainerLaunchContextRecord {
  const acls: ContainerLaunchContextRecord['applicationACLs'] = [];
  if (ctx.acls?.view !== undefined) acls.push({ accessType: 'APPACCESS_VIEW_APP', acl: ctx.acls.view });
  if (ctx.acls?.modify !== undefined) acls.push({ accessType: 'APPACCESS_MODIFY_APP', acl: ctx.acls.modify });
  return {
    localResources: Object.entries(ctx.localResources ?? {}).map(([key, value]) => ({ key, value })),
    ...(ctx.credentials ? { tokens: ctx.credentials.serialize() } : {}),
    serviceData: Object.entries(ctx.serviceData ?? {}).map(([key, value]) => ({ key, value })),
    environment: Object.entries(ctx.environment ?? {}).map(([key, value]) => ({ key, value })),
    command: [...ctx.commands],
    applicationACLs: acls,
  };
}

export class NMClient {
  private readonly connections = new Map<string, { connection: RpcConnection; token: Token }>();

  constructor(private readonly options: NMClientOptions) {}

  /** Launches one allocated container. Throws NMClientError with the NM's exception when it refuses. */
  async startContainer(container: Container, context: ContainerLaunchContext): Promise<void> {
    const node = nodeKey(container.nodeId);
    const response = await invoke(this.connectionFor(container.nodeId), startContainers, {
      startContainerRequest: [{ containerLaunchContext: toLaunchContextRecord(context), containerToken: container.containerToken }],
    });
    const failed = response.failedRequests[0];
    if (failed) throw failure(node, failed);
    if (response.succeededRequests.length !== 1) {
      throw new NMClientError(node, formatContainerId(container.id), 'startContainers reported neither success nor failure');
    }
  }

  /** Stops (kills) a container; it completes with exit status -105 (KILLED_BY_APPMASTER) at the RM. */
  async stopContainer(containerId: ContainerId, nodeId: NodeId): Promise<void> {
    const response = await invoke(this.connectionFor(nodeId), stopContainers, { containerId: [containerId] });
    const failed = response.failedRequests[0];
    if (failed) throw failure(nodeKey(nodeId), failed);
  }

  async getContainerStatus(containerId: ContainerId, nodeId: NodeId): Promise<ContainerStatus> {
    const response = await invoke(this.connectionFor(nodeId), getContainerStatuses, { containerId: [containerId] });
    const failed = response.failedRequests[0];
    if (failed) throw failure(nodeKey(nodeId), failed);
    const status = response.status[0];
    if (!status) throw new NMClientError(nodeKey(nodeId), formatContainerId(containerId), 'getContainerStatuses returned no status');
    return normaliseStatus(status);
  }

  async close(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((c) => c.connection.close()));
  }

  private connectionFor(nodeId: NodeId): RpcConnection {
    const key = nodeKey(nodeId);
    const token = this.options.nmTokens.get(key);
    if (!token) throw new NoNMTokenError(key);
    const existing = this.connections.get(key);
    if (existing && existing.token === token) return existing.connection;
    // A new NMToken (key roll) means a new authenticated connection; the old one is closed in the background.
    if (existing) void existing.connection.close();
    const connection = new RpcConnection({
      maxConnectAttempts: 3,
      ...this.options.connection,
      host: nodeId.host,
      port: nodeId.port,
      protocol: CONTAINER_MANAGEMENT_PROTOCOL,
      authenticator: new TokenAuthenticator(token, this.options.acceptQops),
    });
    this.connections.set(key, { connection, token });
    return connection;
  }
}
