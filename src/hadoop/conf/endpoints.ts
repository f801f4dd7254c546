import { userInfo } from 'node:os';
import type { HadoopConfiguration } from './configuration';
import { HadoopConfigurationError } from './errors';

/** Where the cluster's services are, as a client on an edge node must reach them. */
export interface ClusterEndpoints {
  /** http(s)://host:port of each ResourceManager web app (several under RM HA; the active one answers). */
  readonly rmWebUrls: string[];
  /** host:port of each RM scheduler (ApplicationMasterProtocol), in the same order as rmWebUrls. */
  readonly rmSchedulerAddresses: string[];
  /** http(s)://host:port of each NameNode web server (several under HDFS HA). */
  readonly namenodeHttpUrls: string[];
  /** fs.defaultFS, e.g. hdfs://master.test:8020 */
  readonly defaultFs: string;
  /** HADOOP_USER_NAME or the OS user: who horn acts as under simple authentication. */
  readonly user: string;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

export function clusterEndpoints(conf: HadoopConfiguration, env: NodeJS.ProcessEnv = process.env): ClusterEndpoints {
  const rmHttps = conf.getTrimmed('yarn.http.policy') === 'HTTPS_ONLY';
  const rmWebUrls = resourceManagerAddresses(conf, rmHttps ? 'yarn.resourcemanager.webapp.https.address' : 'yarn.resourcemanager.webapp.address', rmHttps ? 8090 : 8088).map(
    (a) => `${rmHttps ? 'https' : 'http'}://${a}`,
  );
  // A scheduler address that only binds all interfaces is on the RM web host (protocols §6.3).
  const rmSchedulerAddresses = resourceManagerAddresses(conf, 'yarn.resourcemanager.scheduler.address', 8030, rmWebUrls.map((u) => new URL(u).hostname));
  const defaultFs = conf.getTrimmed('fs.defaultFS') ?? 'file:///';
  return { rmWebUrls, rmSchedulerAddresses, namenodeHttpUrls: namenodeHttpUrls(conf, defaultFs), defaultFs, user: hadoopUser(env) };
}

/** HADOOP_USER_NAME when set (as UserGroupInformation honours it under simple auth), else the OS user. */
export function hadoopUser(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.HADOOP_USER_NAME?.trim();
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    const fallback = env.USER ?? env.LOGNAME;
    if (fallback) return fallback;
    throw new HadoopConfigurationError('cannot tell the user: set HADOOP_USER_NAME', undefined, 'HADOOP_USER_NAME');
  }
}

/**
 * host:port for one RM address key, following RM HA (yarn.resourcemanager.ha.rm-ids and the
 * `<key>.<rm-id>` keys, falling back to yarn.resourcemanager.hostname.<rm-id>, as HAUtil does).
 */
function resourceManagerAddresses(conf: HadoopConfiguration, key: string, defaultPort: number, fallbackHosts: readonly string[] = []): string[] {
  if (conf.getBoolean('yarn.resourcemanager.ha.enabled', false)) {
    const ids = conf.getTrimmedStrings('yarn.resourcemanager.ha.rm-ids');
    if (ids.length === 0) {
      throw missing(conf, 'yarn-site.xml', 'yarn.resourcemanager.ha.rm-ids', 'RM HA is enabled (yarn.resourcemanager.ha.enabled) but no RM ids are listed');
    }
    return ids.map((id, i) => {
      const hostKey = `yarn.resourcemanager.hostname.${id}`;
      const explicit = conf.getTrimmed(`${key}.${id}`);
      const host = conf.getTrimmed(hostKey) ?? fallbackHosts[i];
      if (explicit) return resolveAddress(conf, `${key}.${id}`, explicit, defaultPort, host, hostKey);
      if (!host) throw missing(conf, 'yarn-site.xml', hostKey, `RM HA id ${id} has neither ${key}.${id} nor ${hostKey}`);
      return `${host}:${defaultPort}`;
    });
  }
  const value = conf.getTrimmed(key);
  if (!value) throw missing(conf, 'yarn-site.xml', 'yarn.resourcemanager.hostname', `${key} is empty`);
  const rmHost = conf.getTrimmed('yarn.resourcemanager.hostname');
  return [resolveAddress(conf, key, value, defaultPort, rmHost && !WILDCARD_HOSTS.has(rmHost) ? rmHost : fallbackHosts[0], 'yarn.resourcemanager.hostname')];
}

/** host:port from a configured address; a wildcard (bind-all) host is replaced by the service's host name. */
function resolveAddress(conf: HadoopConfiguration, key: string, value: string, defaultPort: number, hostName: string | undefined, hostKey: string): string {
  const { host, port } = splitAddress(conf, key, value, defaultPort);
  if (!WILDCARD_HOSTS.has(host)) return `${host}:${port}`;
  if (hostName && !WILDCARD_HOSTS.has(hostName)) return `${hostName}:${port}`;
  throw missing(conf, 'yarn-site.xml', hostKey, `${key} resolves to ${value}, a bind-all address that a client cannot reach`);
}

function splitAddress(conf: HadoopConfiguration, key: string, value: string, defaultPort: number): { host: string; port: number } {
  const bare = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '');
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(bare);
  if (!m) throw invalid(conf, key, value, 'expected host:port');
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!(port > 0 && port < 65536)) throw invalid(conf, key, value, 'the port is out of range');
  return { host: m[1], port };
}

/** NameNode web addresses: HDFS HA (dfs.nameservices, dfs.ha.namenodes.<ns>), else dfs.namenode.http-address. */
function namenodeHttpUrls(conf: HadoopConfiguration, defaultFs: string): string[] {
  const https = conf.getTrimmed('dfs.http.policy') === 'HTTPS_ONLY';
  const key = https ? 'dfs.namenode.https-address' : 'dfs.namenode.http-address';
  const defaultPort = https ? 9871 : 9870;
  const scheme = https ? 'https' : 'http';
  let fsUrl: URL | undefined;
  try {
    fsUrl = new URL(defaultFs);
  } catch {
    throw invalid(conf, 'fs.defaultFS', defaultFs, 'expected a URI such as hdfs://namenode:8020');
  }
  const fsHost = fsUrl.protocol === 'hdfs:' ? fsUrl.hostname : undefined;

  const nameservices = conf.getTrimmedStrings('dfs.nameservices');
  const ns = fsHost && nameservices.includes(fsHost) ? fsHost : nameservices.length === 1 ? nameservices[0] : undefined;
  if (ns) {
    const nnIds = conf.getTrimmedStrings(`dfs.ha.namenodes.${ns}`);
    if (nnIds.length > 0) {
      return nnIds.map((nn) => {
        const nnKey = `${key}.${ns}.${nn}`;
        const value = conf.getTrimmed(nnKey);
        if (!value) throw missing(conf, 'hdfs-site.xml', nnKey, `NameNode ${nn} of nameservice ${ns} has no web address`);
        const { host, port } = splitAddress(conf, nnKey, value, defaultPort);
        if (WILDCARD_HOSTS.has(host)) throw invalid(conf, nnKey, value, 'a bind-all address that a client cannot reach');
        return `${scheme}://${host}:${port}`;
      });
    }
    const nsValue = conf.getTrimmed(`${key}.${ns}`);
    if (nsValue) {
      const { host, port } = splitAddress(conf, `${key}.${ns}`, nsValue, defaultPort);
      if (!WILDCARD_HOSTS.has(host)) return [`${scheme}://${host}:${port}`];
    }
  }

  const value = conf.getTrimmed(key) ?? `0.0.0.0:${defaultPort}`;
  const { host, port } = splitAddress(conf, key, value, defaultPort);
  if (!WILDCARD_HOSTS.has(host)) return [`${scheme}://${host}:${port}`];
  // The shipped default binds all interfaces; clients find the NameNode by fs.defaultFS's host.
  if (fsHost && !nameservices.includes(fsHost)) return [`${scheme}://${fsHost}:${port}`];
  throw missing(conf, 'hdfs-site.xml', key, `no NameNode web address: ${key} is ${value} and fs.defaultFS is ${defaultFs}`);
}

function siteFile(conf: HadoopConfiguration, name: string): string {
  return [...conf.origin.files, ...conf.origin.missing].find((f) => f.endsWith(`/${name}`)) ?? name;
}

function missing(conf: HadoopConfiguration, name: string, property: string, why: string): HadoopConfigurationError {
  const file = siteFile(conf, name);
  const absent = conf.origin.missing.includes(file) ? ' (the file does not exist)' : '';
  return new HadoopConfigurationError(`${file}${absent}: set ${property}: ${why}`, file, property);
}

function invalid(conf: HadoopConfiguration, key: string, value: string, why: string): HadoopConfigurationError {
  const file = conf.sourceOf(key) ?? 'configuration';
  return new HadoopConfigurationError(`${file}: ${key} = ${JSON.stringify(value)}: ${why}`, file, key);
}
