// Hadoop's RPC framing of a SASL security layer (SaslRpcClient.WrappedOutputStream /
// WrappedInputStream, Server.wrapWithSasl): once integrity or privacy is negotiated, the plain
// byte stream of frames (each with its own 4-byte length) is cut into pieces of at most the
// negotiated raw send size; each piece is wrapped and sent as a SASL message of state WRAP
// (callId -33). The server wraps each whole response frame the same way. Pure byte handling.
import { codec } from '../proto';
import { FrameError } from './errors';
import { encodeFrame } from './framing';
import { CallId, encodeRequestHeader } from './headers';

/** What the IPC layer needs of a negotiated security layer (the sasl layer implements it). */
export interface WireSecurityLayer {
  /** "auth-int" or "auth-conf". */
  readonly qop: string;
  readonly rawSendSize: number;
  wrap(message: Uint8Array): Buffer;
  unwrap(message: Uint8Array): Buffer;
}

interface WrapMessage {
  state: string;
  token?: Uint8Array;
}
const saslMessageCodec = codec<WrapMessage>('hadoop.common.RpcSaslProto');

/** The packets that carry `plain` (whole frames as they would go out unprotected) through the layer. */
export function wrapOutgoing(layer: WireSecurityLayer, plain: Uint8Array): Buffer[] {
  const packets: Buffer[] = [];
  const header = encodeRequestHeader(CallId.SASL, new Uint8Array(0), -1);
  const size = Math.max(1, layer.rawSendSize);
  for (let at = 0; at < plain.length; at += size) {
    const token = layer.wrap(plain.subarray(at, Math.min(plain.length, at + size)));
    packets.push(encodeFrame([header, saslMessageCodec.encode({ state: 'WRAP', token })]));
  }
  return packets;
}

/** The plain bytes inside one WRAP message body (the RpcSaslProto after the response header). */
export function unwrapIncoming(layer: WireSecurityLayer, saslBody: Uint8Array): Buffer {
  const message = saslMessageCodec.decode(saslBody);
  if (message.state !== 'WRAP') throw new FrameError(`expected a SASL WRAP message under qop ${layer.qop}, got ${message.state}`, 0, saslBody.length);
  return layer.unwrap(message.token ?? new Uint8Array(0));
}
