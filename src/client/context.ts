import { clusterEndpoints, loadHadoopConfiguration, type ClusterEndpoints, type HadoopConfiguration } from '../hadoop/conf';
import { ResourceManagerClient } from '../hadoop/rm-rest/client';
import { WebHdfsClient } from '../hadoop/webhdfs/client';

/** Everything a cluster command needs: the configuration, where the services are, and clients for them. */
export interface ClientContext {
  readonly conf: HadoopConfiguration;
  readonly endpoints: ClusterEndpoints;
  readonly user: string;
  readonly rm: ResourceManagerClient;
  readonly hdfs: WebHdfsClient;
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

export async function createClientContext(env: NodeJS.ProcessEnv = process.env): Promise<ClientContext> {
  const conf = await loadHadoopConfiguration(env);
  const endpoints = clusterEndpoints(conf, env);
  const user = endpoints.user;
  const rm = new ResourceManagerClient({
    rmUrls: endpoints.rmWebUrls,
    user,
    rounds: REQUEST_ROUNDS,
    backoffMs: BACKOFF_MS,
    timeoutMs: requestTimeoutMs(endpoints.rmWebUrls.length),
  });
  const hdfs = new WebHdfsClient({
    namenodeUrls: endpoints.namenodeHttpUrls,
    user,
    rounds: REQUEST_ROUNDS,
    backoffMs: BACKOFF_MS,
    timeoutMs: requestTimeoutMs(endpoints.namenodeHttpUrls.length),
  });
  return { conf, endpoints, user, rm, hdfs };
}
