import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HadoopConfiguration,
  HadoopConfigurationError,
  clusterEndpoints,
  loadHadoopConfiguration,
  parseConfigurationXml,
  type PropertyEntry,
} from '../../../src/hadoop/conf';

const xml = (props: Record<string, string | { value: string; final: true }>) =>
  `<?xml version="1.0"?>\n<!-- test -->\n<configuration>\n${Object.entries(props)
    .map(([k, v]) =>
      typeof v === 'string'
        ? `  <property><name>${k}</name><value>${v}</value></property>`
        : `  <property>\n    <name>${k}</name>\n    <value>${v.value}</value>\n    <final>true</final>\n  </property>`,
    )
    .join('\n')}\n</configuration>\n`;

const entries = (props: Record<string, string>, final = false): PropertyEntry[] => Object.entries(props).map(([name, value]) => ({ name, value, final }));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'horn-conf-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('parseConfigurationXml', () => {
  test('reads names, values (as strings) and final flags', () => {
    const parsed = parseConfigurationXml(xml({ a: '010', b: { value: 'x', final: true }, c: '' }), 'f.xml');
    expect(parsed).toEqual([
      { name: 'a', value: '010', final: false },
      { name: 'b', value: 'x', final: true },
      { name: 'c', value: '', final: false },
    ]);
  });

  test('malformed XML names the file, line and column', () => {
    const bad = '<configuration>\n<property><name>a</name>\n</configuration>';
    expect(() => parseConfigurationXml(bad, '/etc/hadoop/yarn-site.xml')).toThrow(HadoopConfigurationError);
    expect(() => parseConfigurationXml(bad, '/etc/hadoop/yarn-site.xml')).toThrow(/^\/etc\/hadoop\/yarn-site\.xml:3:\d+: not well-formed XML/);
  });

  test('a document without <configuration> is refused', () => {
    expect(() => parseConfigurationXml('<conf><property/></conf>', 'x.xml')).toThrow(/root element is not <configuration>/);
  });
});

describe('HadoopConfiguration', () => {
  test('later resources override earlier ones, but not a final property', () => {
    const conf = new HadoopConfiguration([
      { source: 'one.xml', entries: [...entries({ a: '1', b: '1' }), { name: 'f', value: 'kept', final: true }] },
      { source: 'two.xml', entries: entries({ a: '2', f: 'ignored' }) },
    ]);
    expect(conf.get('a')).toBe('2');
    expect(conf.sourceOf('a')).toBe('two.xml');
    expect(conf.get('b')).toBe('1');
    expect(conf.sourceOf('b')).toBe('one.xml');
    expect(conf.get('f')).toBe('kept');
    expect(conf.sourceOf('f')).toBe('one.xml');
    expect(conf.ignoredOverrides.get('f')).toEqual(['two.xml']);
    expect(conf.get('missing')).toBeUndefined();
    expect(conf.get('missing', 'dflt')).toBe('dflt');
  });

  test('expands other keys, environment variables with defaults and system properties', () => {
    const conf = new HadoopConfiguration([{ source: 's', entries: entries({
      host: 'rm.example',
      web: '${host}:8088',
      chain: 'http://${web}/x',
      home: '${env.HORN_T_HOME}/conf',
      colon: '${env.HORN_T_EMPTY:-fallback}',
      dash: '${env.HORN_T_EMPTY-fallback}',
      unsetDash: '${env.HORN_T_UNSET-d}',
      tmp: '/tmp/hadoop-${user.name}',
      unbound: 'a-${nope}-b',
      spaced: '${not a var}',
    }) }], { env: { HORN_T_HOME: '/opt/h', HORN_T_EMPTY: '' }, systemProperties: { 'user.name': 'alice', host: 'sysprop-wins' } });
    // A system property takes precedence over a key of the same name, as in Hadoop.
    expect(conf.get('web')).toBe('sysprop-wins:8088');
    expect(conf.get('chain')).toBe('http://sysprop-wins:8088/x');
    expect(conf.get('home')).toBe('/opt/h/conf');
    expect(conf.get('colon')).toBe('fallback');
    expect(conf.get('dash')).toBe('');
    expect(conf.get('unsetDash')).toBe('d');
    expect(conf.get('tmp')).toBe('/tmp/hadoop-alice');
    expect(conf.get('unbound')).toBe('a-${nope}-b');
    expect(conf.get('spaced')).toBe('${not a var}');
    expect(conf.getRaw('web')).toBe('${host}:8088');
  });

  test('a self-referencing value is returned unexpanded; a too-deep chain is an error naming key and file', () => {
    const chain: Record<string, string> = {};
    for (let i = 0; i < 25; i++) chain[`k${i}`] = `\${k${i + 1}}`;
    chain.k25 = 'end';
    const conf = new HadoopConfiguration([{ source: '/c/core-site.xml', entries: entries({ self: 'x${self}', ...chain, short: '${k20}' }) }]);
    expect(conf.get('self')).toBe('x${self}');
    expect(conf.get('short')).toBe('end');
    expect(() => conf.get('k0')).toThrow(HadoopConfigurationError);
    try {
      conf.get('k0');
    } catch (err) {
      expect((err as HadoopConfigurationError).property).toBe('k0');
      expect((err as HadoopConfigurationError).file).toBe('/c/core-site.xml');
      expect((err as Error).message).toMatch(/substitution depth/);
    }
  });

  test('typed getters', () => {
    const conf = new HadoopConfiguration([{ source: 's', entries: entries({ n: ' 42 ', hex: '0x10', bad: '4k', t: 'TRUE', junk: 'yes', list: ' a, b ,,c ' }) }]);
    expect(conf.getInt('n', 1)).toBe(42);
    expect(conf.getInt('hex', 1)).toBe(16);
    expect(conf.getInt('absent', 7)).toBe(7);
    expect(() => conf.getInt('bad', 1)).toThrow(/bad = "4k" is not an integer/);
    expect(conf.getBoolean('t', false)).toBe(true);
    expect(conf.getBoolean('junk', false)).toBe(false);
    expect(conf.getTrimmedStrings('list')).toEqual(['a', 'b', 'c']);
    expect(conf.getTrimmedStrings('absent')).toEqual([]);
  });
});

describe('loadHadoopConfiguration and clusterEndpoints', () => {
  const write = (name: string, props: Parameters<typeof xml>[0], base = dir) => writeFileSync(join(base, name), xml(props));

  test('no HADOOP_CONF_DIR is an error naming it', async () => {
    await expect(loadHadoopConfiguration({})).rejects.toMatchObject({ kind: 'cluster', property: 'HADOOP_CONF_DIR', message: expect.stringContaining('HADOOP_CONF_DIR is not set') });
  });

  test('a HADOOP_CONF_DIR that does not exist is an error naming it', async () => {
    await expect(loadHadoopConfiguration({ HADOOP_CONF_DIR: join(dir, 'nope') })).rejects.toThrow(/HADOOP_CONF_DIR=.*nope: no such directory/);
  });

  test('unparsable XML names the file', async () => {
    writeFileSync(join(dir, 'hdfs-site.xml'), '<configuration><property>');
    await expect(loadHadoopConfiguration({ HADOOP_CONF_DIR: dir })).rejects.toMatchObject({ file: join(dir, 'hdfs-site.xml') });
  });

  test('a plain cluster: defaults fill in ports, sources name the files', async () => {
    write('core-site.xml', { 'fs.defaultFS': 'hdfs://nn.example:8020' });
    write('hdfs-site.xml', { 'dfs.replication': '2' });
    write('yarn-site.xml', { 'yarn.resourcemanager.hostname': 'rm.example' });
    const conf = await loadHadoopConfiguration({ HADOOP_CONF_DIR: dir });
    expect(conf.sourceOf('fs.defaultFS')).toBe(join(dir, 'core-site.xml'));
    expect(conf.sourceOf('yarn.resourcemanager.webapp.address')).toBe('yarn-default.xml');
    expect(conf.getInt('dfs.replication', 3)).toBe(2);
    const ep = clusterEndpoints(conf, { HADOOP_USER_NAME: 'bob' });
    expect(ep).toEqual({
      rmWebUrls: ['http://rm.example:8088'],
      rmSchedulerAddresses: ['rm.example:8030'],
      // dfs.namenode.http-address defaults to 0.0.0.0:9870: the host comes from fs.defaultFS.
      namenodeHttpUrls: ['http://nn.example:9870'],
      defaultFs: 'hdfs://nn.example:8020',
      user: 'bob',
    });
  });

  test('explicit addresses win; a wildcard RM web host is replaced by the RM host name', async () => {
    write('core-site.xml', { 'fs.defaultFS': 'hdfs://nn.example:8020' });
    write('hdfs-site.xml', { 'dfs.namenode.http-address': 'web.nn.example:50070' });
    write('yarn-site.xml', { 'yarn.resourcemanager.hostname': 'rm.example', 'yarn.resourcemanager.webapp.address': '0.0.0.0:18088', 'yarn.resourcemanager.scheduler.address': 'sched.example:18030' });
    const ep = clusterEndpoints(await loadHadoopConfiguration({ HADOOP_CONF_DIR: dir }), {});
    expect(ep.rmWebUrls).toEqual(['http://rm.example:18088']);
    expect(ep.rmSchedulerAddresses).toEqual(['sched.example:18030']);
    expect(ep.namenodeHttpUrls).toEqual(['http://web.nn.example:50070']);
    expect(ep.user.length).toBeGreaterThan(0);
  });

  test('RM HA and HDFS HA list every RM and NameNode', async () => {
    write('core-site.xml', { 'fs.defaultFS': 'hdfs://mycluster' });
    write('hdfs-site.xml', {
      'dfs.nameservices': 'mycluster',
      'dfs.ha.namenodes.mycluster': 'nn1,nn2',
      'dfs.namenode.http-address.mycluster.nn1': 'a.example:9870',
      'dfs.namenode.http-address.mycluster.nn2': 'b.example:9870',
    });
    write('yarn-site.xml', {
      'yarn.resourcemanager.ha.enabled': 'true',
      'yarn.resourcemanager.ha.rm-ids': 'rm1, rm2',
      'yarn.resourcemanager.hostname.rm1': 'r1.example',
      'yarn.resourcemanager.hostname.rm2': 'r2.example',
      'yarn.resourcemanager.webapp.address.rm2': 'r2web.example:8188',
    });
    const ep = clusterEndpoints(await loadHadoopConfiguration({ HADOOP_CONF_DIR: dir }), {});
    expect(ep.rmWebUrls).toEqual(['http://r1.example:8088', 'http://r2web.example:8188']);
    expect(ep.rmSchedulerAddresses).toEqual(['r1.example:8030', 'r2.example:8030']);
    expect(ep.namenodeHttpUrls).toEqual(['http://a.example:9870', 'http://b.example:9870']);
  });

  test('a scheduler address on a wildcard host falls back to the RM web host', async () => {
    write('core-site.xml', { 'fs.defaultFS': 'hdfs://nn.example:8020' });
    write('yarn-site.xml', { 'yarn.resourcemanager.webapp.address': 'rmweb.example:8088' });
    const ep = clusterEndpoints(await loadHadoopConfiguration({ HADOOP_CONF_DIR: dir }), {});
    expect(ep.rmWebUrls).toEqual(['http://rmweb.example:8088']);
    expect(ep.rmSchedulerAddresses).toEqual(['rmweb.example:8030']);
  });

  test('HTTPS_ONLY switches to the https addresses', async () => {
    write('core-site.xml', { 'fs.defaultFS': 'hdfs://nn.example:8020' });
    write('hdfs-site.xml', { 'dfs.http.policy': 'HTTPS_ONLY' });
    write('yarn-site.xml', { 'yarn.resourcemanager.hostname': 'rm.example', 'yarn.http.policy': 'HTTPS_ONLY' });
    const ep = clusterEndpoints(await loadHadoopConfiguration({ HADOOP_CONF_DIR: dir }), {});
    expect(ep.rmWebUrls).toEqual(['https://rm.example:8090']);
    expect(ep.namenodeHttpUrls).toEqual(['https://nn.example:9871']);
  });

  test('YARN_CONF_DIR supplies yarn-site.xml', async () => {
    const yarnDir = join(dir, 'yarn');
    mkdirSync(yarnDir);
    write('core-site.xml', { 'fs.defaultFS': 'hdfs://nn.example:8020' });
    write('yarn-site.xml', { 'yarn.resourcemanager.hostname': 'hadoop-dir.example' });
    write('yarn-site.xml', { 'yarn.resourcemanager.hostname': 'yarn-dir.example' }, yarnDir);
    const conf = await loadHadoopConfiguration({ HADOOP_CONF_DIR: dir, YARN_CONF_DIR: yarnDir });
    expect(conf.sourceOf('yarn.resourcemanager.hostname')).toBe(join(yarnDir, 'yarn-site.xml'));
    expect(clusterEndpoints(conf, {}).rmWebUrls).toEqual(['http://yarn-dir.example:8088']);
  });

  test('no RM host anywhere names yarn-site.xml and yarn.resourcemanager.hostname', async () => {
    write('core-site.xml', { 'fs.defaultFS': 'hdfs://nn.example:8020' });
    const conf = await loadHadoopConfiguration({ HADOOP_CONF_DIR: dir });
    let caught: unknown;
    try {
      clusterEndpoints(conf, {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HadoopConfigurationError);
    expect(caught).toMatchObject({ kind: 'cluster', file: join(dir, 'yarn-site.xml'), property: 'yarn.resourcemanager.hostname' });
    expect((caught as Error).message).toMatch(/yarn-site\.xml \(the file does not exist\): set yarn\.resourcemanager\.hostname/);
  });

  test('RM HA without rm-ids, and a NameNode that cannot be found, are named', async () => {
    write('yarn-site.xml', { 'yarn.resourcemanager.ha.enabled': 'true' });
    let conf = await loadHadoopConfiguration({ HADOOP_CONF_DIR: dir });
    expect(() => clusterEndpoints(conf, {})).toThrow(/set yarn\.resourcemanager\.ha\.rm-ids/);
    write('yarn-site.xml', { 'yarn.resourcemanager.hostname': 'rm.example' });
    conf = await loadHadoopConfiguration({ HADOOP_CONF_DIR: dir });
    // fs.defaultFS defaults to file:/// and dfs.namenode.http-address to a wildcard.
    expect(() => clusterEndpoints(conf, {})).toThrow(/hdfs-site\.xml.*set dfs\.namenode\.http-address/);
  });

  test('a malformed address names its file and key', async () => {
    write('core-site.xml', { 'fs.defaultFS': 'hdfs://nn.example:8020' });
    write('yarn-site.xml', { 'yarn.resourcemanager.webapp.address': 'rm.example:99999' });
    const conf = await loadHadoopConfiguration({ HADOOP_CONF_DIR: dir });
    expect(() => clusterEndpoints(conf, {})).toThrow(new RegExp(`${join(dir, 'yarn-site.xml')}: yarn\\.resourcemanager\\.webapp\\.address = "rm\\.example:99999": the port is out of range`));
  });
});
