import axios from 'axios';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submitOneLiner, testCluster, waitForEnd } from '../support/cluster';

// The foundation: the local cluster is a real multi-node HDFS + YARN, and horn's REST clients
// work against it.
const cluster = testCluster();
jest.setTimeout(180_000);

describe('local Hadoop cluster', () => {
  test('at least two NodeManagers are RUNNING, each under its own host name', async () => {
    const nodes = await cluster.rm.nodes(['RUNNING']);
    const hosts = new Set(nodes.map((n) => n.nodeHostName));
    expect(nodes.length).toBeGreaterThanOrEqual(2);
    expect(hosts.size).toBe(nodes.length);
    for (const host of hosts) expect(host).toMatch(/^node\d+\.test$/);
  });

  test('at least two DataNodes are live', async () => {
    const jmx = await axios.get(`${cluster.nnUrl}/jmx`, { params: { qry: 'Hadoop:service=NameNode,name=NameNodeInfo' } });
    const live = JSON.parse(jmx.data.beans[0].LiveNodes) as Record<string, { xferaddr: string }>;
    expect(Object.keys(live).length).toBeGreaterThanOrEqual(2);
  });

  test('a multi-block file round-trips through WebHDFS and its blocks sit on NodeManager hosts', async () => {
    const dir = `/tmp/horn-it-${process.pid}-${Date.now()}`;
    const path = `${dir}/data.bin`;
    const data = randomBytes(5 * 1024 * 1024 + 12_345); // 1 MiB blocks: 6 blocks
    try {
      await cluster.hdfs.mkdirs(dir);
      await cluster.hdfs.create(path, data);
      const status = await cluster.hdfs.getFileStatus(path);
      expect(status.length).toBe(data.length);
      expect((await cluster.hdfs.readFile(path)).equals(data)).toBe(true);
      const ranged = await cluster.hdfs.open(path, { offset: 1_500_000, length: 2_000_000 });
      const chunks: Buffer[] = [];
      for await (const c of ranged) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(data.subarray(1_500_000, 3_500_000))).toBe(true);

      const blocks = await cluster.hdfs.getFileBlockLocations(path);
      expect(blocks.length).toBe(Math.ceil(data.length / status.blockSize));
      expect(blocks.reduce((sum, b) => sum + b.length, 0)).toBe(data.length);
      const nmHosts = new Set((await cluster.rm.nodes(['RUNNING'])).map((n) => n.nodeHostName));
      const blockHosts = new Set(blocks.flatMap((b) => b.hosts));
      for (const host of blockHosts) expect(nmHosts).toContain(host);
      expect(blockHosts.size).toBeGreaterThanOrEqual(2);
    } finally {
      await cluster.hdfs.delete(dir, true);
    }
  });

  test('an application submitted through the RM REST API runs a node one-liner on a NodeManager', async () => {
    const applicationId = await submitOneLiner(cluster, {
      name: 'horn-foundation-it',
      applicationType: 'HORN-TEST',
      script: 'console.log(JSON.stringify({env:process.env}))',
      environment: { HORN_IT_GREETING: 'hello from the client' },
    });
    const final = await waitForEnd(cluster, applicationId);
    expect(final.applicationType).toBe('HORN-TEST');

    const [attempt] = await cluster.rm.appAttempts(applicationId);
    const nodeHost = attempt.nodeId.split(':')[0];
    expect(nodeHost).toMatch(/^node\d+\.test$/);
    const stdout = await axios.get<string>(`http://${attempt.nodeHttpAddress}/ws/v1/node/containerlogs/${attempt.containerId}/stdout`, {
      responseType: 'text',
      transformResponse: (x) => x,
    });
    // The NodeManager frames the file with "Container: … LogContents:" header lines.
    const line = stdout.data.split('\n').find((l) => l.startsWith('{'));
    expect(line).toBeDefined();
    const printed = JSON.parse(line ?? '') as { env: Record<string, string> };
    expect(printed.env.CONTAINER_ID).toBe(attempt.containerId);
    expect(printed.env.NM_HOST).toBe(nodeHost);
    expect(printed.env.HORN_IT_GREETING).toBe('hello from the client');
    expect(printed.env.HADOOP_TOKEN_FILE_LOCATION).toContain(attempt.containerId);
  });
});

describe('scripts/cluster', () => {
  const script = join(__dirname, '..', '..', 'scripts', 'cluster');
  const pidsDir = join(__dirname, '..', '..', '.cluster', 'run', 'pids');
  const pids = () => readdirSync(pidsDir).sort().map((f) => `${f}=${readFileSync(join(pidsDir, f), 'utf8').trim()}`);
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    try {
      return { code: 0, out: execFileSync(script, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { code: e.status, out: `${e.stdout}${e.stderr}` };
    }
  };

  test('start on a running cluster does nothing and keeps every daemon', () => {
    const before = pids();
    const started = Date.now();
    expect(run(['start']).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(pids()).toEqual(before);
    expect(run(['status']).code).toBe(0);
  });

  test('stop on a stopped cluster does no harm', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'horn-cluster-'));
    const r = run(['stop'], { HORN_CLUSTER_HOME: elsewhere });
    expect(r.code).toBe(0);
    expect(run(['status']).code).toBe(0); // the real cluster is untouched
  });
});
