import { codec } from '../../../src/hadoop/proto';
import { Credentials } from '../../../src/hadoop/security';
import { NMClient, NMClientError, NMTokenCache, NoNMTokenError, StartContainersRequest, toLaunchContextRecord } from '../../../src/hadoop/yarn';
import { FakeIpcServer } from './fake-ipc-server';

const startReq = codec<StartContainersRequest>('hadoop.yarn.StartContainersRequestProto');
const startResp = codec<object>('hadoop.yarn.StartContainersResponseProto');
const attempt = { applicationId: { id: 1, clusterTimestamp: 100 }, attemptId: 1 };

test('launch context: maps become key/value lists, credentials an HDTS blob, ACLs typed', () => {
  const creds = new Credentials().addSecret('horn', Buffer.from('s'));
  const rec = toLaunchContextRecord({
    commands: ['node run.js', '1><LOG_DIR>/stdout'],
    environment: { A: '1' },
    localResources: { 'app.js': { resource: { scheme: 'hdfs', host: 'nn', port: 8020, file: '/a/app.js' }, size: 10, timestamp: 5, type: 'FILE', visibility: 'APPLICATION' } },
    credentials: creds,
    acls: { view: 'alice' },
  });
  expect(rec.environment).toEqual([{ key: 'A', value: '1' }]);
  expect(rec.localResources[0]!.key).toBe('app.js');
  expect(Credentials.parse(rec.tokens!).getSecret('horn')).toEqual(new Uint8Array(Buffer.from('s')));
  expect(rec.applicationACLs).toEqual([{ accessType: 'APPACCESS_VIEW_APP', acl: 'alice' }]);
});

describe('NMClient against a fake NodeManager', () => {
  const nmToken = { identifier: Buffer.from('nm-id'), password: Buffer.from('nm-pw'), kind: 'NMToken', service: '' };
  let server: FakeIpcServer;
  let received: StartContainersRequest[];
  let fail = false;

  beforeEach(async () => {
    received = [];
    server = new FakeIpcServer({
      tokenPassword: nmToken.password,
      onCall: (c) => {
        const req = startReq.decode(c.body);
        received.push(req);
        const id = { appAttemptId: attempt, id: 2 };
        c.reply(
          startResp.encode(
            fail
              ? { failedRequests: [{ containerId: id, exception: { message: 'Container already started', className: 'org.apache.hadoop.yarn.exceptions.YarnException' } }] }
              : { succeededRequests: [id] },
          ),
        );
      },
    });
    await server.start();
  });
  afterEach(() => server.stop());

  test('uses the NMToken cached for the node and sends the container token verbatim; NM refusals become NMClientError', async () => {
    const tokens = new NMTokenCache();
    const nodeId = { host: '127.0.0.1', port: server.port };
    const client = new NMClient({ nmTokens: tokens });
    const container = {
      id: { appAttemptId: attempt, id: 2 },
      nodeId,
      resource: { memory: 128, virtualCores: 1 },
      priority: { priority: 1 },
      containerToken: { identifier: Buffer.from('ct'), password: Buffer.from('cp'), kind: 'ContainerToken', service: 'x' },
    };
    await expect(client.startContainer(container, { commands: ['true'] })).rejects.toBeInstanceOf(NoNMTokenError);
    tokens.update([{ nodeId, token: nmToken }]);
    await client.startContainer(container, { commands: ['echo hi'] });
    expect(received[0]!.startContainerRequest[0]!.containerToken.kind).toBe('ContainerToken');
    expect(received[0]!.startContainerRequest[0]!.containerLaunchContext.command).toEqual(['echo hi']);
    fail = true;
    const error = (await client.startContainer(container, { commands: ['x'] }).catch((e: unknown) => e)) as NMClientError;
    expect(error).toBeInstanceOf(NMClientError);
    expect(error.message).toBe(`NodeManager 127.0.0.1:${server.port}, container container_100_0001_01_000002: Container already started`);
    expect(error.remoteClass).toBe('org.apache.hadoop.yarn.exceptions.YarnException');
    expect(server.connections).toHaveLength(1);
    await client.close();
  });
});
