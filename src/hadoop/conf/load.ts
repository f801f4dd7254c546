import { readFile, stat } from 'node:fs/promises';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { HadoopConfiguration, type ConfigurationResource } from './configuration';
import { CORE_DEFAULTS, HDFS_DEFAULTS, YARN_DEFAULTS, type DefaultResource } from './defaults';
import { HadoopConfigurationError } from './errors';
import { parseConfigurationXml } from './xml';

/**
 * Reads the client configuration the way `hadoop`/`yarn` commands see it: Hadoop's defaults, then
 * core-site.xml, hdfs-site.xml and yarn-site.xml from HADOOP_CONF_DIR. YARN_CONF_DIR (Hadoop 2's
 * separate YARN directory, a deprecated alias in Hadoop 3) is where yarn-site.xml is read from
 * when it is set and holds one. A site file that is absent is skipped, as Hadoop does; what horn
 * then lacks is reported by clusterEndpoints() naming the file and property.
 */
export async function loadHadoopConfiguration(env: NodeJS.ProcessEnv = process.env): Promise<HadoopConfiguration> {
  const hadoopDir = nonEmpty(env.HADOOP_CONF_DIR);
  const yarnDir = nonEmpty(env.YARN_CONF_DIR);
  if (!hadoopDir && !yarnDir) {
    throw new HadoopConfigurationError(
      'HADOOP_CONF_DIR is not set: point it at the Hadoop client configuration directory (the one holding core-site.xml, hdfs-site.xml and yarn-site.xml)',
      undefined,
      'HADOOP_CONF_DIR',
    );
  }
  if (hadoopDir) await requireDirectory(hadoopDir, 'HADOOP_CONF_DIR');
  if (yarnDir) await requireDirectory(yarnDir, 'YARN_CONF_DIR');
  const commonDir = hadoopDir ?? (yarnDir as string);

  const files: string[] = [];
  const missing: string[] = [];
  const resources: ConfigurationResource[] = [];
  const addDefaults = (d: DefaultResource) => resources.push({ source: d.source, entries: Object.entries(d.values).map(([name, value]) => ({ name, value, final: false })) });
  const addSite = async (candidates: readonly string[]) => {
    for (const file of candidates) {
      const text = await readOptional(file);
      if (text === undefined) {
        missing.push(file);
        continue;
      }
      files.push(file);
      resources.push({ source: file, entries: parseConfigurationXml(text, file) });
      return;
    }
  };

  addDefaults(CORE_DEFAULTS);
  await addSite([join(commonDir, 'core-site.xml')]);
  addDefaults(HDFS_DEFAULTS);
  await addSite([join(commonDir, 'hdfs-site.xml')]);
  addDefaults(YARN_DEFAULTS);
  await addSite(yarnDir && yarnDir !== commonDir ? [join(yarnDir, 'yarn-site.xml'), join(commonDir, 'yarn-site.xml')] : [join(commonDir, 'yarn-site.xml')]);

  return new HadoopConfiguration(resources, {
    env,
    systemProperties: systemProperties(),
    origin: { directories: [hadoopDir, yarnDir].filter((d): d is string => d !== undefined), files, missing },
  });
}

/** What a JVM would report for the system properties Hadoop defaults refer to. */
function systemProperties(): Record<string, string> {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return {
    'user.name': user,
    'user.home': homedir(),
    'user.dir': process.cwd(),
    'java.io.tmpdir': tmpdir(),
    'file.separator': '/',
    'path.separator': ':',
    'line.separator': '\n',
  };
}

async function requireDirectory(dir: string, variable: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch (err) {
    throw new HadoopConfigurationError(`${variable}=${dir}: ${errnoText(err)}`, dir, variable, { cause: err });
  }
  if (!isDirectory) throw new HadoopConfigurationError(`${variable}=${dir} is not a directory`, dir, variable);
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HadoopConfigurationError(`${file}: cannot read: ${errnoText(err)}`, file, undefined, { cause: err });
  }
}

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such directory';
  if (e.code === 'EACCES') return 'permission denied';
  return e.message ?? String(err);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
