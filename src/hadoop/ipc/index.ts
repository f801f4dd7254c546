export * from './errors';
export * from './varint';
export * from './framing';
export * from './connection';
export { CallId, connectionPreamble, decodeResponseHeader, encodeRequestHeader } from './headers';
export type { RpcResponseHeader, RpcStatus } from './headers';
export * from './wrap';
