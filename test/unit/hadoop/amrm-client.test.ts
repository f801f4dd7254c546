import { RpcAuthenticationError } from '../../../src/hadoop/ipc';
import { codec } from '../../../src/hadoop/proto';
import { AMRMClient, AllocateRequest, AllocateResponse, Container, FinishApplicationMasterRequest } from '../../../src/hadoop/yarn';
import { FakeIpcServer, FakeServerOptions, ReceivedCall } from './fake-ipc-server';

const allocReq = codec<AllocateRequest>('hadoop.yarn.AllocateRequestProto');
const allocResp = codec<Partial<AllocateResponse>>('hadoop.yarn.AllocateResponseProto');
const regResp = codec<object>('hadoop.yarn.RegisterApplicationMasterResponseProto');
const finishReq = codec<FinishApplicationMasterRequest>('hadoop.yarn.FinishApplicationMasterRequestProto');
const finishResp = codec<{ isUnregistered?: boolean }>('hadoop.yarn.FinishApplicationMasterResponseProto');

const token = (pw: string) => ({ identifier: Buffer.from('attempt'), password: Buffer.from(pw), kind: 'YARN_AM_RM_TOKEN', service: '' });
const attempt = { applicationId: { id: 1, clusterTimestamp: 100 }, attemptId: 1 };
const containerOn = (host: string, seq: number, priority: number): Container => ({
  id: { appAttemptId: attempt, id: seq },
  nodeId: { host, port: 8041 },
  resource: { memory: 128, virtualCores: 1 },
  priority: { priority },
  containerToken: { identifier: Buffer.from('c'), password: Buffer.from('p'), kind: 'ContainerToken', service: `${host}:8041` },
});

describe('AMRMClient against a fake RM scheduler port', () => {
  let server: FakeIpcServer;
  let options: FakeServerOptions;
  let allocates: AllocateRequest[];
  let finishes: FinishApplicationMasterRequest[];
  let onAllocate: (req: AllocateRequest, call: ReceivedCall) => Partial<AllocateResponse> | undefined;
  let unregisterAfter: number;
  let client: AMRMClient;

  beforeEach(async () => {
    allocates = [];
    finishes = [];
    unregisterAfter = 1;
    onAllocate = (req) => ({ responseId: req.responseId + 1 });
    options = {
      tokenPassword: Buffer.from('key-1'),
      onCall: (c) => {
        if (c.method === 'registerApplicationMaster') c.reply(regResp.encode({ queue: 'default', maximumCapability: { memory: 4096, virtualCores: 4 } }));
        if (c.method === 'allocate') {
          const req = allocReq.decode(c.body);
          allocates.push(req);
          const resp = onAllocate(req, c);
          if (resp) c.reply(allocResp.encode(resp));
        }
        if (c.method === 'finishApplicationMaster') {
          finishes.push(finishReq.decode(c.body));
          c.reply(finishResp.encode({ isUnregistered: finishes.length >= unregisterAfter }));
        }
      },
    };
    server = new FakeIpcServer(options);
    await server.start();
    client = new AMRMClient({ host: '127.0.0.1', port: server.port, amrmToken: token('key-1'), connection: { retryDelayMs: 10 } });
  });

  afterEach(async () => {
    await client.close();
    await server.stop();
  });

  test('allocate before register is refused', async () => {
    await expect(client.allocate()).rejects.toThrow(/before registerApplicationMaster/);
  });

  test('response_id starts at 0 after register and echoes the RM; asks, releases, blacklist and progress are sent once', async () => {
    const reg = await client.register({ host: 'am-host', rpcPort: 1234, trackingUrl: 'http://am-host:8080' });
    expect(reg.queue).toBe('default');
    client.addContainerRequest({ capability: { memory: 128, virtualCores: 1 }, priority: 1, nodes: ['n1'], relaxLocality: false });
    client.releaseContainer({ appAttemptId: attempt, id: 9 });
    client.updateBlacklist(['bad-node']);
    client.setProgress(0.25);
    await client.allocate();
    client.setProgress(7); // clamped to 1
    await client.allocate();
    await client.allocate();
    expect(allocates.map((a) => a.responseId)).toEqual([0, 1, 2]);
    expect(allocates[0]!.ask.map((a) => a.resourceName).sort()).toEqual(['*', '/default-rack', 'n1']);
    expect(allocates[0]!.release.map((r) => r.id)).toEqual([9]);
    expect(allocates[0]!.blacklistRequest).toEqual({ blacklistAdditions: ['bad-node'], blacklistRemovals: [] });
    expect(allocates[0]!.progress).toBeCloseTo(0.25);
    expect(allocates[1]!.ask).toEqual([]);
    expect(allocates[1]!.release).toEqual([]);
    expect(allocates[1]!.blacklistRequest).toBeUndefined();
    expect(allocates[1]!.progress).toBe(1);
  });

  test('allocated containers are matched to requests, surplus ones released, completed statuses and NMTokens surfaced', async () => {
    await client.register({ host: 'h' });
    const req = client.addContainerRequest({ capability: { memory: 128, virtualCores: 1 }, priority: 1, nodes: ['n1'], relaxLocality: false });
    onAllocate = (r) =>
      r.responseId === 0
        ? {
            responseId: 1,
            allocatedContainers: [containerOn('n1', 2, 1), containerOn('n3', 3, 1)],
            completedContainerStatuses: [{ containerId: { appAttemptId: attempt, id: 1 }, state: 'C_COMPLETE', exitStatus: 3, diagnostics: 'boom' }],
            nmTokens: [{ nodeId: { host: 'n1', port: 8041 }, token: { identifier: Buffer.from('i'), password: Buffer.from('p'), kind: 'NMToken', service: 'n1:8041' } }],
          }
        : { responseId: r.responseId + 1 };
    const result = await client.allocate();
    expect(result.allocated).toHaveLength(1);
    expect(result.allocated[0]!.request.requestId).toBe(req.requestId);
    expect(result.surplus.map((c) => c.nodeId.host)).toEqual(['n3']);
    expect(result.completed[0]).toMatchObject({ exitStatus: 3, diagnostics: 'boom', state: 'C_COMPLETE' });
    expect(client.nmTokens.get('n1:8041')!.kind).toBe('NMToken');
    await client.allocate();
    // The surplus container goes back; the satisfied request's asks drop to 0.
    expect(allocates[1]!.release.map((r) => r.id)).toEqual([3]);
    expect(Object.fromEntries(allocates[1]!.ask.map((a) => [a.resourceName, a.numContainers]))).toEqual({ n1: 0, '/default-rack': 0, '*': 0 });
  });

  test('a new AMRMToken from the RM is used for the next connection', async () => {
    await client.register({ host: 'h' });
    onAllocate = (r) => ({ responseId: r.responseId + 1, amRmToken: token('key-2') });
    const result = await client.allocate();
    expect(result.amrmTokenRenewed).toBe(true);
    expect(Buffer.from(client.currentAmrmToken.password).toString()).toBe('key-2');
    // The RM activates the new key and the old connection goes away.
    options.tokenPassword = Buffer.from('key-2');
    onAllocate = (r) => ({ responseId: r.responseId + 1 });
    for (const s of server.connections) s.destroy();
    await new Promise((r) => setTimeout(r, 20));
    await client.allocate();
    expect(server.connections).toHaveLength(2);
    expect(allocates.at(-1)!.responseId).toBe(1);
  });

  test('a connection lost during allocate is resent once with the same response_id', async () => {
    await client.register({ host: 'h' });
    let dropped = false;
    onAllocate = (r, call) => {
      if (!dropped) {
        dropped = true;
        call.socket.destroy();
        return undefined;
      }
      return { responseId: r.responseId + 1 };
    };
    const result = await client.allocate();
    expect(result.responseId).toBe(1);
    expect(allocates.map((a) => a.responseId)).toEqual([0, 0]);
  });

  test('finish repeats until the RM reports the attempt unregistered', async () => {
    await client.register({ host: 'h', trackingUrl: 'http://h:1' });
    unregisterAfter = 3;
    await client.finish({ finalStatus: 'SUCCEEDED', diagnostics: 'all good', retryIntervalMs: 10 });
    expect(finishes).toHaveLength(3);
    expect(finishes[0]).toEqual({ finalApplicationStatus: 'APP_SUCCEEDED', diagnostics: 'all good', trackingUrl: 'http://h:1' });
  });

  test('a rejected token surfaces as RpcAuthenticationError', async () => {
    const bad = new AMRMClient({ host: '127.0.0.1', port: server.port, amrmToken: token('nope') });
    await expect(bad.register({ host: 'h' })).rejects.toBeInstanceOf(RpcAuthenticationError);
    await bad.close();
  });

  test('heartbeat loop reports results until stopped', async () => {
    await client.register({ host: 'h' });
    const seen: number[] = [];
    await new Promise<void>((resolve, reject) => {
      client.startHeartbeats({
        intervalMs: 5,
        onResult: (r) => {
          seen.push(r.responseId);
          if (seen.length === 3) resolve();
        },
        onError: reject,
      });
    });
    await client.stopHeartbeats();
    expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
  });
});

describe('AMRMClient.fromContainerEnvironment', () => {
  const { mkdtempSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
  const { join } = require('node:path') as typeof import('node:path');
  const { tmpdir } = require('node:os') as typeof import('node:os');
  const { Credentials } = require('../../../src/hadoop/security') as typeof import('../../../src/hadoop/security');
  const dir = mkdtempSync(join(tmpdir(), 'amrm-env-'));
  const tokenFile = join(dir, 'container_tokens');
  writeFileSync(tokenFile, new Credentials().addToken('', token('k')).serialize());

  test('reads the AMRMToken by kind and the scheduler address from HORN_RM_SCHEDULER_ADDRESS', async () => {
    const c = await AMRMClient.fromContainerEnvironment({ HADOOP_TOKEN_FILE_LOCATION: tokenFile, HORN_RM_SCHEDULER_ADDRESS: 'rm.example:8030' });
    expect(c.currentAmrmToken.kind).toBe('YARN_AM_RM_TOKEN');
    await c.close();
  });

  test('falls back to yarn-site.xml in HADOOP_CONF_DIR, and says what to set when neither exists', async () => {
    const conf = join(dir, 'conf');
    require('node:fs').mkdirSync(conf);
    writeFileSync(join(conf, 'yarn-site.xml'), '<configuration><property><name>yarn.resourcemanager.hostname</name><value>rm.example</value></property></configuration>');
    writeFileSync(join(conf, 'core-site.xml'), '<configuration><property><name>fs.defaultFS</name><value>hdfs://nn.example:8020</value></property></configuration>');
    const c = await AMRMClient.fromContainerEnvironment({ HADOOP_TOKEN_FILE_LOCATION: tokenFile, HADOOP_CONF_DIR: conf }, { connection: { maxConnectAttempts: 1 } });
    expect(c.schedulerAddress).toBe('rm.example:8030');
    await c.close();
    await expect(AMRMClient.fromContainerEnvironment({ HADOOP_TOKEN_FILE_LOCATION: tokenFile })).rejects.toThrow(/set HORN_RM_SCHEDULER_ADDRESS=host:port.*HADOOP_CONF_DIR is not set/);
  });

  test('a token file without an AMRMToken is reported', async () => {
    const other = join(dir, 'other_tokens');
    writeFileSync(other, new Credentials().serialize());
    await expect(AMRMClient.fromContainerEnvironment({ HADOOP_TOKEN_FILE_LOCATION: other, HORN_RM_SCHEDULER_ADDRESS: 'a:1' })).rejects.toThrow(/no YARN_AM_RM_TOKEN token in .*other_tokens/);
  });
});

describe('AMRMClient with RM HA addresses and a tolerant heartbeat', () => {
  const regRespCodec = codec<object>('hadoop.yarn.RegisterApplicationMasterResponseProto');

  test('an unreachable or standby RM is skipped for the next address', async () => {
    const closed = new FakeIpcServer({ onCall: () => undefined });
    const closedPort = await closed.start();
    await closed.stop();
    const standby = new FakeIpcServer({
      tokenPassword: Buffer.from('k'),
      onCall: (c) => c.fail('org.apache.hadoop.ipc.StandbyException', 'Operation category WRITE is not supported in state standby'),
    });
    const active = new FakeIpcServer({ tokenPassword: Buffer.from('k'), onCall: (c) => c.reply(regRespCodec.encode({ queue: 'q' })) });
    await standby.start();
    await active.start();
    const client = new AMRMClient({
      host: '127.0.0.1',
      port: closedPort,
      failoverAddresses: [
        { host: '127.0.0.1', port: standby.port },
        { host: '127.0.0.1', port: active.port },
      ],
      amrmToken: token('k'),
      connection: { maxConnectAttempts: 1 },
    });
    expect((await client.register({ host: 'h' })).queue).toBe('q');
    expect(client.schedulerAddress).toBe(`127.0.0.1:${active.port}`);
    await client.close();
    await standby.stop();
    await active.stop();
  });

  test('a timed-out heartbeat is tolerated when allowed, and the loop goes on', async () => {
    let n = 0;
    const server = new FakeIpcServer({
      tokenPassword: Buffer.from('k'),
      onCall: (c) => {
        if (c.method === 'registerApplicationMaster') return c.reply(regRespCodec.encode({}));
        const req = allocReq.decode(c.body);
        if (n++ === 1) return; // the second heartbeat gets no answer
        c.reply(allocResp.encode({ responseId: req.responseId + 1 }));
      },
    });
    await server.start();
    const client = new AMRMClient({ host: '127.0.0.1', port: server.port, amrmToken: token('k'), connection: { callTimeoutMs: 100 } });
    await client.register({ host: 'h' });
    const transient: number[] = [];
    const ids: number[] = [];
    await new Promise<void>((resolve, reject) => {
      client.startHeartbeats({
        intervalMs: 5,
        toleratedFailures: 1,
        onTransientError: (_e, count) => transient.push(count),
        onResult: (r) => {
          ids.push(r.responseId);
          if (ids.length === 3) resolve();
        },
        onError: reject,
      });
    });
    await client.close();
    await server.stop();
    expect(transient).toEqual([1]);
    expect(ids).toEqual([1, 2, 3]);
  });
});
