import axios from 'axios';
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerUnreachableError } from '../../src/hadoop/ipc';
import { Credentials, TokenKind } from '../../src/hadoop/security';
import { AMRMClient } from '../../src/hadoop/yarn';
import { testCluster, waitFor, waitForEnd } from '../support/cluster';
import type { Report } from './fixtures/rpc-am';

// Hadoop RPC on the real cluster: an ApplicationMaster written with src/hadoop (fixtures/rpc-am.ts)
// is bundled, uploaded to HDFS and submitted through the RM REST API. It registers, asks for
// strict-locality and relaxed containers, launches them through the NodeManagers, checks the
// failure paths and unregisters; it leaves a JSON report that this test checks against the RM.
const cluster = testCluster();
jest.setTimeout(300_000);

const RM_HOST = new URL(cluster.rmUrl).hostname;
const SCHEDULER = `${RM_HOST}:8030`;
const STRICT_HOSTS = ['node1.test', 'node2.test'];


describe('Hadoop RPC against the real cluster', () => {
  let applicationId: string;
  let report: Report;
  let outDir: string;
  const hdfsDir = `/tmp/horn-rpc-it-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'horn-rpc-it-'));
    const bundle = join(work, 'rpc-am.js');
    await build({
      entryPoints: [join(__dirname, 'fixtures/rpc-am.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      loader: { '.proto': 'text' },
      logLevel: 'warning',
    });
    await cluster.hdfs.mkdirs(hdfsDir);
    await cluster.hdfs.create(`${hdfsDir}/rpc-am.js`, readFileSync(bundle));
    const status = await cluster.hdfs.getFileStatus(`${hdfsDir}/rpc-am.js`);
    rmSync(work, { recursive: true, force: true });

    ({ applicationId } = await cluster.rm.newApplication());
    outDir = join(tmpdir(), 'horn-rpc-it', applicationId);
    await cluster.rm.submitApplication({
      applicationId,
      name: 'horn-rpc-it',
      applicationType: 'HORN-TEST',
      queue: 'default',
      maxAppAttempts: 1,
      resource: { memoryMb: 256, vcores: 1 },
      amContainerSpec: {
        localResources: {
          'rpc-am.js': {
            uri: `hdfs://${RM_HOST}:8020${hdfsDir}/rpc-am.js`,
            type: 'FILE',
            visibility: 'APPLICATION',
            size: status.length,
            timestamp: status.modificationTime,
          },
        },
        environment: {
          HORN_RM_SCHEDULER_ADDRESS: SCHEDULER,
          HORN_RPC_IT_DIR: outDir,
          HORN_RPC_IT_STRICT_HOSTS: STRICT_HOSTS.join(','),
        },
        command: '/usr/bin/node rpc-am.js 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr',
      },
    });
    await waitForEnd(cluster, applicationId, 240_000, 1000);
    // The RM shows FINISHED as soon as the AM unregisters; the AM writes its last report line right after.
    report = await waitFor(
      'the AM report',
      async () => {
        const r = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as Report;
        return r.finished || r.error ? r : undefined;
      },
      30_000,
    );
  });

  afterAll(async () => {
    await cluster.hdfs.delete(hdfsDir, true).catch(() => undefined);
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  test('the AM registered, ran without error and unregistered SUCCEEDED with diagnostics and tracking URL', async () => {
    expect(report.error).toBeUndefined();
    expect(report.registered).toBe(true);
    expect(report.finished).toBe(true);
    const app = await cluster.rm.getApplication(applicationId);
    expect(app.state).toBe('FINISHED');
    expect(app.finalStatus).toBe('SUCCEEDED');
    expect(app.diagnostics).toContain('horn rpc it: 5 containers completed');
    expect(app.progress).toBe(100);
    // After the end the RM proxy redirects to the URL the AM registered and finished with.
    const proxied = await axios.get(`${cluster.rmUrl}/proxy/${applicationId}/`, { maxRedirects: 0, validateStatus: () => true });
    expect(proxied.status).toBe(302);
    expect(String(proxied.headers.location).replace(/\/$/, '')).toBe(report.trackingUrl);
  });

  test('strict-locality containers ran on the hosts asked for, one more ran anywhere, all exited 0', () => {
    for (const [role, host] of [
      ['strict1', STRICT_HOSTS[0]],
      ['strict2', STRICT_HOSTS[1]],
    ] as const) {
      const a = report.allocated.find((x) => x.role === role)!;
      expect(a).toBeDefined();
      expect(a.host).toBe(host);
      expect(a.locality).toBe('node');
      // The container itself wrote $NM_HOST: it really ran on that NodeManager.
      expect(readFileSync(join(outDir, `${a.containerId}.host`), 'utf8').trim()).toBe(host);
    }
    const anywhere = report.allocated.find((x) => x.role === 'anywhere')!;
    expect(readFileSync(join(outDir, `${anywhere.containerId}.host`), 'utf8').trim()).toBe(anywhere.host);
    for (const role of ['strict1', 'strict2', 'anywhere']) {
      const c = report.completed.find((x) => x.role === role)!;
      expect(c).toMatchObject({ state: 'C_COMPLETE', exitStatus: 0 });
    }
  });

  test('progress was reported and reached 1', () => {
    expect(report.progressReported.some((p) => p > 0 && p < 1)).toBe(true);
    expect(report.progressReported.at(-1)).toBe(1);
  });

  test('a container exiting 3 is reported with exit code 3 and diagnostics', () => {
    const c = report.completed.find((x) => x.role === 'exit3')!;
    expect(c.exitStatus).toBe(3);
    expect(c.diagnostics).toMatch(/exit code 3|Exception from container-launch/i);
  });

  test('a container stopped through stopContainers is reported as stopped', () => {
    expect(report.sleeperStatusBeforeStop).toBe('C_RUNNING');
    expect(report.stopped).toBe(true);
    const c = report.completed.find((x) => x.role === 'sleeper')!;
    expect(c.state).toBe('C_COMPLETE');
    expect(c.exitStatus).toBe(-105); // KILLED_BY_APPMASTER
    expect(c.diagnostics).toMatch(/killed by the ApplicationMaster/i);
  });

  test('corrupted tokens give an authentication error naming the token kind, quickly', () => {
    expect(report.corruptAmrm!.errorName).toBe('RpcAuthenticationError');
    expect(report.corruptAmrm!.message).toContain('YARN_AM_RM_TOKEN');
    expect(report.corruptAmrm!.elapsedMs).toBeLessThan(10_000);
    expect(report.corruptNm!.errorName).toBe('RpcAuthenticationError');
    expect(report.corruptNm!.message).toContain('NMToken');
    expect(report.corruptNm!.elapsedMs).toBeLessThan(10_000);
  });

  test('the AM container credentials file holds the AMRMToken (and is kept as a unit fixture)', () => {
    const creds = Credentials.parse(readFileSync(join(outDir, 'am_container_tokens')), 'am_container_tokens');
    const token = creds.findTokenByKind(TokenKind.AMRM)!;
    expect(token).toBeDefined();
    expect(token.identifier.length).toBeGreaterThan(0);
    // The committed unit fixture was captured this way from an earlier run; same shape every time.
    const fixture = Credentials.parse(readFileSync(join(__dirname, '../unit/hadoop/fixtures/container_tokens')));
    expect([...creds.tokens.keys()]).toEqual([...fixture.tokens.keys()]);
    expect(creds.serialize().equals(readFileSync(join(outDir, 'am_container_tokens')))).toBe(true);
  });
});

test('RM scheduler unreachable: a clear error within a bounded time', async () => {
  const client = new AMRMClient({
    host: RM_HOST,
    port: 1, // nothing listens there
    amrmToken: { identifier: Buffer.from('x'), password: Buffer.from('y'), kind: TokenKind.AMRM, service: '' },
    connection: { maxConnectAttempts: 3, retryDelayMs: 200, connectTimeoutMs: 2000 },
  });
  const started = Date.now();
  const error = await client.register({ host: 'h' }).catch((e: unknown) => e);
  const elapsed = Date.now() - started;
  await client.close();
  expect(error).toBeInstanceOf(ServerUnreachableError);
  expect((error as Error).message).toMatch(new RegExp(`${RM_HOST}:1: server unreachable after 3 attempt\\(s\\)`));
  expect((error as Error).message).toMatch(/ECONNREFUSED/);
  expect(elapsed).toBeLessThan(10_000);
});
