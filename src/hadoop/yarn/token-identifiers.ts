// Decoders for the identifiers inside AMRM and NM tokens. The server never needs us to parse them,
// but the AM learns its own attempt id (the SASL user) from the AMRMToken.
import { codec } from '../proto';
import type { Token } from '../security/token';
import { TokenKind } from '../security/token';
import type { ApplicationAttemptId, NodeId } from './records';

export interface AMRMTokenIdentifier {
  appAttemptId: ApplicationAttemptId;
  keyId: number;
}

export interface NMTokenIdentifier {
  appAttemptId: ApplicationAttemptId;
  nodeId: NodeId;
  appSubmitter: string;
  keyId: number;
}

const amrmIdentifierCodec = codec<AMRMTokenIdentifier>('hadoop.yarn.AMRMTokenIdentifierProto');
const nmIdentifierCodec = codec<NMTokenIdentifier>('hadoop.yarn.NMTokenIdentifierProto');

export class TokenIdentifierError extends Error {
  constructor(
    readonly kind: string,
    detail: string,
  ) {
    super(`cannot read the identifier of a ${kind} token: ${detail}`);
    this.name = 'TokenIdentifierError';
  }
}

export function decodeAMRMTokenIdentifier(token: Token): AMRMTokenIdentifier {
  if (token.kind !== TokenKind.AMRM) throw new TokenIdentifierError(token.kind, `expected kind ${TokenKind.AMRM}`);
  const id = amrmIdentifierCodec.decode(token.identifier);
  if (!id.appAttemptId?.applicationId) throw new TokenIdentifierError(token.kind, 'no application attempt id');
  return id;
}

export function decodeNMTokenIdentifier(token: Token): NMTokenIdentifier {
  if (token.kind !== TokenKind.NM) throw new TokenIdentifierError(token.kind, `expected kind ${TokenKind.NM}`);
  const id = nmIdentifierCodec.decode(token.identifier);
  if (!id.appAttemptId?.applicationId) throw new TokenIdentifierError(token.kind, 'no application attempt id');
  return id;
}
