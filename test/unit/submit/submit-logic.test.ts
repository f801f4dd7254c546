import { parseJobText } from '../../../src/job';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { queueProblems, resourceProblems } from '../../../src/client/submit/preflight';
import { base64Url, buildSubmission } from '../../../src/client/submit/submission';
import { parseResult } from '../../../src/protocol';
import { formatProgress } from '../../../src/client/progress';
import { formatCachedResources, parseCachedResources, RESULT_MARKER } from '../../../src/protocol';

const REPO = join(__dirname, '..', '..', '..');
const defaults = { file: 'conf/job-defaults.yaml', text: readFileSync(join(REPO, 'conf', 'job-defaults.yaml'), 'utf8') };
function spec(extra = '') {
  const r = parseJobText({ file: 'job.yaml', text: `name: t\ninput: { format: csv, train: a.csv }\nmodel: { inputSize: 4, layers: [{ size: 3, activation: softmax }] }\n${extra}` }, defaults);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.spec;
}

describe('preflight', () => {
  test('every container must fit the maximum allocation', () => {
    const s = spec('cluster: { worker: { memoryMb: 8192, vcores: 2 }, parameterServers: { count: 1, memoryMb: 512, vcores: 9 } }');
    expect(resourceProblems(s, { memory: 4096, vCores: 4 })).toEqual([
      "cluster.worker.memoryMb is 8192 MB, above the cluster's maximum allocation of 4096 MB",
      "cluster.parameterServers.vcores is 9, above the cluster's maximum allocation of 4 vcores",
    ]);
    expect(resourceProblems(spec(), { memory: 4096, vCores: 4 })).toEqual([]);
  });
  test('the queue must be an existing, running leaf', () => {
    const queues = [
      { name: 'root', path: 'root', leaf: false },
      { name: 'default', path: 'root.default', leaf: true, state: 'RUNNING' },
      { name: 'old', path: 'root.old', leaf: true, state: 'STOPPED' },
    ];
    expect(queueProblems(queues, 'default')).toEqual([]);
    expect(queueProblems(queues, 'root.default')).toEqual([]);
    expect(queueProblems(queues, 'nope')[0]).toBe('queue "nope" does not exist (leaf queues: default, old)');
    expect(queueProblems(queues, 'root')[0]).toMatch(/parent queue/);
    expect(queueProblems(queues, 'old')[0]).toMatch(/STOPPED/);
  });
});

describe('submission', () => {
  test('carries the job settings and the secret only in the credentials', () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const sub = buildSubmission({
      applicationId: 'application_1_0001',
      spec: spec('queue: batch\npriority: 3\ntags: [a, b]\nmaxAttempts: 2'),
      user: 'alice',
      resources: { 'horn-runtime.js': { uri: 'hdfs://nn:8020/x', type: 'FILE', visibility: 'PRIVATE', size: 1, timestamp: 2 } },
      cached: { 'horn-runtime.js': 'hdfs://nn:8020/x' },
      stagingDir: '/user/alice/.horn/staging/application_1_0001',
      namenodeHttpUrls: ['http://nn:9870'],
      schedulerAddresses: ['rm:8030'],
      secret,
    });
    expect(sub).toMatchObject({ applicationType: 'HORN', queue: 'batch', priority: 3, tags: ['a', 'b'], maxAppAttempts: 2, resource: { memoryMb: 1024, vcores: 1 } });
    expect(sub.amContainerSpec.credentials?.secrets?.['horn.application.secret']).toBe(base64Url(secret));
    const visible = JSON.stringify({ env: sub.amContainerSpec.environment, command: sub.amContainerSpec.command });
    expect(visible).not.toContain(base64Url(secret));
    expect(visible).not.toContain(Buffer.from(secret).toString('base64'));
    expect(sub.amContainerSpec.command).not.toContain('"');
    expect(sub.amContainerSpec.environment?.HORN_CACHED_RESOURCES).toBe('horn-runtime.js=hdfs://nn:8020/x');
  });
  test('a shipped Node.js runs as ./node, found through the cache URI', () => {
    const sub = buildSubmission({
      applicationId: 'application_1_0002',
      spec: spec('cluster: { runtime: ship }'),
      user: 'alice',
      resources: {
        'horn-runtime.js': { uri: 'hdfs://nn:8020/r', type: 'FILE', visibility: 'PRIVATE', size: 1, timestamp: 2 },
        node: { uri: 'hdfs://nn:8020/user/alice/.horn/cache/abc/node', type: 'FILE', visibility: 'PRIVATE', size: 3, timestamp: 4 },
      },
      cached: { 'horn-runtime.js': 'hdfs://nn:8020/r', node: 'hdfs://nn:8020/user/alice/.horn/cache/abc/node' },
      stagingDir: '/s',
      namenodeHttpUrls: ['http://nn:9870'],
      schedulerAddresses: ['rm:8030'],
      secret: new Uint8Array(32),
    });
    expect(sub.amContainerSpec.command).toMatch(/^\.\/node --max-old-space-size=768 horn-runtime\.js am /);
    expect(parseCachedResources(sub.amContainerSpec.environment?.HORN_CACHED_RESOURCES).node).toBe('hdfs://nn:8020/user/alice/.horn/cache/abc/node');
    expect(buildSubmission({ ...{ applicationId: 'a', user: 'u', resources: {}, cached: {}, stagingDir: '/s', namenodeHttpUrls: [], schedulerAddresses: [], secret: new Uint8Array(1) }, spec: spec() }).amContainerSpec.command).toMatch(/^node /);
  });

  test('base64url has no padding and no + or /', () => {
    expect(base64Url(Uint8Array.from([251, 255, 254]))).toBe('-__-');
  });
});

describe('client display', () => {
  test('the result line of the final diagnostics is parsed; anything else is ignored', () => {
    expect(parseResult(`trained\n${RESULT_MARKER}{"testAccuracy":0.98,"model":"/m"}`)).toEqual({ testAccuracy: 0.98, model: '/m' });
    expect(parseResult('worker failed')).toBeUndefined();
    expect(parseResult(`${RESULT_MARKER}{not json`)).toBeUndefined();
  });
  test('progress line', () => {
    expect(formatProgress({ state: 'RUNNING', progress: 0.5, epoch: 3, epochs: 10, loss: 0.12345, accuracy: 0.9712, samplesPerSecond: 12345.6 }, 10)).toBe(
      'RUNNING   [#####.....]  50%  epoch 3/10  loss 0.1235  acc 97.12%  12,346 samples/s',
    );
  });
});

describe('the cached-resources contract', () => {
  test('names map to URIs and the runtime bundle must be among them', () => {
    const cached = { 'horn-runtime.js': 'hdfs://nn:8020/c/r', node: 'hdfs://nn:8020/c/n' };
    expect(formatCachedResources(cached)).not.toMatch(/["\s]/); // the NM pastes it into double quotes
    expect(parseCachedResources(formatCachedResources(cached))).toEqual(cached);
    expect(() => parseCachedResources(undefined)).toThrow(/lacks horn-runtime\.js/);
    expect(() => parseCachedResources('node=hdfs://x/n')).toThrow(/lacks horn-runtime\.js/);
    expect(() => parseCachedResources('horn-runtime.js=relative/path')).toThrow(/"horn-runtime\.js=relative\/path" is not name=URI/);
    expect(() => formatCachedResources({ 'a b': 'hdfs://x' })).toThrow(/cannot be passed/);
  });
});
