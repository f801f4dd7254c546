import type { Agent as HttpsAgent } from 'node:https';
import { clusterEndpoints, loadHadoopConfiguration, type ClusterEndpoints, type HadoopConfiguration } from '../hadoop/conf';
import { httpsAgentFor, SpnegoNegotiator, type HttpAuth } from '../hadoop/http/auth';
import { ResourceManagerClient } from '../hadoop/rm-rest/client';
import { WebHdfsClient } from '../hadoop/webhdfs/client';

/** How the client authenticates: simple (user.name), or Kerberos (SPNEGO), and which CA it trusts for https. */
export interface ClientSecurity {
  readonly kerberos: boolean;
  readonly negotiator?: SpnegoNegotiator;
  readonly httpsAgent?: HttpsAgent;
  readonly caFile?: string;
}

/** Everything a cluster command needs: the configuration, where the services are, and clients for them. */
export interface ClientContext {
  readonly conf: HadoopConfiguration;
  readonly endpoints: ClusterEndpoints;
  /** Who horn acts as: HADOOP_USER_NAME or the OS user, or under Kerberos the principal's short name as HDFS knows it. */
  readonly user: string;
  readonly rm: ResourceManagerClient;
  readonly hdfs: WebHdfsClient;
  readonly security: ClientSecurity;
}

/**
 * The whole budget, in ms, for one request to give up on an unreachable service: the documented
 * promise is that an unreachable RM makes `horn` exit 4 within 30 s, and the process still has
 * to start and print. Refused connections fail at once and only the back-off counts; a
 * black-holed address costs one timeout per URL per round.
 */
export const UNREACHABLE_BUDGET_MS = 24_000;
export const REQUEST_ROUNDS = 3;
export const BACKOFF_MS = 300;

/** The per-request timeout that keeps rounds × URLs × timeout + back-off within the budget. */
export function requestTimeoutMs(urlCount: number, rounds = REQUEST_ROUNDS, backoffMs = BACKOFF_MS, budgetMs = UNREACHABLE_BUDGET_MS): number {
  const backoffTotal = backoffMs * (2 ** Math.max(0, rounds - 1) - 1);
  return Math.max(1_000, Math.floor((budgetMs - backoffTotal) / (rounds * Math.max(1, urlCount))));
}

/**
 * The client's security from the configuration and environment: Kerberos when
 * hadoop.security.authentication is kerberos, from the ticket cache or --keytab/--principal
 * (HORN_KEYTAB/HORN_PRINCIPAL, or horn.kerberos.keytab/principal in the configuration); the CA
 * from --ca-file (HORN_CA_FILE, or horn.ssl.ca-file).
 */
export function clientSecurity(conf: HadoopConfiguration, env: NodeJS.ProcessEnv = process.env): ClientSecurity {
  const caFile = env.HORN_CA_FILE || conf.getTrimmed('horn.ssl.ca-file') || undefined;
  const httpsAgent = httpsAgentFor(caFile);
  if ((conf.getTrimmed('hadoop.security.authentication') ?? 'simple').toLowerCase() !== 'kerberos') return { kerberos: false, httpsAgent, caFile };
  const keytab = env.HORN_KEYTAB || conf.getTrimmed('horn.kerberos.keytab') || undefined;
  const principal = env.HORN_PRINCIPAL || conf.getTrimmed('horn.kerberos.principal') || undefined;
  const negotiator = new SpnegoNegotiator({ keytab, principal }, { caFile, baseEnv: env });
  // A keytab login's private credential cache goes when the command ends.
  process.once('exit', () => negotiator.close());
  return { kerberos: true, negotiator, httpsAgent, caFile };
}

export async function createClientContext(env: NodeJS.ProcessEnv = process.env): Promise<ClientContext> {
  const conf = await loadHadoopConfiguration(env);
  const endpoints = clusterEndpoints(conf, env);
  const security = clientSecurity(conf, env);
  const auth = (user: string): HttpAuth => (security.negotiator ? { kind: 'spnego', negotiator: security.negotiator } : { kind: 'simple', user });
  const common = { rounds: REQUEST_ROUNDS, backoffMs: BACKOFF_MS, httpsAgent: security.httpsAgent, caFile: security.caFile };
  const hdfsFor = (user: string) =>
    new WebHdfsClient({ ...common, namenodeUrls: endpoints.namenodeHttpUrls, user, auth: auth(user), timeoutMs: requestTimeoutMs(endpoints.namenodeHttpUrls.length) });
  // Under Kerberos the user is whoever the ticket or keytab names, as the NameNode maps it (its SPNEGO cookie says).
  const user = security.kerberos ? await hdfsFor(endpoints.user).endpoint.authenticatedUser() : endpoints.user;
  const rm = new ResourceManagerClient({ ...common, rmUrls: endpoints.rmWebUrls, user, auth: auth(user), timeoutMs: requestTimeoutMs(endpoints.rmWebUrls.length) });
  return { conf, endpoints, user, rm, hdfs: hdfsFor(user), security };
}
