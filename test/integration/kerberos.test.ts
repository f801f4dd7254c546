// horn on a Kerberized cluster: this file stops the normal local cluster, starts the same cluster
// with Kerberos (scripts/cluster start --kerberos: an MIT KDC, SPNEGO on every web endpoint, block
// tokens, RPC offering privacy and integrity, WebHDFS also over HTTPS with a test CA, HDFS tokens
// that live 60 s unless renewed and never past 180 s), runs the Kerberos checks, and starts the
// normal cluster again. The rest of the suite runs on the normal cluster.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Credentials, decodeDelegationIdentifier, TokenKind, encodeTokenToUrlString } from '../../src/hadoop/security';
import { spawnHorn, type HornRun } from '../support/horn-cli';
import { mnistJob } from '../support/jobs';
import { createClientContext } from '../../src/client/context';
import { putMnist } from '../../scripts/put-mnist';

const REPO = join(__dirname, '..', '..');
const CLUSTER = join(REPO, 'scripts', 'cluster');
// HADOOP_CONF_DIR is <cluster home>/run/conf.
const HOME = process.env.HADOOP_CONF_DIR ? dirname(dirname(process.env.HADOOP_CONF_DIR)) : join(REPO, '.cluster');
const clusterEnv = { ...process.env, HORN_CLUSTER_HOME: HOME };
const T10K = { images: 'k-mnist/t10k-images-idx3-ubyte', labels: 'k-mnist/t10k-labels-idx1-ubyte' };

let env: Record<string, string> = {};
let simpleWasRunning = false;
const work = mkdtempSync(join(tmpdir(), 'horn-kerberos-'));

function cluster(...args: string[]): string {
  return execFileSync(CLUSTER, args, { env: clusterEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/** PATH with node, curl and kinit only: horn needs these three on a Kerberized edge node, no JVM. */
function kerberosPath(): string {
  const dir = join(work, 'bin');
  if (!existsSync(dir)) {
    execFileSync('mkdir', ['-p', dir]);
    symlinkSync(process.execPath, join(dir, 'node'));
    for (const tool of ['curl', 'kinit']) symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(dir, tool));
  }
  return dir;
}

/** The environment of a horn command on the Kerberized cluster: its configuration and KRB5_CONFIG, and `extra`. */
function kenv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: process.env.HOME, PATH: kerberosPath(), HADOOP_CONF_DIR: env.HADOOP_CONF_DIR, KRB5_CONFIG: env.KRB5_CONFIG, KRB5CCNAME: env.KRB5CCNAME, ...extra };
}

function horn(args: readonly string[], extra: NodeJS.ProcessEnv = {}): Promise<HornRun> {
  return spawnHorn(args, kenv(extra)).done;
}

function kinit(): void {
  execFileSync('kinit', ['-k', '-t', env.HORN_TEST_KEYTAB!, env.HORN_TEST_PRINCIPAL!], { env: { ...process.env, KRB5_CONFIG: env.KRB5_CONFIG, KRB5CCNAME: env.KRB5CCNAME } });
}

/** A copy of the cluster's client configuration with one property changed. */
function confWith(file: string, name: string, value: string): string {
  const dir = join(work, `conf-${name}-${value}`.replace(/[^\w.-]/g, '_'));
  cpSync(env.HADOOP_CONF_DIR!, dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, readFileSync(path, 'utf8').replace('</configuration>', `  <property><name>${name}</name><value>${value}</value></property>\n</configuration>`));
  return dir;
}

function job(name: string, extra: { workers?: number; servers?: number; batchSize?: number } = {}): string {
  const path = join(work, `${name}.yaml`);
  let text = mnistJob({ name, train: T10K, hidden: 32, epochs: 1, output: 'k-models/{name}-{appId}' });
  if (extra.batchSize) text = text.replace('epochs: 1', `epochs: 1\n  batchSize: ${extra.batchSize}`);
  if (extra.workers) {
    text = text
      .replace('training:\n', 'training:\n  consistency: bsp\n')
      .replace('cluster:\n', `cluster:\n  workers: ${extra.workers}\n  groups: 1\n  parameterServers: { count: ${extra.servers ?? 0}, memoryMb: 512, vcores: 1 }\n`);
  }
  writeFileSync(path, text);
  return path;
}

/** Files a NodeManager keeps of an application: its containers' credentials, launch scripts and logs. */
function appFiles(applicationId: string): { credentials: Array<{ container: string; creds: Credentials }>; texts: Array<{ file: string; text: string }> } {
  const data = join(HOME, 'run', 'data');
  const credentials: Array<{ container: string; creds: Credentials }> = [];
  const texts: Array<{ file: string; text: string }> = [];
  for (const nm of readdirSync(data).filter((d) => d.startsWith('nm'))) {
    const priv = join(data, nm, 'local', 'nmPrivate', applicationId);
    if (existsSync(priv)) {
      for (const c of readdirSync(priv)) {
        const tokens = join(priv, c, `${c}.tokens`);
        if (existsSync(tokens)) credentials.push({ container: c, creds: Credentials.parse(readFileSync(tokens), tokens) });
        for (const f of readdirSync(join(priv, c)).filter((f) => f.endsWith('.sh'))) texts.push({ file: join(priv, c, f), text: readFileSync(join(priv, c, f), 'utf8') });
      }
    }
    const logs = join(data, nm, 'logs', applicationId);
    if (existsSync(logs)) {
      for (const c of readdirSync(logs)) for (const f of readdirSync(join(logs, c))) texts.push({ file: join(logs, c, f), text: readFileSync(join(logs, c, f), 'utf8') });
    }
  }
  return { credentials, texts };
}

function appId(run: HornRun): string {
  const m = /application_\d+_\d+/.exec(run.stdout + run.stderr);
  if (!m) throw new Error(`no application id in: ${run.stdout}\n${run.stderr}`);
  return m[0];
}

function amLines(applicationId: string): string {
  return appFiles(applicationId)
    .texts.filter((t) => /_000001[/\\]stdout$/.test(t.file))
    .map((t) => t.text)
    .join('\n');
}

beforeAll(() => {
  const t0 = Date.now();
  try {
    cluster('status');
    simpleWasRunning = true;
  } catch {
    simpleWasRunning = false;
  }
  cluster('stop');
  cluster('start', '--kerberos');
  for (const line of cluster('env').split('\n')) {
    const m = /^export (\w+)="(.*)"$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  kinit();
  process.stderr.write(`kerberos: cluster up in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}, 300_000);

beforeAll(async () => {
  // MNIST test images and labels, put by horn's own WebHDFS client under Kerberos (SPNEGO).
  const ctx = await createClientContext(kenv());
  await putMnist(ctx.hdfs, `/user/${ctx.user}/k-mnist`, ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']);
}, 120_000);

afterAll(() => {
  cluster('stop');
  if (simpleWasRunning) cluster('start');
}, 300_000);

describe('logging in', () => {
  test('no ticket and no keytab: exit 4 within 5 s, naming kinit and --keytab', async () => {
    const run = await horn(['list'], { KRB5CCNAME: `FILE:${join(work, 'empty-ccache')}` });
    expect(run.code).toBe(4);
    expect(run.ms).toBeLessThan(5_000);
    expect(run.stderr).toMatch(/kinit/);
    expect(run.stderr).toMatch(/--keytab/);
  });

  test('a wrong keytab: exit 4 naming the principal', async () => {
    const run = await horn(['list', '--keytab', env.HORN_TEST_OTHER_KEYTAB!, '--principal', env.HORN_TEST_PRINCIPAL!], { KRB5CCNAME: `FILE:${join(work, 'empty-ccache')}` });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(env.HORN_TEST_PRINCIPAL!);
  });

  test('a keytab and principal without any ticket cache: the command works, and no credential cache is left behind', async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('horn-krb5-')).length;
    const run = await horn(['list', '--all-users'], { KRB5CCNAME: `FILE:${join(work, 'empty-ccache')}`, HORN_KEYTAB: env.HORN_TEST_KEYTAB, HORN_PRINCIPAL: env.HORN_TEST_PRINCIPAL });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('horn-krb5-')).length).toBe(before);
  });
});

describe('jobs on the Kerberized cluster', () => {
  let small: string;
  let distributed: string;
  let smallRun: HornRun;
  let distributedRun: HornRun;

  beforeAll(async () => {
    // integrity for one job, privacy for the other: the servers offer both, each job's client configuration picks.
    [smallRun, distributedRun] = await Promise.all([
      horn(['submit', job('k-small')], { HADOOP_CONF_DIR: confWith('core-site.xml', 'hadoop.rpc.protection', 'integrity') }),
      horn(['submit', job('k-dist', { workers: 2, servers: 1 })], { HADOOP_CONF_DIR: confWith('core-site.xml', 'hadoop.rpc.protection', 'privacy') }),
    ]);
    small = appId(smallRun);
    distributed = appId(distributedRun);
  }, 240_000);

  test('a small job (integrity) and a distributed one (2 workers, 1 server; privacy) exit 0', () => {
    expect(smallRun.stderr).toMatch(/FINISHED\/SUCCEEDED|done/);
    expect([smallRun.code, distributedRun.code]).toEqual([0, 0]);
    expect(smallRun.stdout).toMatch(/model: \/user\/\w+\/k-models\/k-small-/);
  });

  test('the AM used SASL integrity and privacy, as asked, with the RM and the NodeManagers', () => {
    expect(amLines(small)).toMatch(/RPC to master\.test:8030 authenticated with YARN_AM_RM_TOKEN; SASL qop auth-int/);
    expect(amLines(small)).toMatch(/RPC to node\d\.test:8041 authenticated with NMToken; SASL qop auth-int/);
    expect(amLines(distributed)).toMatch(/RPC to master\.test:8030 authenticated with YARN_AM_RM_TOKEN; SASL qop auth-conf/);
    expect(amLines(distributed)).toMatch(/RPC to node\d\.test:8041 authenticated with NMToken; SASL qop auth-conf/);
  });

  test('the application got an HDFS_DELEGATION_TOKEN and an RM token with the RM address as service; every container got them, only the AM the AMRMToken', () => {
    const { credentials } = appFiles(distributed);
    expect(credentials.length).toBe(4);
    for (const { container, creds } of credentials) {
      const hdfs = creds.findTokenByKind(TokenKind.HDFS_DELEGATION);
      const rm = creds.findTokenByKind(TokenKind.RM_DELEGATION);
      expect(hdfs?.service).toMatch(/^\d+\.\d+\.\d+\.\d+:8020$/);
      expect(rm?.service).toMatch(/^\d+\.\d+\.\d+\.\d+:8032$/);
      expect(decodeDelegationIdentifier(hdfs!).renewer).toBe('rm');
      expect(creds.tokensByKind('WEBHDFS delegation')).toEqual([]);
      expect(creds.findTokenByKind(TokenKind.AMRM) !== undefined).toBe(container.endsWith('_000001'));
    }
  });

  test('the ResourceManager renewed the tokens', () => {
    const log = readFileSync(join(HOME, 'run', 'logs', 'resourcemanager.log'), 'utf8');
    expect(log).toMatch(new RegExp(`${small} found existing hdfs token Kind: HDFS_DELEGATION_TOKEN`));
    expect(log).toMatch(/Renewed delegation-token= \[Kind: HDFS_DELEGATION_TOKEN/);
  });

  test('nothing secret in argv, the containers\' environment or any log: the application secret, the tokens, the keytab', () => {
    const { credentials, texts } = appFiles(distributed);
    const secrets: string[] = [];
    for (const { creds } of credentials) {
      for (const s of creds.secrets.values()) secrets.push(Buffer.from(s).toString('base64'), Buffer.from(s).toString('base64url'), Buffer.from(s).toString('hex'));
      for (const t of creds.tokens.values()) secrets.push(encodeTokenToUrlString(t), Buffer.from(t.password).toString('base64'));
    }
    secrets.push(readFileSync(env.HORN_TEST_KEYTAB!).toString('base64').slice(0, 40));
    expect(texts.length).toBeGreaterThan(8);
    for (const { file, text } of [...texts, { file: 'horn submit output', text: distributedRun.stdout + distributedRun.stderr }]) {
      for (const s of secrets) if (text.includes(s)) throw new Error(`${file} holds a secret (${s.slice(0, 6)}…)`);
    }
    // argv and environment of the containers are in their launch scripts
    expect(texts.some((t) => t.file.endsWith('launch_container.sh'))).toBe(true);
  });

  test('status, list, eval and export (HDFS) work with Kerberos', async () => {
    const status = await horn(['status', small, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: small, finalStatus: 'SUCCEEDED' });
    const list = await horn(['list', '--json', '--all']);
    expect(list.stdout).toContain(distributed);
    const model = /model: (\S+)/.exec(distributedRun.stdout)![1]!;
    const evaluated = await horn(['eval', model, `${T10K.images}`, '--json']);
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout).accuracy).toBeGreaterThan(0.8);
    const exported = await horn(['export', '--onnx', model, '-o', `${model}.onnx`]);
    expect(exported.code).toBe(0);
  });

  test('horn logs reaches the NodeManagers with SPNEGO (this jars-only cluster cannot serve the files: no libhadoop)', async () => {
    const run = await horn(['logs', small]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/cannot serve log files: under Kerberos it needs Hadoop's native library/);
  });
});

describe('kill', () => {
  test('a running job is killed: exit 0, KILLED', async () => {
    const submitted = await horn(['submit', '--detach', job('k-kill', { batchSize: 8 })], { HORN_TEST_STEP_DELAY_MS: '0:200' });
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.trim();
    const killed = await horn(['kill', id]);
    expect(killed.code).toBe(0);
    expect(killed.stdout).toMatch(/killed|had already ended/);
    const status = await horn(['status', id, '--json']);
    expect(JSON.parse(status.stdout).state).toBe('KILLED');
  }, 120_000);
});

describe('WebHDFS over HTTPS with the test CA (dfs.http.policy HTTPS_ONLY on the client)', () => {
  test('reads and writes succeed with --ca-file, and fail without it with a certificate error naming --ca-file', async () => {
    const conf = confWith('hdfs-site.xml', 'dfs.http.policy', 'HTTPS_ONLY');
    const model = 'k-models/https-model';
    // A write over HTTPS: a small model exported by local training would need a job; the MNIST labels are copied instead.
    const ctx = await createClientContext(kenv({ HADOOP_CONF_DIR: conf, HORN_CA_FILE: env.HORN_TEST_CA_FILE }));
    expect(ctx.endpoints.namenodeHttpUrls[0]).toMatch(/^https:\/\/master\.test:9871$/);
    const bytes = Buffer.from('written over https\n');
    await ctx.hdfs.create(`/user/${ctx.user}/${model}.txt`, bytes, { overwrite: true });
    expect((await ctx.hdfs.readFile(`/user/${ctx.user}/${model}.txt`)).toString()).toBe('written over https\n');
    // Block reads go to the DataNodes' HTTPS ports too.
    const replicas = await ctx.hdfs.getBlockReplicas(`/user/${ctx.user}/${T10K.labels}`);
    expect(replicas[0]!.replicas[0]!.httpAddress).toMatch(/:\d*9865$/);
    const without = await horn(['list'], { HADOOP_CONF_DIR: conf });
    expect(without.code).toBe(4);
    expect(without.stderr).toMatch(/certificate of https:\/\/master\.test:9871 is not trusted.*--ca-file/);
  });
});

describe('long jobs: delegation tokens that expire (max lifetime 180 s here)', () => {
  test('a job longer than the tokens live survives with horn renew, and fails naming token expiry without', async () => {
    const slow = { HORN_TEST_STEP_DELAY_MS: '0:180' };
    const renewed = spawnHorn(['submit', job('k-renewed', { batchSize: 8 })], kenv(slow));
    const expiring = spawnHorn(['submit', job('k-expiring', { batchSize: 8 })], kenv(slow));
    const id = (await renewed.waitForStderr(/submitted (application_\d+_\d+)/))[1]!;
    const renewals: HornRun[] = [];
    const timer = setInterval(() => void horn(['renew', id]).then((r) => renewals.push(r)), 40_000);
    let results: HornRun[];
    try {
      results = await Promise.all([renewed.done, expiring.done]);
    } finally {
      clearInterval(timer);
    }
    expect(renewals.length).toBeGreaterThanOrEqual(4);
    expect(renewals.filter((r) => r.code === 0).length).toBeGreaterThanOrEqual(4);
    expect(renewals[0]!.stdout).toMatch(/renewed HDFS_DELEGATION_TOKEN \(usable until/);
    expect(results[0]!.code).toBe(0);
    expect(results[1]!.code).toBe(1);
    expect(results[1]!.stderr + results[1]!.stdout).toMatch(/token\b.*\b(is|has) expired.*horn renew/is);
    expect(amLines(id)).toMatch(/renewed delegation tokens \(HDFS_DELEGATION_TOKEN/);
  }, 420_000);
});
