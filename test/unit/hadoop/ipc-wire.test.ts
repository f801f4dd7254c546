import {
  CallId,
  connectionPreamble,
  decodeResponseHeader,
  decodeVarint32,
  encodeFrame,
  encodeRequestHeader,
  encodeVarint32,
  FrameDecoder,
  FrameError,
  splitDelimited,
  zigzagDecode32,
  zigzagEncode32,
} from '../../../src/hadoop/ipc';
import { codec } from '../../../src/hadoop/proto';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('varints and zigzag', () => {
  test('zigzag maps the special call ids like sint32 does', () => {
    expect(zigzagEncode32(0)).toBe(0);
    expect(zigzagEncode32(-1)).toBe(1);
    expect(zigzagEncode32(1)).toBe(2);
    expect(zigzagEncode32(-3)).toBe(5);
    expect(zigzagEncode32(-33)).toBe(65);
    expect(zigzagEncode32(0x7fffffff)).toBe(0xfffffffe);
    for (const v of [0, 1, -1, -33, 123456, -123456, 0x7fffffff, -0x80000000]) expect(zigzagDecode32(zigzagEncode32(v))).toBe(v);
  });

  test('varint32 encodes and decodes', () => {
    expect(hex(encodeVarint32(0))).toBe('00');
    expect(hex(encodeVarint32(127))).toBe('7f');
    expect(hex(encodeVarint32(128))).toBe('8001');
    expect(hex(encodeVarint32(300))).toBe('ac02');
    expect(hex(encodeVarint32(-33))).toBe('dfffffff0f');
    expect(decodeVarint32(Buffer.from('ac02', 'hex'))).toEqual({ value: 300, length: 2 });
    expect(decodeVarint32(Buffer.from('ac', 'hex'))).toBeUndefined();
    // A 10-byte negative int32 as Java's writeInt32 emits it keeps the low 32 bits.
    expect(decodeVarint32(Buffer.from('dfffffffffffffffff01', 'hex'))!.value | 0).toBe(-33);
  });
});

describe('request and response headers', () => {
  test('SASL request header: callId -33 zigzagged, empty clientId present, retryCount -1', () => {
    expect(hex(encodeRequestHeader(CallId.SASL, new Uint8Array(0), -1))).toBe('08021000184122002801');
  });

  test('connection context call id -3 is zigzag 5', () => {
    const bytes = encodeRequestHeader(CallId.CONNECTION_CONTEXT, new Uint8Array(16), -1);
    expect(hex(bytes).startsWith('080210001805')).toBe(true);
  });

  test('normal call id 7 with a 16-byte client id and retry 0', () => {
    const clientId = Buffer.alloc(16, 0xab);
    expect(hex(encodeRequestHeader(7, clientId, 0))).toBe(`08021000180e2210${'ab'.repeat(16)}2800`);
  });

  test('response callId is uint32 on the wire: -33 arrives as DF FF FF FF 0F and is normalised', () => {
    // callId field 1 varint -33 as uint32, status SUCCESS, serverIpcVersionNum 9
    const header = decodeResponseHeader(Buffer.from('08dfffffff0f10001809', 'hex'));
    expect(header.callId).toBe(-33);
    expect(header.status).toBe('SUCCESS');
    expect(header.serverIpcVersionNum).toBe(9);
  });

  test('error response header carries the Java class and message', () => {
    const enc = codec<object>('hadoop.common.RpcResponseHeaderProto');
    const bytes = enc.encode({ callId: 5, status: 'ERROR', exceptionClassName: 'org.apache.Foo', errorMsg: 'boom', errorDetail: 'ERROR_APPLICATION' });
    expect(decodeResponseHeader(bytes)).toMatchObject({ callId: 5, status: 'ERROR', exceptionClassName: 'org.apache.Foo', errorMsg: 'boom', errorDetail: 'ERROR_APPLICATION' });
  });

  test('preamble is hrpc, version 9, service class 0, auth byte', () => {
    expect(hex(connectionPreamble(true))).toBe('68727063' + '09' + '00' + 'df');
    expect(hex(connectionPreamble(false))).toBe('6872706309' + '00' + '00');
  });
});

describe('framing', () => {
  const a = Buffer.from('0102', 'hex');
  const b = Buffer.alloc(200, 7);

  test('a frame is a big-endian length then varint-delimited messages', () => {
    const f = encodeFrame([a, b]);
    expect(f.readUInt32BE(0)).toBe(1 + 2 + 2 + 200);
    expect(hex(f.subarray(4, 7))).toBe('020102');
    expect(hex(f.subarray(7, 9))).toBe('c801');
    expect(splitDelimited(f.subarray(4)).map((m) => m.length)).toEqual([2, 200]);
  });

  test('frames split across arbitrary socket reads are reassembled in order', () => {
    const stream = Buffer.concat([encodeFrame([a]), encodeFrame([b, a]), encodeFrame([])]);
    for (const step of [1, 2, 3, 5, 7, 64, stream.length]) {
      const d = new FrameDecoder();
      const frames: Buffer[] = [];
      for (let i = 0; i < stream.length; i += step) frames.push(...d.push(stream.subarray(i, i + step)));
      expect(frames.map((f) => splitDelimited(f).map((m) => m.length))).toEqual([[2], [200, 2], []]);
      expect(d.pendingBytes).toBe(0);
    }
  });

  test('a read that ends inside the length prefix waits for more', () => {
    const f = encodeFrame([a]);
    const d = new FrameDecoder();
    expect(d.push(f.subarray(0, 3))).toEqual([]);
    expect(d.pendingBytes).toBe(3);
    expect(d.push(f.subarray(3))).toHaveLength(1);
  });

  test('oversized or negative frame lengths are rejected', () => {
    expect(() => new FrameDecoder(100).push(Buffer.from('00000065', 'hex'))).toThrow(FrameError);
    expect(() => new FrameDecoder().push(Buffer.from('ffffffff', 'hex'))).toThrow(/frame length -1/);
  });

  test('a delimited message running past the frame end is an error with its offset', () => {
    expect(() => splitDelimited(Buffer.from('0301', 'hex'))).toThrow(/runs past the frame end.*offset 0/);
    expect(() => splitDelimited(Buffer.from('02010280', 'hex'))).toThrow(/truncated length prefix.*offset 3/);
  });
});

test('encoding a message without a required field fails with the type and field named', () => {
  const c = codec<object>('hadoop.common.RequestHeaderProto');
  expect(() => c.encode({ declaringClassProtocolName: 'p', clientProtocolVersion: 1 })).toThrow(/hadoop.common.RequestHeaderProto: cannot encode: .*methodName/);
});

test('a missing required field inside a nested message is named with its path', () => {
  const c = codec<object>('hadoop.common.CredentialsProto');
  expect(() => c.encode({ tokens: [{ alias: 'a', token: { identifier: Buffer.from('i'), password: Buffer.from('p'), kind: 'K' } }] })).toThrow(
    /required field tokens\[0\]\.token\.service is missing/,
  );
});
