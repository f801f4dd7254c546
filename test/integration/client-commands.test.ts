import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submitOneLiner, testCluster, waitFor, waitForEnd } from '../support/cluster';
import { hornEnv, spawnHorn, type HornRun } from '../support/horn-cli';
import { ENDED_STATES } from '../../src/hadoop/rm-rest/client';

// `horn status|list|kill|logs` against the real local cluster, run as the built `horn` binary
// with no java on its PATH, checking exit codes and --json output. The applications are node
// one-liners submitted through the RM REST API: the NM pastes the command into bash -c "…"
// unescaped, so the scripts have no quotes, backticks or dollars.
const cluster = testCluster();
const root = join(__dirname, '..', '..');
jest.setTimeout(240_000);

// A PATH with node and nothing else: the client must not need java (or anything else).
const baseEnv: NodeJS.ProcessEnv = hornEnv({ HADOOP_USER_NAME: cluster.user });

function horn(args: string[], env: NodeJS.ProcessEnv = baseEnv, onStdout?: (s: string) => void): Promise<HornRun> {
  return spawnHorn(args, env, onStdout).done;
}

const submit = (name: string, script: string): Promise<string> =>
  submitOneLiner(cluster, { name, script, applicationType: 'HORN', tags: ['horn-client-it'] });

const ended = (state: string) => ENDED_STATES.has(state);
const started: string[] = [];

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'horn.js'))) throw new Error('run `npm run build` first: the tests run the built horn command');
});

afterAll(async () => {
  for (const id of started) {
    const app = await cluster.rm.getApplication(id).catch(() => undefined);
    if (app && !ended(app.state)) await cluster.rm.killApplication(id).catch(() => undefined);
  }
});

describe('wiring', () => {
  const commands = ['submit', 'status', 'list', 'kill', 'logs', 'validate', 'train', 'eval', 'export', 'predict'];

  test('horn --help lists every command and the exit codes', async () => {
    const r = await horn(['--help']);
    expect(r.code).toBe(0);
    for (const c of commands) expect(r.stdout).toMatch(new RegExp(`^  horn ${c}\\b`, 'm'));
    expect(r.stdout).toContain('Exit codes: 0 succeeded; 1 the application failed; 2 invalid input');
  });

  test.each(commands)('horn %s --help', async (c) => {
    const r = await horn([c, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^horn ${c}\\b`));
  });
});

describe('environment errors exit 4', () => {
  test('no HADOOP_CONF_DIR: exit 4 naming it', async () => {
    const r = await horn(['list'], { PATH: baseEnv.PATH, HADOOP_USER_NAME: cluster.user });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^horn: HADOOP_CONF_DIR is not set/);
  });

  const confPointingAt = (rmAddress: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'horn-conf-'));
    writeFileSync(join(dir, 'core-site.xml'), '<configuration><property><name>fs.defaultFS</name><value>hdfs://127.0.0.1:1</value></property></configuration>');
    writeFileSync(join(dir, 'yarn-site.xml'), `<configuration><property><name>yarn.resourcemanager.webapp.address</name><value>${rmAddress}</value></property></configuration>`);
    return dir;
  };

  test('an RM that refuses connections (127.0.0.1:1): exit 4 within 30 s', async () => {
    const dir = confPointingAt('127.0.0.1:1');
    try {
      const r = await horn(['status', 'application_1_0001'], { ...baseEnv, HADOOP_CONF_DIR: dir });
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/^horn: ResourceManager is unreachable at http:\/\/127\.0\.0\.1:1/);
      expect(r.ms).toBeLessThan(30_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an RM that accepts connections and never answers: exit 4 within 30 s', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const dir = confPointingAt(`127.0.0.1:${port}`);
    try {
      const r = await horn(['list'], { ...baseEnv, HADOOP_CONF_DIR: dir });
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/^horn: ResourceManager is unreachable/);
      expect(r.ms).toBeLessThan(30_000);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('input errors exit 2 before any request', () => {
  test.each([
    [['status', 'not-an-id']],
    [['kill', 'application_x']],
    [['logs', 'bogus']],
    [['status']],
    [['frobnicate']],
    [['list', '--no-such-option']],
  ])('horn %j', async (args) => {
    const r = await horn(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^horn: /);
  });

  test('did-you-mean for a mistyped option and command, from the built binary', async () => {
    expect(await horn(['submit', '--detatch', 'job.yaml'])).toMatchObject({ code: 2, stdout: '', stderr: 'horn: submit: unknown option --detatch (did you mean --detach?); see horn submit --help\n' });
    expect(await horn(['submt', 'job.yaml'])).toMatchObject({ code: 2, stdout: '', stderr: 'horn: unknown command submt (did you mean submit?); see horn --help\n' });
    expect(await horn(['--version'])).toMatchObject({ code: 0, stderr: '', stdout: `${require('../../package.json').version}\n` });
  });

  test('an unknown application id: status and kill exit 2', async () => {
    const unknown = 'application_1000000000000_9999';
    for (const cmd of ['status', 'kill']) {
      const r = await horn([cmd, unknown]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`does not know application ${unknown}`);
    }
  });
});

describe('on a running application', () => {
  let appId: string;

  beforeAll(async () => {
    appId = await submit('horn-client-it-running', 'let i=0;setInterval(function(){i++;console.log(JSON.stringify({tick:i}));console.error(JSON.stringify({err:i}))},300)');
    started.push(appId);
    // A one-liner never registers, so the RM keeps the application ACCEPTED while its AM container
    // runs, and fails the attempt when the AM liveness interval (60 s here) expires: these tests
    // have that long.
    await waitFor('the AM container to start', async () => ((await cluster.rm.appAttempts(appId))[0]?.containerId ? true : undefined), 120_000);
  });

  test('status (text and --json)', async () => {
    const text = await horn(['status', appId]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^Application: +${appId}$`, 'm'));
    expect(text.stdout).toMatch(/^State: +ACCEPTED$/m);
    expect(text.stdout).toMatch(/^Final status: +UNDEFINED$/m);
    const json = await horn(['status', appId, '--json']);
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout);
    expect(s).toMatchObject({ id: appId, state: 'ACCEPTED', finalStatus: 'UNDEFINED', type: 'HORN', user: cluster.user, name: 'horn-client-it-running', tags: ['horn-client-it'] });
    expect(typeof s.elapsedMs).toBe('number');
    expect(s.queue).toMatch(/default/);
  });

  test('list shows it among running applications', async () => {
    const json = await horn(['list', '--json']);
    expect(json.code).toBe(0);
    // One application per line.
    const apps = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l)) as Array<{ id: string; state: string }>;
    expect(apps.find((a) => a.id === appId)?.state).toBe('ACCEPTED');
    for (const a of apps) expect(ended(a.state)).toBe(false);
    const text = await horn(['list']);
    expect(text.stdout).toMatch(/^APPLICATION +STATE/);
    expect(text.stdout).toMatch(new RegExp(`^${appId} +ACCEPTED`, 'm'));
  });

  test('logs shows the AM container stdout and stderr while it runs', async () => {
    const r = await waitFor('a few ticks in the logs', async () => {
      const run = await horn(['logs', appId]);
      return run.stdout.includes('{"tick":3}') ? run : undefined;
    }, 30_000, 1000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^==> container_\\d+_\\d+_01_000001 on node\\d\\.test:8042: stdout <==$`, 'm'));
    expect(r.stdout).toMatch(/^\{"tick":1\}$/m);
    expect(r.stdout).toMatch(/: stderr <==\n\{"err":1\}/);
    // The NM's framing ("Container: … LogContents:") is not passed through.
    expect(r.stdout).not.toContain('LogContents:');
    const json = JSON.parse((await horn(['logs', appId, '--json'])).stdout);
    expect(json.applicationId).toBe(appId);
    const am = json.containers.find((c: { am: boolean }) => c.am);
    expect(am.logs.find((l: { file: string }) => l.file === 'stdout').content).toContain('{"tick":1}');
  });

  test('logs --follow prints new output until the application ends; kill exits 0, twice', async () => {
    let sawTicks = false;
    const following = horn(['logs', appId, '--follow', '--interval', '1', '--file', 'stdout'], baseEnv, (out) => {
      sawTicks ||= /\{"tick":\d+\}\n[^]*\{"tick":\d+\}/.test(out);
    });
    await waitFor('followed output', async () => (sawTicks ? true : undefined), 30_000, 250);
    const before = (await horn(['logs', appId, '--file', 'stdout'])).stdout.match(/\{"tick":(\d+)\}/g)?.length ?? 0;
    await new Promise((r) => setTimeout(r, 2500));

    const kill = await horn(['kill', appId, '--json']);
    expect(kill.code).toBe(0);
    expect(JSON.parse(kill.stdout)).toMatchObject({ id: appId, outcome: 'killed', state: 'KILLED' });

    const followed = await following;
    expect(followed.code).toBe(0);
    const ticks = (followed.stdout.match(/\{"tick":(\d+)\}/g) ?? []).map((t) => Number(/\d+/.exec(t)?.[0]));
    // Every tick once, in order, and more than were there when we looked before the kill.
    expect(ticks.length).toBeGreaterThan(before);
    expect(ticks).toEqual(ticks.map((_, i) => i + 1));
    // One header only: the same file is followed, not reprinted.
    expect(followed.stdout.match(/<==/g)?.length).toBe(1);

    const again = await horn(['kill', appId]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('had already ended: KILLED/KILLED');
    const status = JSON.parse((await horn(['status', appId, '--json'])).stdout);
    expect(status).toMatchObject({ state: 'KILLED', finalStatus: 'KILLED' });
  });
});

describe('on a finished application', () => {
  let appId: string;

  beforeAll(async () => {
    appId = await submit('horn-client-it-finished', 'for(let i=0;i<5;i++)console.log(JSON.stringify({done:i}));console.error(JSON.stringify({bye:1}))');
    started.push(appId);
    // A one-liner never registers as an AM, so the RM fails the attempt once it exits.
    await waitForEnd(cluster, appId);
  });

  test('status, list --all and kill report it as ended', async () => {
    const s = JSON.parse((await horn(['status', appId, '--json'])).stdout);
    expect(s).toMatchObject({ id: appId, state: 'FAILED', finalStatus: 'FAILED' });
    expect(s.diagnostics).toContain('exitCode: 0');
    expect(s.finishedTime).toMatch(/^\d{4}-\d\d-\d\dT/);

    const lines = (s: string) => (s.trim() ? s.trimEnd().split('\n').map((l) => JSON.parse(l)) : []) as Array<{ id: string }>;
    const all = lines((await horn(['list', '--all', '--json'])).stdout);
    expect(all.map((a) => a.id)).toContain(appId);
    const running = lines((await horn(['list', '--json'])).stdout);
    expect(running.map((a) => a.id)).not.toContain(appId);

    const kill = await horn(['kill', appId]);
    expect(kill.code).toBe(0);
    expect(kill.stdout).toContain('had already ended: FAILED/FAILED');
  });

  test('logs are still served by the NodeManager, whole and per container', async () => {
    const r = await horn(['logs', appId]);
    expect(r.code).toBe(0);
    for (let i = 0; i < 5; i++) expect(r.stdout).toContain(`{"done":${i}}`);
    expect(r.stdout).toMatch(/: stderr <==\n\{"bye":1\}/);

    const [attempt] = await cluster.rm.appAttempts(appId);
    const one = await horn(['logs', appId, '--container', attempt.containerId, '--file', 'stderr', '--file', 'prelaunch.out']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`==> ${attempt.containerId} on ${attempt.nodeHttpAddress}: stderr <==`);
    expect(one.stdout).toContain('Launching container');
    expect(one.stdout).not.toContain('{"done":0}');

    const wrong = await horn(['logs', appId, '--container', 'container_1_0001_01_000001']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('is not a container of');
  });
});
