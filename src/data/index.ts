// Data readers: MNIST IDX pairs, CSV and LibSVM, by byte range, from any ByteSource.
export { DataFormatError, MalformedRecordError, TooManyMalformedError } from './errors';
export { type Batch, type DatasetSpec, firstBatch, type Normalize, newStats, primaryPath, readBatches, readIdxPair, type ReadOptions, readRecords, type ReadStats, toBatches } from './dataset';
export { type ByteRange, type IdxHeader, type IdxPlan, type LinePlan, parseIdxHeader, planIdxRange, planIdxRecords, planLineRange, splitAt, splitEvenly } from './plan';
export { type ByteSource, localFiles, memoryFiles, readBytes } from './source';
export type { CsvOptions, DataRecord, LibsvmOptions } from './text-formats';
export { datasetOfFile, expandInput, expandPattern, type FileLister, globToRegExp, hasGlob, InputNotFoundError, type InputSpec, isHidden, type ListedFile, localLister, singleDataset } from './inputs';
