import axios from 'axios';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockLocation } from '../../src/hadoop/webhdfs/client';
import { submitOneLiner, testCluster, waitFor, waitForEnd } from '../support/cluster';

// The foundation: the local cluster is a real multi-node HDFS + YARN, and horn's REST clients
// work against it.
const cluster = testCluster();
jest.setTimeout(180_000);

// scripts/cluster env says which layout runs. Only the loopback fallback skips the locality
// tests (every client and DataNode is 127.0.0.1 to the NameNode there); any other value, or
// none, runs them, so they fail rather than pass unseen when namespaces are missing.
const layout = process.env.HORN_CLUSTER_LAYOUT ?? 'netns';
const SKIP_REASON = 'cluster in the loopback fallback layout (HORN_CLUSTER_LAYOUT=loopback): every node is 127.0.0.1 to the NameNode, so locality is not real';
if (layout === 'loopback') console.warn(`skipping the data-locality tests: ${SKIP_REASON}`);
const localityTest = (name: string, fn: () => Promise<void>) =>
  layout === 'loopback' ? test.skip(`${name} [skipped: ${SKIP_REASON}]`, fn) : test(name, fn);

/**
 * The first block of `path` once it has `replicas` replicas. The write pipeline may hold fewer
 * (a DataNode restarted by an earlier test, or one the NameNode skips for load, is left out of
 * it); the NameNode's redundancy monitor then adds the missing ones within seconds.
 */
async function fullyReplicated(path: string, replicas: number): Promise<BlockLocation> {
  return waitFor(`${path} to have ${replicas} replicas`, async () => {
    const [block] = await cluster.hdfs.getFileBlockLocations(path);
    return block.hosts.length === replicas ? block : undefined;
  }, 60_000);
}

/** node<i>.test -> the network namespace it runs in, from HORN_CLUSTER_NAMESPACES ("host=ns …"). */
function namespaceOf(host: string): string {
  const spaces = new Map((process.env.HORN_CLUSTER_NAMESPACES ?? '').split(/\s+/).filter(Boolean).map((pair) => pair.split('=') as [string, string]));
  const ns = spaces.get(host);
  if (!ns) throw new Error(`HORN_CLUSTER_NAMESPACES (${JSON.stringify(process.env.HORN_CLUSTER_NAMESPACES)}) names no namespace for ${host}: eval "$(scripts/cluster env)"`);
  return ns;
}

/** Runs curl inside a node's namespace, as a process on that node would. */
function curlFrom(host: string, args: string[]): Buffer {
  return execFileSync('ip', ['netns', 'exec', namespaceOf(host), 'curl', '-sS', '--fail', '--max-time', '10', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

const openUrl = (path: string) => `${cluster.nnUrl}/webhdfs/v1${path}?op=OPEN&user.name=${cluster.user}`;

/** The first JSON line an AM container wrote to stdout (the NodeManager frames it with header lines). */
async function containerStdoutJson<T>(attempt: { nodeHttpAddress: string; containerId: string }): Promise<T> {
  const stdout = await axios.get<string>(`http://${attempt.nodeHttpAddress}/ws/v1/node/containerlogs/${attempt.containerId}/stdout`, {
    responseType: 'text',
    transformResponse: (x) => x,
  });
  const line = stdout.data.split('\n').find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`container ${attempt.containerId} printed no JSON line:\n${stdout.data}`);
  return JSON.parse(line) as T;
}

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
    const printed = await containerStdoutJson<{ env: Record<string, string> }>(attempt);
    expect(printed.env.CONTAINER_ID).toBe(attempt.containerId);
    expect(printed.env.NM_HOST).toBe(nodeHost);
    expect(printed.env.HORN_IT_GREETING).toBe('hello from the client');
    expect(printed.env.HADOOP_TOKEN_FILE_LOCATION).toContain(attempt.containerId);
  });
});

describe('data locality (one network namespace per node)', () => {
  const dir = `/tmp/horn-it-locality-${process.pid}-${Date.now()}`;
  afterAll(async () => {
    await cluster.hdfs.delete(dir, true).catch(() => undefined);
  });

  localityTest('the NameNode sees every DataNode at its own node address', async () => {
    const jmx = await axios.get(`${cluster.nnUrl}/jmx`, { params: { qry: 'Hadoop:service=NameNode,name=NameNodeInfo' } });
    const live = Object.entries(JSON.parse(jmx.data.beans[0].LiveNodes) as Record<string, { xferaddr: string }>);
    expect(live.length).toBe(cluster.nodes);
    const ips = live.map(([, dn]) => dn.xferaddr.split(':')[0]);
    expect(new Set(ips).size).toBe(live.length);
    for (const [name, dn] of live) {
      const host = name.split(':')[0];
      expect(host).toMatch(/^node\d+\.test$/);
      expect(dn.xferaddr.split(':')[0]).toBe((await lookup(host, { family: 4 })).address);
    }
  });

  localityTest('a WebHDFS OPEN from inside a node holding a replica is redirected to that node\'s own DataNode', async () => {
    const path = `${dir}/two-replicas.txt`;
    const data = Buffer.from(`locality probe ${randomBytes(16).toString('hex')}\n`);
    await cluster.hdfs.mkdirs(dir);
    await cluster.hdfs.create(path, data, { replication: 2 });
    const block = await fullyReplicated(path, 2);
    const redirectFrom = (host: string) => new URL(curlFrom(host, ['-o', '/dev/null', '-w', '%{redirect_url}', openUrl(path)]).toString()).hostname;
    for (const holder of block.hosts) {
      // Both holders are equally near to anyone else: the NameNode shuffles them, so four
      // redirects to the reader itself happen by chance only once in 16 tries per holder.
      for (let i = 0; i < 4; i++) expect(redirectFrom(holder)).toBe(holder);
      expect(curlFrom(holder, ['-L', openUrl(path)]).equals(data)).toBe(true);
    }
    const others = Array.from({ length: cluster.nodes }, (_, i) => `node${i + 1}.test`).filter((h) => !block.hosts.includes(h));
    expect(others.length).toBeGreaterThan(0);
    for (const reader of others) expect(block.hosts).toContain(redirectFrom(reader));
  });

  localityTest('a container runs in its NodeManager\'s namespace: its WebHDFS reads go to its own DataNode', async () => {
    const path = `${dir}/every-node.txt`;
    await cluster.hdfs.mkdirs(dir);
    await cluster.hdfs.create(path, Buffer.from('a replica on every node\n'), { replication: cluster.nodes });
    await fullyReplicated(path, cluster.nodes);
    // Four OPENs from inside the container; strings reach the one-liner through its environment.
    const applicationId = await submitOneLiner(cluster, {
      name: 'horn-locality-it',
      applicationType: 'HORN-TEST',
      script:
        'const http=require(process.env.HORN_IT_MODULE);const seen=[];' +
        'const next=()=>http.get(process.env.HORN_IT_URL,(r)=>{seen.push(r.headers.location);r.resume();if(seen.length<4)next();else console.log(JSON.stringify({seen}))});next()',
      environment: { HORN_IT_MODULE: 'http', HORN_IT_URL: openUrl(path) },
    });
    await waitForEnd(cluster, applicationId);
    const [attempt] = await cluster.rm.appAttempts(applicationId);
    const nodeHost = attempt.nodeId.split(':')[0];
    const { seen } = await containerStdoutJson<{ seen: string[] }>(attempt);
    expect(seen.length).toBe(4);
    // Three replicas, one per node: from anywhere but a node, a third of the redirects would name it.
    for (const location of seen) expect(new URL(location).hostname).toBe(nodeHost);
  });
});

describe('scripts/cluster', () => {
  const script = join(__dirname, '..', '..', 'scripts', 'cluster');
  const pidsDir = join(__dirname, '..', '..', '.cluster', 'run', 'pids');
  const pids = () => readdirSync(pidsDir).sort().map((f) => `${f}=${readFileSync(join(pidsDir, f), 'utf8').trim()}`);
  // The script reports on stderr ("cluster: …") and prints status and env on stdout.
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(script, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
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
    expect(run(['status']).code).toBe(0); // the real cluster is untouched, namespaces included
  });

  test('status shows the layout and, in the netns layout, every node\'s namespace', () => {
    const r = run(['status']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`cluster ready (${layout} layout)`);
    for (let i = 1; i <= cluster.nodes; i++) {
      if (layout === 'loopback') expect(r.out).toContain(`node${i}.test 127.0.0.${10 + i}`);
      else {
        expect(r.out).toMatch(new RegExp(`^namespace ${namespaceOf(`node${i}.test`)}: node${i}\\.test 10\\.213\\.0\\.${10 + i} `, 'm'));
        expect(r.out).toMatch(new RegExp(`^nodemanager${i} running \\(pid \\d+, namespace ${namespaceOf(`node${i}.test`)}\\)$`, 'm'));
      }
    }
  });

  test('stop-daemon and start-daemon need a daemon of this cluster', () => {
    for (const args of [['stop-daemon', 'nodemanager99'], ['start-daemon'], ['start-daemon', 'datanode']]) {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.out).toContain('(one of: namenode resourcemanager datanode1 nodemanager1');
    }
  });

  test('stop-daemon and start-daemon restart one NodeManager by its pid file, leaving the others', async () => {
    const daemon = `nodemanager${cluster.nodes}`;
    const host = `node${cluster.nodes}.test`;
    const before = pids();
    const stopped = run(['stop-daemon', daemon]);
    expect(stopped).toEqual({ code: 0, out: expect.stringContaining(`stopped ${daemon} (pid `) });
    const status = run(['status']);
    expect(status.code).toBe(1);
    expect(status.out).toMatch(new RegExp(`^${daemon} stopped$`, 'm'));
    expect(run(['stop-daemon', daemon]).out).toContain(`${daemon} is not running`);

    const started = run(['start-daemon', daemon]);
    expect(started).toEqual({ code: 0, out: expect.stringMatching(new RegExp(`${daemon} ready in \\d+s`)) });
    const after = pids();
    expect(after.filter((p) => !p.startsWith(`${daemon}.pid=`))).toEqual(before.filter((p) => !p.startsWith(`${daemon}.pid=`)));
    expect(after.find((p) => p.startsWith(`${daemon}.pid=`))).not.toEqual(before.find((p) => p.startsWith(`${daemon}.pid=`)));
    await waitFor(`${host} RUNNING`, async () => ((await cluster.rm.nodes(['RUNNING'])).some((n) => n.nodeHostName === host) ? true : undefined), 10_000);
    expect(run(['start-daemon', daemon]).out).toContain(`${daemon} already running`);
    expect(run(['status']).code).toBe(0);
  });
});
