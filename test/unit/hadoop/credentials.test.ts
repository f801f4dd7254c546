import {
  Credentials,
  CredentialsFormat,
  CredentialsFormatError,
  decodeTokenFromUrlString,
  encodeTokenToUrlString,
  encodeVLong,
  Token,
  WritableReader,
} from '../../../src/hadoop/security';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('Hadoop VInt / VLong (WritableUtils)', () => {
  test.each([
    [0, '00'],
    [127, '7f'],
    [-112, '90'],
    [128, '8f80'],
    [200, '8fc8'],
    [255, '8fff'],
    [256, '8e0100'],
    [65536, '8d010000'],
    [-113, '8770'],
    [-256, '87ff'],
    [-257, '860100'],
    [2 ** 40, '8a010000000000'],
  ])('%d ⇄ %s', (value, bytes) => {
    expect(hex(encodeVLong(value))).toBe(bytes);
    expect(new WritableReader(Buffer.from(bytes, 'hex')).readVLong('v')).toBe(value);
  });

  test('readVInt refuses values beyond 32 bits and truncated input names the field and offset', () => {
    expect(() => new WritableReader(Buffer.from('8a010000000000', 'hex')).readVInt('count')).toThrow(/count at offset 0.*32 bits/);
    expect(() => new WritableReader(Buffer.from('8e01', 'hex')).readVLong('len')).toThrow(/len at offset 2: unexpected end/);
  });
});

const amrm: Token = {
  identifier: Buffer.from('0a0c0a08088dc0a4b4f13110011001100a', 'hex'),
  password: Buffer.alloc(20, 0x5a),
  kind: 'YARN_AM_RM_TOKEN',
  service: '',
};
const hdfs: Token = { identifier: Buffer.from('abc'), password: Buffer.from('def'), kind: 'HDFS_DELEGATION_TOKEN', service: '10.0.0.1:8020' };

function sample(): Credentials {
  return new Credentials().addToken('', amrm).addToken('hdfs', hdfs).addSecret('horn.secret', Buffer.alloc(200, 1));
}

describe('credentials file', () => {
  test('WRITABLE layout byte by byte', () => {
    const bytes = new Credentials().addToken('a', { identifier: Buffer.from([1, 2]), password: Buffer.from([3]), kind: 'K', service: 'S' }).addSecret('s', Buffer.from([9])).serialize();
    // HDTS 00 | 1 token | "a" | id 0102 | pw 03 | "K" | "S" | 1 secret | "s" | 09
    expect(hex(bytes)).toBe('48445453' + '00' + '01' + '0161' + '020102' + '0103' + '014b' + '0153' + '01' + '0173' + '0109');
  });

  test.each([CredentialsFormat.WRITABLE, CredentialsFormat.PROTOBUF])('round trip in format %d', (format) => {
    const bytes = sample().serialize(format);
    expect(bytes[4]).toBe(format);
    const back = Credentials.parse(bytes);
    expect([...back.tokens.keys()]).toEqual(['', 'hdfs']);
    expect(back.findTokenByKind('YARN_AM_RM_TOKEN')).toEqual({ ...amrm, identifier: new Uint8Array(amrm.identifier), password: new Uint8Array(amrm.password) });
    expect(hex(back.getToken('hdfs')!.password)).toBe(hex(hdfs.password));
    expect(back.getToken('hdfs')!.service).toBe('10.0.0.1:8020');
    expect(back.getSecret('horn.secret')).toEqual(new Uint8Array(200).fill(1));
  });

  test('PROTOBUF layout: HDTS 01 then a varint-delimited CredentialsProto', () => {
    const bytes = new Credentials().addSecret('k', Buffer.from([7])).serialize(CredentialsFormat.PROTOBUF);
    // CredentialsProto{ secrets(2) = CredentialsKVProto{ alias(1)="k", secret(3)=07 } }
    expect(hex(bytes)).toBe('48445453' + '01' + '08' + '1206' + '0a016b' + '1a0107');
  });

  test('trailing zero bytes (RM REST quirk) are tolerated', () => {
    const bytes = Buffer.concat([sample().serialize(), Buffer.alloc(37)]);
    expect(Credentials.parse(bytes).tokens.size).toBe(2);
  });

  test('errors name the source, field and offset', () => {
    expect(() => Credentials.parse(Buffer.from('HDTX\0\0\0'), 'f.bin')).toThrow(/credentials f.bin: magic at offset 0/);
    expect(() => Credentials.parse(Buffer.from('HDTS\x07\0\0'), 'f.bin')).toThrow(/format at offset 4: unknown format byte 7/);
    const truncated = sample().serialize().subarray(0, 12);
    let error: unknown;
    try {
      Credentials.parse(truncated, 'cut.bin');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CredentialsFormatError);
    expect((error as CredentialsFormatError).field).toMatch(/^token\[0\]/);
    expect((error as CredentialsFormatError).source).toBe('cut.bin');
  });

  test('URL-string tokens (REST credentials) round trip and use unpadded base64url', () => {
    const s = encodeTokenToUrlString(hdfs);
    expect(s).not.toMatch(/[=+/]/);
    expect(decodeTokenFromUrlString(s)).toEqual({ ...hdfs, identifier: new Uint8Array(hdfs.identifier), password: new Uint8Array(hdfs.password) });
  });
});

describe('credentials file captured from an AM container of the real cluster (Hadoop 3.4.3)', () => {
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  const { join } = require('node:path') as typeof import('node:path');
  const { decodeAMRMTokenIdentifier, formatApplicationAttemptId } = require('../../../src/hadoop/yarn') as typeof import('../../../src/hadoop/yarn');
  const path = join(__dirname, 'fixtures/container_tokens');
  const bytes = readFileSync(path);

  test('is HDTS format 0 (Writable) with the AMRMToken under alias "" and no secrets', () => {
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('HDTS\0');
    const creds = Credentials.parse(bytes, path);
    expect([...creds.tokens.keys()]).toEqual(['']);
    expect(creds.secrets.size).toBe(0);
    const token = creds.findTokenByKind('YARN_AM_RM_TOKEN')!;
    expect(token.service).toBe('');
    expect(token.identifier.length).toBe(21);
    expect(token.password.length).toBe(20);
  });

  test('the AMRMToken identifier names the application attempt', () => {
    const token = Credentials.parse(bytes, path).findTokenByKind('YARN_AM_RM_TOKEN')!;
    const id = decodeAMRMTokenIdentifier(token);
    expect(formatApplicationAttemptId(id.appAttemptId)).toBe('appattempt_1795318647931_0005_000001');
    expect(typeof id.keyId).toBe('number');
  });

  test('writing it back in format 0 reproduces the file byte for byte; format 1 round-trips', () => {
    const creds = Credentials.parse(bytes, path);
    expect(creds.serialize().equals(bytes)).toBe(true);
    const again = Credentials.parse(creds.serialize(CredentialsFormat.PROTOBUF));
    expect(again.serialize().equals(bytes)).toBe(true);
  });
});
