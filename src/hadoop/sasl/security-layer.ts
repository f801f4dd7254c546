// The DIGEST-MD5 security layer (RFC 2831 2.3 integrity, 2.4 confidentiality) exactly as the
// JDK's com.sun.security.sasl.digest.DigestMD5Base implements it, which is what every Hadoop
// server runs with hadoop.rpc.protection integrity or privacy. Written by hand because no npm
// library implements the SASL DIGEST-MD5 security layer; the primitives are node:crypto's.
//
//   keys      Ki(c|s) = MD5(H(A1) || "Digest session key to {client-to-server|server-to-client} signing key magic constant")
//             Kc(c|s) = MD5(H(A1)[0..n] || "Digest H(A1) to {client-to-server|server-to-client} sealing key magic constant"), n = 16 for 3des
//   integrity msg || HMAC-MD5(Ki, seq || msg)[0..10] || 00 01 || seq            (seq: 4 bytes big-endian, from 0, per direction)
//   privacy   3DES-CBC(Kc, msg || pad || HMAC-MD5(Ki, seq || msg)[0..10]) || 00 01 || seq
//             pad: 1..8 bytes each holding the pad length; the CBC state runs on across messages;
//             the 2-key EDE key is K1|K2|K1, Ki = Kc[7i..7i+7] spread to 8 bytes with odd parity; IV = Kc[8..16]
import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual, type Cipher, type Decipher } from 'node:crypto';
import { DigestMd5Error, type Qop } from './digest-md5';

/** wrap/unwrap of a negotiated SASL security layer, one object per connection (it carries sequence numbers and cipher state). */
export interface SaslSecurityLayer {
  readonly qop: Exclude<Qop, 'auth'>;
  readonly cipher?: string;
  /** The largest plaintext one wrap may take so that the result fits the peer's buffer (Sasl.RAW_SEND_SIZE). */
  readonly rawSendSize: number;
  wrap(message: Uint8Array): Buffer;
  /** Throws SaslIntegrityError on a bad MAC, an out-of-order sequence number or a bad message type. */
  unwrap(message: Uint8Array): Buffer;
}

/** A wrapped message failed its check: tampered with, out of order, or keys that do not match. */
export class SaslIntegrityError extends DigestMd5Error {}

const CLIENT_SIGN = 'Digest session key to client-to-server signing key magic constant';
const SERVER_SIGN = 'Digest session key to server-to-client signing key magic constant';
const CLIENT_SEAL = 'Digest H(A1) to client-to-server sealing key magic constant';
const SERVER_SEAL = 'Digest H(A1) to server-to-client sealing key magic constant';
const MAC_LENGTH = 10;
/** message type 1 and a 4-byte sequence number after the MAC. */
const TRAILER_LENGTH = 6;
const MESSAGE_TYPE = 1;

const md5 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

export interface SecurityLayerParams {
  qop: Qop;
  cipher?: string;
  /** H(A1), 16 raw bytes, from the authentication exchange. */
  ha1: Uint8Array;
  /** Which end this is: the client wraps with the client-to-server keys. */
  side: 'client' | 'server';
  /** The peer's announced maxbuf. */
  peerMaxBuffer: number;
}

/** The security layer for a negotiated qop; undefined for "auth", which has none. */
export function createSecurityLayer(p: SecurityLayerParams): SaslSecurityLayer | undefined {
  if (p.qop === 'auth') return undefined;
  if (p.ha1.length !== 16) throw new DigestMd5Error(`H(A1) must be 16 bytes, got ${p.ha1.length}`);
  const client = p.side === 'client';
  const kic = md5(p.ha1, Buffer.from(CLIENT_SIGN));
  const kis = md5(p.ha1, Buffer.from(SERVER_SIGN));
  const keys = { myKi: client ? kic : kis, peerKi: client ? kis : kic };
  if (p.qop === 'auth-int') return new IntegrityLayer(keys, p.peerMaxBuffer - MAC_LENGTH - TRAILER_LENGTH);
  if (p.cipher !== '3des') throw new DigestMd5Error(`cipher ${p.cipher ?? '(none)'} is not supported for auth-conf; horn implements 3des`);
  const kcc = md5(p.ha1, Buffer.from(CLIENT_SEAL));
  const kcs = md5(p.ha1, Buffer.from(SERVER_SEAL));
  const [myKc, peerKc] = client ? [kcc, kcs] : [kcs, kcc];
  const encrypt = createCipheriv('des-ede3-cbc', desEdeKey(myKc), myKc.subarray(8, 16)).setAutoPadding(false);
  const decrypt = createDecipheriv('des-ede3-cbc', desEdeKey(peerKc), peerKc.subarray(8, 16)).setAutoPadding(false);
  // The JDK: rawSendSize = maxbuf - (10 MAC + 6 trailer) - (block size: at most 8 bytes of pad)... minus 2 more it keeps spare.
  return new PrivacyLayer(keys, p.peerMaxBuffer - 26, encrypt, decrypt);
}

interface IntegrityKeys {
  myKi: Buffer;
  peerKi: Buffer;
}

class IntegrityLayer implements SaslSecurityLayer {
  readonly qop: 'auth-int' | 'auth-conf' = 'auth-int';
  private mySeq = 0;
  private peerSeq = 0;

  constructor(
    protected readonly keys: IntegrityKeys,
    readonly rawSendSize: number,
  ) {}

  protected mac(key: Buffer, seq: Buffer, message: Uint8Array): Buffer {
    return createHmac('md5', key).update(seq).update(message).digest().subarray(0, MAC_LENGTH);
  }

  protected nextSeq(): Buffer {
    const seq = Buffer.alloc(4);
    seq.writeUInt32BE(this.mySeq >>> 0);
    this.mySeq = (this.mySeq + 1) >>> 0;
    return seq;
  }

  protected trailer(seq: Buffer): Buffer {
    const t = Buffer.alloc(TRAILER_LENGTH);
    t.writeUInt16BE(MESSAGE_TYPE, 0);
    seq.copy(t, 2);
    return t;
  }

  /** Checks MAC, message type and sequence number, in that order (as the JDK does), then counts the message. */
  protected accept(message: Uint8Array, mac: Uint8Array, trailer: Uint8Array): void {
    const seq = Buffer.from(trailer.subarray(2, 6));
    const expected = this.mac(this.keys.peerKi, seq, message);
    if (mac.length !== MAC_LENGTH || !timingSafeEqual(expected, mac)) throw new SaslIntegrityError(`DIGEST-MD5 ${this.qop}: the MAC of message ${this.peerSeq} does not match (tampered with, or keys that differ)`);
    const type = Buffer.from(trailer).readUInt16BE(0);
    if (type !== MESSAGE_TYPE) throw new SaslIntegrityError(`DIGEST-MD5 ${this.qop}: message type ${type}, expected ${MESSAGE_TYPE}`);
    const got = seq.readUInt32BE(0);
    if (got !== this.peerSeq) throw new SaslIntegrityError(`DIGEST-MD5 ${this.qop}: sequence number ${got}, expected ${this.peerSeq} (a message lost, repeated or reordered)`);
    this.peerSeq = (this.peerSeq + 1) >>> 0;
  }

  wrap(message: Uint8Array): Buffer {
    if (message.length === 0) return Buffer.alloc(0);
    const seq = this.nextSeq();
    return Buffer.concat([message, this.mac(this.keys.myKi, seq, message), this.trailer(seq)]);
  }

  unwrap(wrapped: Uint8Array): Buffer {
    if (wrapped.length === 0) return Buffer.alloc(0);
    if (wrapped.length < MAC_LENGTH + TRAILER_LENGTH) throw new SaslIntegrityError(`DIGEST-MD5 ${this.qop}: a wrapped message of ${wrapped.length} bytes is shorter than its MAC and trailer`);
    const end = wrapped.length - TRAILER_LENGTH;
    const message = wrapped.subarray(0, end - MAC_LENGTH);
    this.accept(message, wrapped.subarray(end - MAC_LENGTH, end), wrapped.subarray(end));
    return Buffer.from(message);
  }
}

const BLOCK = 8;

class PrivacyLayer extends IntegrityLayer {
  override readonly qop = 'auth-conf' as const;
  readonly cipher = '3des';

  constructor(
    keys: IntegrityKeys,
    rawSendSize: number,
    private readonly encrypt: Cipher,
    private readonly decrypt: Decipher,
  ) {
    super(keys, rawSendSize);
  }

  override wrap(message: Uint8Array): Buffer {
    if (message.length === 0) return Buffer.alloc(0);
    const seq = this.nextSeq();
    const mac = this.mac(this.keys.myKi, seq, message);
    const padLength = BLOCK - ((message.length + MAC_LENGTH) % BLOCK);
    // update() only: the CBC chain continues from one message to the next, as in the JDK.
    const sealed = this.encrypt.update(Buffer.concat([message, Buffer.alloc(padLength, padLength), mac]));
    return Buffer.concat([sealed, this.trailer(seq)]);
  }

  override unwrap(wrapped: Uint8Array): Buffer {
    if (wrapped.length === 0) return Buffer.alloc(0);
    const end = wrapped.length - TRAILER_LENGTH;
    if (end < BLOCK * 2 || end % BLOCK !== 0) throw new SaslIntegrityError(`DIGEST-MD5 auth-conf: a sealed part of ${Math.max(0, end)} bytes is not a whole number of 8-byte blocks of at least 16`);
    const plain = this.decrypt.update(wrapped.subarray(0, end));
    const mac = plain.subarray(plain.length - MAC_LENGTH);
    const padded = plain.subarray(0, plain.length - MAC_LENGTH);
    const padLength = padded[padded.length - 1]!;
    if (padLength < 1 || padLength > BLOCK || padLength > padded.length) {
      throw new SaslIntegrityError(`DIGEST-MD5 auth-conf: invalid padding length ${padLength} (wrong keys or a tampered message)`);
    }
    const message = padded.subarray(0, padded.length - padLength);
    this.accept(message, mac, wrapped.subarray(end));
    return Buffer.from(message);
  }
}

/**
 * A 3DES (2-key EDE) key from a 16-byte sealing key, as DigestMD5Base.makeDesKeys: two 7-byte
 * halves, each spread over 8 bytes of 7 bits with odd parity in the low bit, as K1|K2|K1.
 */
export function desEdeKey(kc: Uint8Array): Buffer {
  const k1 = addDesParity(kc.subarray(0, 7));
  const k2 = addDesParity(kc.subarray(7, 14));
  return Buffer.concat([k1, k2, k1]);
}

function addDesParity(raw: Uint8Array): Buffer {
  let bits = 0n;
  for (const b of raw) bits = (bits << 8n) | BigInt(b);
  const out = Buffer.alloc(8);
  for (let i = 7; i >= 0; i--) {
    const seven = Number(bits & 0x7fn) << 1;
    let ones = 0;
    for (let v = seven; v; v >>= 1) ones += v & 1;
    out[i] = seven | ((ones & 1) ^ 1);
    bits >>= 7n;
  }
  return out;
}
