// The ResourceManager submission for a horn job. Pure: everything it needs is passed in.
import type { ApplicationSubmission, LocalResourceSpec } from '../../hadoop/rm-rest/client';
import type { JobSpec } from '../../job';
import { APPLICATION_TYPE, containerCommand, ENV, formatCachedResources, SECRET_ALIAS } from '../../protocol';

export interface SubmissionInputs {
  readonly applicationId: string;
  readonly spec: JobSpec;
  readonly user: string;
  readonly resources: Readonly<Record<string, LocalResourceSpec>>;
  /** The cached artifacts among the resources (name → URI), which the AM passes on to its containers. */
  readonly cached: Readonly<Record<string, string>>;
  readonly stagingDir: string;
  readonly namenodeHttpUrls: readonly string[];
  readonly schedulerAddresses: readonly string[];
  /** The fresh per-application secret; it travels only in the YARN credentials. */
  readonly secret: Uint8Array;
  /** HORN_TEST_* variables for the containers (tests only). */
  readonly testHooks?: Readonly<Record<string, string>>;
  /** Fresh delegation tokens for this application (Kerberos): alias → URL string. */
  readonly tokens?: Readonly<Record<string, string>>;
  /** The edge node's hadoop.rpc.protection, which the ApplicationMaster follows in choosing its SASL qop. */
  readonly rpcProtection?: string;
}

export function buildSubmission(i: SubmissionInputs): ApplicationSubmission {
  const { spec } = i;
  return {
    applicationId: i.applicationId,
    name: spec.name,
    queue: spec.queue,
    priority: spec.priority,
    applicationType: APPLICATION_TYPE,
    tags: spec.tags,
    maxAppAttempts: spec.maxAttempts,
    resource: { memoryMb: spec.cluster.am.memoryMb, vcores: spec.cluster.am.vcores },
    amContainerSpec: {
      localResources: i.resources,
      command: containerCommand('am', spec.cluster.am.memoryMb, spec.cluster.runtime),
      environment: {
        [ENV.role]: 'am',
        [ENV.user]: i.user,
        [ENV.namenodes]: i.namenodeHttpUrls.join(','),
        [ENV.scheduler]: i.schedulerAddresses.join(','),
        [ENV.stagingDir]: i.stagingDir,
        [ENV.cachedResources]: formatCachedResources(i.cached),
        ...(i.rpcProtection ? { [ENV.rpcProtection]: i.rpcProtection } : {}),
        ...i.testHooks,
      },
      credentials: { ...(i.tokens ? { tokens: i.tokens } : {}), secrets: { [SECRET_ALIAS]: base64Url(i.secret) } },
    },
  };
}

/** URL-safe Base64 without padding: how the RM REST API decodes credentials. */
export function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
