// The job file: schema, loading, errors and path conventions.
export { JobFieldError, JobFileReadError, JobValidationError } from './errors';
export { defaultsFilePath, loadJobFile, parseJobText, type JobParseResult, type LoadedJob, type YamlText } from './load';
export { expandOutputPath, OUTPUT_PLACEHOLDERS, PlaceholderError, resolveHdfsPath, resolveLocalPath, unknownPlaceholders } from './paths';
export * from './schema';
export { datasetFor, type DataMode, MissingDatasetError } from './dataset';
