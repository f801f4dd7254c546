import { ENDED_STATES, ResourceManagerClient, type ApplicationReport } from '../../src/hadoop/rm-rest/client';
import { WebHdfsClient } from '../../src/hadoop/webhdfs/client';

// What integration tests need to reach the local cluster that scripts/cluster runs. The test
// command exports these through `scripts/cluster env`.
export interface TestCluster {
  readonly rmUrl: string;
  readonly nnUrl: string;
  readonly user: string;
  readonly nodes: number;
  readonly rm: ResourceManagerClient;
  readonly hdfs: WebHdfsClient;
}

export function testCluster(): TestCluster {
  const rmUrl = process.env.HORN_TEST_RM_URL;
  const nnUrl = process.env.HORN_TEST_NN_URL;
  if (!rmUrl || !nnUrl) {
    throw new Error('integration tests need the local cluster: run `scripts/cluster start` and `eval "$(scripts/cluster env)"` (npm test does both)');
  }
  const user = process.env.HADOOP_USER_NAME ?? 'root';
  return {
    rmUrl,
    nnUrl,
    user,
    nodes: Number(process.env.HORN_CLUSTER_NODES ?? 3),
    rm: new ResourceManagerClient({ rmUrls: [rmUrl], user }),
    hdfs: new WebHdfsClient({ namenodeUrls: [nnUrl], user }),
  };
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` naming what it waited for. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** Waits until the application reaches a final state and returns its report. */
export function waitForEnd(cluster: TestCluster, applicationId: string, timeoutMs = 120_000, intervalMs = 500): Promise<ApplicationReport> {
  return waitFor(`${applicationId} to end`, async () => {
    const app = await cluster.rm.getApplication(applicationId);
    return ENDED_STATES.has(app.state) ? app : undefined;
  }, timeoutMs, intervalMs);
}

/**
 * Submits an application whose AM is a `node -e` one-liner (it never registers, so the attempt
 * ends when the script exits). The NodeManager pastes the command into bash -c "…" unescaped:
 * the script must hold no double quotes and no string literals inside its single quotes.
 */
export async function submitOneLiner(
  cluster: TestCluster,
  app: { name: string; script: string; applicationType: string; tags?: string[]; environment?: Record<string, string> },
): Promise<string> {
  const { applicationId } = await cluster.rm.newApplication();
  await cluster.rm.submitApplication({
    applicationId,
    name: app.name,
    applicationType: app.applicationType,
    queue: 'default',
    maxAppAttempts: 1,
    tags: app.tags,
    resource: { memoryMb: 256, vcores: 1 },
    amContainerSpec: { command: `/usr/bin/node -e '${app.script}' 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr`, environment: app.environment },
  });
  return applicationId;
}
