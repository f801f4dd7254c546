// TypeScript shapes of the YARN protobuf messages horn uses, as the proto codecs produce them
// (camelCase field names, int64 as number, enums by name, repeated fields as arrays).
import type { Token } from '../security/token';

export interface ApplicationId {
  id: number;
  clusterTimestamp: number;
}

export interface ApplicationAttemptId {
  applicationId: ApplicationId;
  attemptId: number;
}

export interface ContainerId {
  appId?: ApplicationId;
  appAttemptId: ApplicationAttemptId;
  /** Upper 24 bits: RM epoch; lower 40 bits: sequence number. */
  id: number;
}

export interface Resource {
  /** MB. */
  memory: number;
  virtualCores: number;
}

export interface NodeId {
  host: string;
  port: number;
}

export type ContainerState = 'C_NEW' | 'C_RUNNING' | 'C_COMPLETE';
export type ExecutionType = 'GUARANTEED' | 'OPPORTUNISTIC';
export type FinalApplicationStatus = 'APP_UNDEFINED' | 'APP_SUCCEEDED' | 'APP_FAILED' | 'APP_KILLED' | 'APP_ENDED';

export interface Container {
  id: ContainerId;
  nodeId: NodeId;
  nodeHttpAddress?: string;
  resource: Resource;
  priority: { priority: number };
  containerToken: Token;
  executionType?: ExecutionType;
  allocationRequestId?: number;
  version?: number;
}

export interface ContainerStatus {
  containerId: ContainerId;
  state: ContainerState;
  diagnostics: string;
  /** ContainerExitStatus: 0 success, -100 aborted, -105 killed by the AM, … ; -1000 when not yet known. */
  exitStatus: number;
}

/** Well-known ContainerExitStatus values. */
export const ContainerExitStatus = {
  SUCCESS: 0,
  INVALID: -1000,
  ABORTED: -100,
  DISKS_FAILED: -101,
  PREEMPTED: -102,
  KILLED_EXCEEDED_VMEM: -103,
  KILLED_EXCEEDED_PMEM: -104,
  KILLED_BY_APPMASTER: -105,
  KILLED_BY_RESOURCEMANAGER: -106,
  KILLED_AFTER_APP_COMPLETION: -107,
} as const;

export interface ResourceRequest {
  priority: { priority: number };
  resourceName: string;
  capability: Resource;
  numContainers: number;
  relaxLocality: boolean;
  nodeLabelExpression?: string;
  allocationRequestId?: number;
}

export interface NMTokenRecord {
  nodeId: NodeId;
  token: Token;
}

export interface URLRecord {
  scheme: string;
  host?: string;
  port?: number;
  file: string;
  userInfo?: string;
}

export type LocalResourceType = 'ARCHIVE' | 'FILE' | 'PATTERN';
export type LocalResourceVisibility = 'PUBLIC' | 'PRIVATE' | 'APPLICATION';

export interface LocalResource {
  resource: URLRecord;
  size: number;
  /** Must equal the HDFS modification time exactly. */
  timestamp: number;
  type: LocalResourceType;
  visibility: LocalResourceVisibility;
  pattern?: string;
}

export interface SerializedException {
  message?: string;
  trace?: string;
  className?: string;
  cause?: SerializedException;
}

export interface ContainerExceptionEntry {
  containerId: ContainerId;
  exception: SerializedException;
}

/** Fills the proto defaults Hadoop applies (diagnostics "N/A", exit status -1000) when absent. */
export function normaliseStatus(s: ContainerStatus): ContainerStatus {
  return { ...s, diagnostics: s.diagnostics ?? 'N/A', exitStatus: s.exitStatus ?? ContainerExitStatus.INVALID };
}
