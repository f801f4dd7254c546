// The ResourceManager REST API's data, as horn uses it (field names as the RM sends them).

export interface NewApplication {
  readonly applicationId: string;
  readonly maximumResourceCapability: { readonly memory: number; readonly vCores: number };
}

export interface LocalResourceSpec {
  /** Full URI, e.g. hdfs://master.test:8020/user/alice/.horn/staging/app/horn-runtime.js */
  readonly uri: string;
  readonly type: 'FILE' | 'ARCHIVE' | 'PATTERN';
  readonly visibility: 'PUBLIC' | 'PRIVATE' | 'APPLICATION';
  /** Bytes; must equal the HDFS length. */
  readonly size: number;
  /** Must equal the HDFS modification time exactly, or localization fails. */
  readonly timestamp: number;
}

export interface ApplicationSubmission {
  readonly applicationId: string;
  readonly name: string;
  readonly queue?: string;
  readonly priority?: number;
  readonly applicationType: string;
  readonly tags?: readonly string[];
  readonly maxAppAttempts?: number;
  readonly keepContainersAcrossAttempts?: boolean;
  readonly resource: { readonly memoryMb: number; readonly vcores: number };
  readonly amContainerSpec: {
    readonly localResources?: Readonly<Record<string, LocalResourceSpec>>;
    readonly environment?: Readonly<Record<string, string>>;
    /** One shell command line; the NM expands <LOG_DIR> and {{VAR}}. */
    readonly command: string;
    /** Values URL-safe Base64 without padding: tokens as Hadoop's encodeToUrlString, secrets raw bytes. */
    readonly credentials?: { readonly tokens?: Readonly<Record<string, string>>; readonly secrets?: Readonly<Record<string, string>> };
  };
}

export type YarnApplicationState = 'NEW' | 'NEW_SAVING' | 'SUBMITTED' | 'ACCEPTED' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
/** States an application never leaves, and the others. */
export const ENDED_STATES: ReadonlySet<string> = new Set<YarnApplicationState>(['FINISHED', 'FAILED', 'KILLED']);
export const ACTIVE_STATES: readonly YarnApplicationState[] = ['NEW', 'NEW_SAVING', 'SUBMITTED', 'ACCEPTED', 'RUNNING'];

export type FinalApplicationStatus = 'UNDEFINED' | 'SUCCEEDED' | 'FAILED' | 'KILLED' | 'ENDED';

export interface ApplicationReport {
  readonly id: string;
  readonly user: string;
  readonly name: string;
  readonly queue: string;
  readonly state: YarnApplicationState;
  readonly finalStatus: FinalApplicationStatus;
  /** 0–100. */
  readonly progress: number;
  readonly trackingUI?: string;
  readonly trackingUrl?: string;
  readonly diagnostics?: string;
  readonly applicationType: string;
  readonly applicationTags?: string;
  readonly priority?: number;
  readonly startedTime: number;
  readonly launchTime?: number;
  readonly finishedTime: number;
  readonly elapsedTime: number;
  readonly amContainerLogs?: string;
  readonly amHostHttpAddress?: string;
  readonly amRPCAddress?: string;
  readonly runningContainers?: number;
}

export interface ClusterNode {
  readonly id: string;
  readonly nodeHostName: string;
  readonly nodeHTTPAddress: string;
  readonly state: string;
  readonly rack: string;
  readonly healthReport: string;
  readonly numContainers: number;
  readonly availMemoryMB: number;
  readonly availableVirtualCores: number;
  readonly usedMemoryMB: number;
  readonly usedVirtualCores: number;
}

export interface SchedulerQueue {
  readonly name: string;
  /** e.g. root.default */
  readonly path: string;
  readonly leaf: boolean;
  readonly state?: string;
}
