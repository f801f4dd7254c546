export * from './credentials';
export * from './token';
export { WritableFormatError, WritableReader, WritableWriter, encodeVLong } from './writable';
export * from './delegation-token';
