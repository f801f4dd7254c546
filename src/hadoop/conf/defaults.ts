// Hadoop's shipped defaults (core-default.xml, hdfs-default.xml, yarn-default.xml, 3.x) for the
// keys horn reads, so that a site file only needs what a real cluster sets.

export interface DefaultResource {
  readonly source: string;
  readonly values: Readonly<Record<string, string>>;
}

export const CORE_DEFAULTS: DefaultResource = {
  source: 'core-default.xml',
  values: {
    'fs.defaultFS': 'file:///',
    'hadoop.tmp.dir': '/tmp/hadoop-${user.name}',
    'hadoop.security.authentication': 'simple',
    'hadoop.http.staticuser.user': 'dr.who',
  },
};

export const HDFS_DEFAULTS: DefaultResource = {
  source: 'hdfs-default.xml',
  values: {
    'dfs.namenode.http-address': '0.0.0.0:9870',
    'dfs.namenode.https-address': '0.0.0.0:9871',
    'dfs.http.policy': 'HTTP_ONLY',
    'dfs.webhdfs.enabled': 'true',
    'dfs.replication': '3',
    'dfs.blocksize': '134217728',
  },
};

export const YARN_DEFAULTS: DefaultResource = {
  source: 'yarn-default.xml',
  values: {
    'yarn.resourcemanager.hostname': '0.0.0.0',
    'yarn.resourcemanager.address': '${yarn.resourcemanager.hostname}:8032',
    'yarn.resourcemanager.scheduler.address': '${yarn.resourcemanager.hostname}:8030',
    'yarn.resourcemanager.webapp.address': '${yarn.resourcemanager.hostname}:8088',
    'yarn.resourcemanager.webapp.https.address': '${yarn.resourcemanager.hostname}:8090',
    'yarn.resourcemanager.ha.enabled': 'false',
    'yarn.http.policy': 'HTTP_ONLY',
    'yarn.resourcemanager.am.max-attempts': '2',
    'yarn.scheduler.minimum-allocation-mb': '1024',
    'yarn.scheduler.maximum-allocation-mb': '8192',
    'yarn.scheduler.minimum-allocation-vcores': '1',
    'yarn.scheduler.maximum-allocation-vcores': '4',
    'yarn.nodemanager.webapp.address': '${yarn.nodemanager.hostname}:8042',
    'yarn.nodemanager.hostname': '0.0.0.0',
    'yarn.log-aggregation-enable': 'false',
    'yarn.nodemanager.log.retain-seconds': '10800',
    'yarn.webapp.enable-rest-app-submissions': 'true',
  },
};
