// Hadoop Writable primitives used by the credentials file and URL-encoded tokens:
// WritableUtils VInt/VLong (NOT protobuf varints) and Text (VInt length + UTF-8).

/** Malformed Writable data; carries the byte offset and the field being read. */
export class WritableFormatError extends Error {
  constructor(
    readonly field: string,
    readonly offset: number,
    readonly detail: string,
  ) {
    super(`${field} at offset ${offset}: ${detail}`);
    this.name = 'WritableFormatError';
  }
}

/** Encodes a value with WritableUtils.writeVLong. Safe for |v| < 2^53. */
export function encodeVLong(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new RangeError(`VLong value ${value} is not a safe integer`);
  if (value >= -112 && value <= 127) return Uint8Array.of(value & 0xff);
  let v = BigInt(value);
  let base = -112;
  if (v < 0n) {
    v = ~v;
    base = -120;
  }
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Uint8Array.from([(base - bytes.length) & 0xff, ...bytes]);
}

/** Sequential reader over Writable-encoded bytes. */
export class WritableReader {
  private at: number;

  constructor(
    private readonly buf: Uint8Array,
    offset = 0,
  ) {
    this.at = offset;
  }

  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.buf.length - this.at;
  }

  readByte(field: string): number {
    if (this.at >= this.buf.length) throw new WritableFormatError(field, this.at, 'unexpected end of data');
    return this.buf[this.at++]!;
  }

  readBytes(length: number, field: string): Uint8Array {
    if (length < 0) throw new WritableFormatError(field, this.at, `negative length ${length}`);
    if (this.at + length > this.buf.length) {
      throw new WritableFormatError(field, this.at, `needs ${length} bytes, only ${this.buf.length - this.at} left`);
    }
    const out = this.buf.slice(this.at, this.at + length);
    this.at += length;
    return out;
  }

  /** WritableUtils.readVLong. */
  readVLong(field: string): number {
    const start = this.at;
    const first = (this.readByte(field) << 24) >> 24;
    if (first >= -112) return first;
    const negative = first < -120;
    const n = negative ? -(first + 120) : -(first + 112);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.readByte(field));
    if (negative) v = ~v;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new WritableFormatError(field, start, `VLong ${v} exceeds the safe integer range`);
    }
    return Number(v);
  }

  /** WritableUtils.readVInt: a VLong that must fit in int32. */
  readVInt(field: string): number {
    const start = this.at;
    const v = this.readVLong(field);
    if (v > 0x7fffffff || v < -0x80000000) throw new WritableFormatError(field, start, `VInt ${v} does not fit in 32 bits`);
    return v;
  }

  /** A length-prefixed byte array (VInt length). */
  readVBytes(field: string): Uint8Array {
    const len = this.readVInt(`${field} length`);
    return this.readBytes(len, field);
  }

  /** org.apache.hadoop.io.Text. */
  readText(field: string): string {
    const start = this.at;
    const bytes = this.readVBytes(field);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new WritableFormatError(field, start, 'invalid UTF-8');
    }
  }
}

/** Accumulates Writable-encoded bytes. */
export class WritableWriter {
  private readonly parts: Uint8Array[] = [];

  writeRaw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    return this;
  }

  writeVLong(value: number): this {
    return this.writeRaw(encodeVLong(value));
  }

  writeVBytes(bytes: Uint8Array): this {
    return this.writeVLong(bytes.length).writeRaw(bytes);
  }

  writeText(text: string): this {
    return this.writeVBytes(Buffer.from(text, 'utf8'));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
