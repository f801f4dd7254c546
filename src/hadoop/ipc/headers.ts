// Hadoop IPC header messages: RpcRequestHeaderProto (call id is sint32, zigzag) in front of every
// request, RequestHeaderProto naming the method, RpcResponseHeaderProto (call id is uint32 on the
// wire but the server writes negative ints, so it is normalised with `| 0`).
import { codec } from '../proto';

/** Call ids with special meaning (RpcConstants, Server.AuthProtocol). */
export const CallId = {
  AUTHORIZATION_FAILED: -1,
  INVALID: -2,
  CONNECTION_CONTEXT: -3,
  PING: -4,
  SASL: -33,
} as const;

export const IPC_PREAMBLE_MAGIC = 'hrpc';
export const IPC_VERSION = 9;
export const AUTH_PROTOCOL_NONE = 0x00;
/** AuthProtocol.SASL(-33) written as one byte. */
export const AUTH_PROTOCOL_SASL = 0xdf;

/** The 7-byte connection preamble: "hrpc", version 9, service class 0, auth protocol. */
export function connectionPreamble(sasl: boolean): Buffer {
  return Buffer.from([...Buffer.from(IPC_PREAMBLE_MAGIC, 'ascii'), IPC_VERSION, 0, sasl ? AUTH_PROTOCOL_SASL : AUTH_PROTOCOL_NONE]);
}

export interface RpcRequestHeader {
  rpcKind?: 'RPC_BUILTIN' | 'RPC_WRITABLE' | 'RPC_PROTOCOL_BUFFER';
  rpcOp?: 'RPC_FINAL_PACKET' | 'RPC_CONTINUATION_PACKET' | 'RPC_CLOSE_CONNECTION';
  callId: number;
  clientId: Uint8Array;
  retryCount?: number;
}

export type RpcStatus = 'SUCCESS' | 'ERROR' | 'FATAL';

export interface RpcResponseHeader {
  callId: number;
  status: RpcStatus;
  serverIpcVersionNum?: number;
  exceptionClassName?: string;
  errorMsg?: string;
  errorDetail?: string;
  clientId?: Uint8Array;
  retryCount?: number;
}

export interface RequestHeader {
  methodName: string;
  declaringClassProtocolName: string;
  clientProtocolVersion: number;
}

export interface UserInformation {
  effectiveUser?: string;
  realUser?: string;
}

export interface IpcConnectionContext {
  userInfo?: UserInformation;
  protocol?: string;
}

export const requestHeaderCodec = codec<RpcRequestHeader>('hadoop.common.RpcRequestHeaderProto');
const responseHeaderCodec = codec<RpcResponseHeader>('hadoop.common.RpcResponseHeaderProto');
export const methodHeaderCodec = codec<RequestHeader>('hadoop.common.RequestHeaderProto');
export const connectionContextCodec = codec<IpcConnectionContext>('hadoop.common.IpcConnectionContextProto');

/** Request header for a call; `clientId` is empty for SASL messages and 16 bytes otherwise. */
export function encodeRequestHeader(callId: number, clientId: Uint8Array, retryCount: number): Uint8Array {
  return requestHeaderCodec.encode({
    rpcKind: 'RPC_PROTOCOL_BUFFER',
    rpcOp: 'RPC_FINAL_PACKET',
    callId,
    clientId,
    retryCount,
  });
}

export function decodeResponseHeader(bytes: Uint8Array): RpcResponseHeader {
  const h = responseHeaderCodec.decode(bytes);
  return { ...h, callId: h.callId | 0 };
}
