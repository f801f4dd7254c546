// What the client tells the ApplicationMaster, and the ApplicationMaster its containers, when it
// launches them: environment names, local resource names and the container command. Secrets never
// travel here: the application secret is in the YARN credentials only.
import { RM_SCHEDULER_ADDRESS_ENV, RPC_PROTECTION_ENV } from '../hadoop/yarn/amrm-client';
import { HornError } from '../common/errors';

/** The programs of a horn application, as `node horn-runtime.js <role>` starts them. */
export type Role = 'am' | 'worker' | 'server';
/** The roles of the containers the ApplicationMaster launches. */
export type ContainerRole = Exclude<Role, 'am'>;

export const ENV = {
  role: 'HORN_ROLE',
  user: 'HORN_USER',
  /** Comma-separated http://host:port of the NameNodes (WebHDFS). */
  namenodes: 'HORN_NAMENODE_HTTP',
  /** Comma-separated host:port of the ResourceManager scheduler (several under RM HA); the AM-RM client reads it. */
  scheduler: RM_SCHEDULER_ADDRESS_ENV,
  stagingDir: 'HORN_STAGING_DIR',
  /**
   * Every reusable artifact the client placed in the content-addressed cache (the runtime bundle,
   * the shipped Node.js binary, native kernels) as comma-separated `name=URI` pairs (no quotes:
   * the NodeManager pastes values into its launch script unescaped). The AM localizes each of them,
   * under the same name, in every container it launches.
   */
  cachedResources: 'HORN_CACHED_RESOURCES',
  /** host:port of the ApplicationMaster's wire server, for containers. */
  amWire: 'HORN_AM_WIRE',
  /** Index of the container within its role (worker 0…N−1, server 0…S−1). */
  index: 'HORN_INDEX',
  /** Launch attempt of this role index (0 first; more after replacements). */
  attempt: 'HORN_ATTEMPT',
  /** Log level for pino (info by default). */
  logLevel: 'HORN_LOG_LEVEL',
  /** The edge node's hadoop.rpc.protection: the AM's SASL qop preference (RPC_PROTECTION_ENV of the yarn layer). */
  rpcProtection: RPC_PROTECTION_ENV,
} as const;

/** Local resource (link) names in every horn container's working directory. */
export const RESOURCE = {
  runtime: 'horn-runtime.js',
  /** The shipped Node.js binary (cluster.runtime: ship). */
  node: 'node',
  /** The native kernels addon; src/engine/kernels/native.ts looks for this name in the working directory. */
  nativeKernels: 'horn-kernels.node',
  job: 'job.json',
  /** Prefix of user neuron files, by the names the staged job gives them. */
  userCode: 'user',
} as const;

/** Alias of the per-application secret in the YARN credentials (HDTS secret keys). */
export const SECRET_ALIAS = 'horn.application.secret';

/** The YARN application type of horn jobs. */
export const APPLICATION_TYPE = 'HORN';

/**
 * The command a NodeManager runs for a horn role, with the V8 heap at three quarters of the
 * container's memory, on the node's own Node.js or the shipped one (localized as ./node). No
 * double quotes: the NM pastes it into bash -c "…" unescaped.
 */
export function containerCommand(role: Role, memoryMb: number, runtime: 'system' | 'ship'): string {
  const heapMb = Math.max(64, Math.floor(memoryMb * 0.75));
  const node = runtime === 'ship' ? `./${RESOURCE.node}` : 'node';
  return `${node} --max-old-space-size=${heapMb} ${RESOURCE.runtime} ${role} 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr`;
}

/** ENV.cachedResources for the given artifacts (name → URI). */
export function formatCachedResources(cached: Readonly<Record<string, string>>): string {
  for (const [name, uri] of Object.entries(cached)) {
    if (/[=,"\s]/.test(name) || /[,"\s]/.test(uri)) throw new HornError(`cached resource ${name}=${uri} cannot be passed in ${ENV.cachedResources}`, 'internal', { name });
  }
  return Object.entries(cached).map(([name, uri]) => `${name}=${uri}`).join(',');
}

/** The cached artifacts of ENV.cachedResources, checked: names to hdfs:// (or other) URIs. */
export function parseCachedResources(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (value ?? '').split(',').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const uri = pair.slice(eq + 1);
    if (eq <= 0 || !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new HornError(`${ENV.cachedResources}: ${JSON.stringify(pair)} is not name=URI`, 'internal', { variable: ENV.cachedResources });
    out[name] = uri;
  }
  if (!out[RESOURCE.runtime]) throw new HornError(`${ENV.cachedResources} lacks ${RESOURCE.runtime}`, 'internal', { variable: ENV.cachedResources });
  return out;
}

/** Prefix of test hooks (a slowed worker, a worker that fails): passed from the client to every container. */
export const TEST_HOOK_PREFIX = 'HORN_TEST_';

/** The test hooks set in an environment. */
export function testHooks(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[0].startsWith(TEST_HOOK_PREFIX) && e[1] !== undefined));
}

/** A required variable of a horn process's environment, or an internal error naming it. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string, who: string): string {
  const v = env[name];
  if (!v) throw new HornError(`the ${who} environment lacks ${name}`, 'internal', { variable: name });
  return v;
}
