export { HadoopConfiguration, MAX_SUBSTITUTIONS, type ConfigurationOptions, type ConfigurationOrigin, type ConfigurationResource } from './configuration';
export { clusterEndpoints, hadoopUser, type ClusterEndpoints } from './endpoints';
export { HadoopConfigurationError } from './errors';
export { loadHadoopConfiguration } from './load';
export { parseConfigurationXml, type PropertyEntry } from './xml';
