// YARN protocol methods: name + request/response codecs, invoked over an RpcConnection.
// Adding a method = add its messages to the .proto subset, its shapes to records/here, and one
// `method(...)` line below.
import { CallOptions, RpcConnection } from '../ipc';
import { Codec, codec } from '../proto';
import type { Token } from '../security/token';
import type {
  Container,
  ContainerExceptionEntry,
  ContainerId,
  ContainerStatus,
  FinalApplicationStatus,
  NMTokenRecord,
  Resource,
  ResourceRequest,
} from './records';

export const APPLICATION_MASTER_PROTOCOL = 'org.apache.hadoop.yarn.api.ApplicationMasterProtocolPB';
export const CONTAINER_MANAGEMENT_PROTOCOL = 'org.apache.hadoop.yarn.api.ContainerManagementProtocolPB';

export interface RpcMethod<Req, Res> {
  readonly name: string;
  readonly request: Codec<Req>;
  readonly response: Codec<Res>;
}

function method<Req extends object, Res extends object>(name: string, requestType: string, responseType: string): RpcMethod<Req, Res> {
  return { name, request: codec<Req>(`hadoop.yarn.${requestType}`), response: codec<Res>(`hadoop.yarn.${responseType}`) };
}

export async function invoke<Req, Res>(connection: RpcConnection, m: RpcMethod<Req, Res>, request: Req, options?: CallOptions): Promise<Res> {
  const body = await connection.call(m.name, m.request.encode(request), options);
  return m.response.decode(body);
}

// ApplicationMasterProtocol

export interface RegisterApplicationMasterRequest {
  host: string;
  rpcPort: number;
  trackingUrl: string;
}
export interface RegisterApplicationMasterResponse {
  maximumCapability?: Resource;
  containersFromPreviousAttempts: Container[];
  queue?: string;
  nmTokensFromPreviousAttempts: NMTokenRecord[];
}
export interface FinishApplicationMasterRequest {
  diagnostics?: string;
  trackingUrl?: string;
  finalApplicationStatus: FinalApplicationStatus;
}
export interface FinishApplicationMasterResponse {
  isUnregistered?: boolean;
}
export interface AllocateRequest {
  ask: ResourceRequest[];
  release: ContainerId[];
  blacklistRequest?: { blacklistAdditions: string[]; blacklistRemovals: string[] };
  responseId: number;
  progress: number;
  trackingUrl?: string;
}
export interface AllocateResponse {
  aMCommand?: 'AM_RESYNC' | 'AM_SHUTDOWN';
  responseId: number;
  allocatedContainers: Container[];
  completedContainerStatuses: ContainerStatus[];
  limit?: Resource;
  numClusterNodes?: number;
  nmTokens: NMTokenRecord[];
  amRmToken?: Token;
}

export const registerApplicationMaster = method<RegisterApplicationMasterRequest, RegisterApplicationMasterResponse>(
  'registerApplicationMaster',
  'RegisterApplicationMasterRequestProto',
  'RegisterApplicationMasterResponseProto',
);
export const allocate = method<AllocateRequest, AllocateResponse>('allocate', 'AllocateRequestProto', 'AllocateResponseProto');
export const finishApplicationMaster = method<FinishApplicationMasterRequest, FinishApplicationMasterResponse>(
  'finishApplicationMaster',
  'FinishApplicationMasterRequestProto',
  'FinishApplicationMasterResponseProto',
);

// ContainerManagementProtocol

export interface ContainerLaunchContextRecord {
  localResources: Array<{ key: string; value: import('./records').LocalResource }>;
  tokens?: Uint8Array;
  serviceData: Array<{ key: string; value: Uint8Array }>;
  environment: Array<{ key: string; value: string }>;
  command: string[];
  applicationACLs: Array<{ accessType: 'APPACCESS_VIEW_APP' | 'APPACCESS_MODIFY_APP'; acl: string }>;
}
export interface StartContainersRequest {
  startContainerRequest: Array<{ containerLaunchContext: ContainerLaunchContextRecord; containerToken: Token }>;
}
export interface StartContainersResponse {
  succeededRequests: ContainerId[];
  failedRequests: ContainerExceptionEntry[];
}
export interface StopContainersRequest {
  containerId: ContainerId[];
}
export interface StopContainersResponse {
  succeededRequests: ContainerId[];
  failedRequests: ContainerExceptionEntry[];
}
export interface GetContainerStatusesRequest {
  containerId: ContainerId[];
}
export interface GetContainerStatusesResponse {
  status: ContainerStatus[];
  failedRequests: ContainerExceptionEntry[];
}

export const startContainers = method<StartContainersRequest, StartContainersResponse>('startContainers', 'StartContainersRequestProto', 'StartContainersResponseProto');
export const stopContainers = method<StopContainersRequest, StopContainersResponse>('stopContainers', 'StopContainersRequestProto', 'StopContainersResponseProto');
export const getContainerStatuses = method<GetContainerStatusesRequest, GetContainerStatusesResponse>(
  'getContainerStatuses',
  'GetContainerStatusesRequestProto',
  'GetContainerStatusesResponseProto',
);
