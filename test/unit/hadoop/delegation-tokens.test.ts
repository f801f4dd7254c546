// Tokens as data, on tokens captured from the Kerberized test cluster (scripts/cluster start
// --kerberos): an HDFS delegation token of kind HDFS_DELEGATION_TOKEN, one of WebHDFS's default
// kind, and an RM delegation token as the RM REST API returns it (empty service).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Credentials,
  decodeDelegationIdentifier,
  decodeTokenFromUrlString,
  encodeTokenToUrlString,
  hdfsTokenService,
  rewriteToken,
  TokenIdentifierFormatError,
  TokenKind,
} from '../../../src/hadoop/security';
import { DelegationTokens } from '../../../src/hadoop/webhdfs/delegation';
import { qopsFromProtection } from '../../../src/hadoop/sasl';

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, 'fixtures', 'tokens', name), 'utf8'));
const hdfsUrl: string = fixture('hdfs-delegation.json').Token.urlString;
const webhdfsUrl: string = fixture('webhdfs-delegation.json').Token.urlString;
const rmJson = fixture('rm-delegation.json') as { token: string; owner: string; 'expiration-time': number; 'max-validity': number };

describe('captured delegation tokens', () => {
  test('HDFS_DELEGATION_TOKEN: kind, the NameNode RPC address as service, the Writable identifier; byte-exact round trip', () => {
    const t = decodeTokenFromUrlString(hdfsUrl);
    expect(t.kind).toBe(TokenKind.HDFS_DELEGATION);
    expect(t.service).toBe('127.0.0.10:8020');
    expect(encodeTokenToUrlString(t)).toBe(hdfsUrl);
    const id = decodeDelegationIdentifier(t);
    expect(id).toMatchObject({ owner: 'root', renewer: 'rm', realUser: '' });
    // The test cluster's dfs.namenode.delegation.token.max-lifetime is 180 s.
    expect(id.maxDate - id.issueDate).toBe(180_000);
    expect(id.sequenceNumber).toBeGreaterThan(0);
  });

  test("WebHDFS's default kind has the same identifier format but the kind the RM cannot renew", () => {
    const t = decodeTokenFromUrlString(webhdfsUrl);
    expect(t.kind).toBe('WEBHDFS delegation');
    expect(t.service).toBe('127.0.0.10:8020');
    expect(decodeDelegationIdentifier(t).renewer).toBe('rm');
  });

  test('RM_DELEGATION_TOKEN: a protobuf identifier, an empty service until horn sets it, dates as the RM reported them', () => {
    const t = decodeTokenFromUrlString(rmJson.token);
    expect(t.kind).toBe(TokenKind.RM_DELEGATION);
    expect(t.service).toBe('');
    const id = decodeDelegationIdentifier(t);
    expect(id.owner).toBe(rmJson.owner);
    expect(id.renewer).toBe('rm');
    expect(id.maxDate).toBe(rmJson['max-validity']);
    expect(encodeTokenToUrlString(t)).toBe(rmJson.token);
    const served = rewriteToken(t, { service: '10.213.0.10:8032' });
    expect(served.service).toBe('10.213.0.10:8032');
    expect(Buffer.from(served.identifier)).toEqual(Buffer.from(t.identifier));
    expect(Buffer.from(served.password)).toEqual(Buffer.from(t.password));
    expect(decodeTokenFromUrlString(encodeTokenToUrlString(served))).toEqual(served);
  });

  test('a Writable identifier with a wrong version or trailing bytes is refused, naming the token', () => {
    const t = decodeTokenFromUrlString(hdfsUrl);
    const bad = { ...t, identifier: Uint8Array.from([1, ...t.identifier.subarray(1)]) };
    expect(() => decodeDelegationIdentifier(bad)).toThrow(TokenIdentifierFormatError);
    expect(() => decodeDelegationIdentifier(bad)).toThrow(/HDFS_DELEGATION_TOKEN@127\.0\.0\.10:8020.*version 1/);
    expect(() => decodeDelegationIdentifier({ ...t, identifier: Uint8Array.from([...t.identifier, 0]) })).toThrow(/1 bytes after/);
    expect(() => decodeDelegationIdentifier({ ...t, kind: 'YARN_AM_RM_TOKEN' })).toThrow(/not a delegation token horn reads/);
  });
});

test('HDFS token service: ha-hdfs:<nameservice> under HA, the NameNode address otherwise', () => {
  expect(hdfsTokenService('hdfs://mycluster', ['mycluster'])).toBe('ha-hdfs:mycluster');
  expect(hdfsTokenService('hdfs://nn.example:8020', ['other'])).toBeUndefined();
  expect(hdfsTokenService('file:///', [])).toBeUndefined();
});

test('hadoop.rpc.protection as SASL qops, in order; a wrong value is named', () => {
  expect(qopsFromProtection('privacy, integrity')).toEqual(['auth-conf', 'auth-int']);
  expect(qopsFromProtection('authentication')).toEqual(['auth']);
  expect(qopsFromProtection('')).toBeUndefined();
  expect(() => qopsFromProtection('secret')).toThrow(/"secret" is not authentication, integrity or privacy/);
});

describe('DelegationTokens in the application', () => {
  const amrm = { identifier: Buffer.from('a'), password: Buffer.from('p'), kind: TokenKind.AMRM, service: '' };
  const hdfs = decodeTokenFromUrlString(hdfsUrl);
  const rm = rewriteToken(decodeTokenFromUrlString(rmJson.token), { service: '10.0.0.1:8032' });

  test('containers get the delegation tokens and the secret, never the AMRMToken', () => {
    const tokens = new DelegationTokens(new Credentials().addToken('', amrm).addToken(hdfs.service, hdfs).addToken(rm.service, rm));
    const c = tokens.credentials({ alias: 'horn.application.secret', value: Buffer.from('s') });
    expect(c.findTokenByKind(TokenKind.AMRM)).toBeUndefined();
    expect(c.findTokenByKind(TokenKind.HDFS_DELEGATION)).toEqual(hdfs);
    expect(c.findTokenByKind(TokenKind.RM_DELEGATION)).toEqual(rm);
    expect(Buffer.from(c.getSecret('horn.application.secret')!).toString()).toBe('s');
    // What the NM writes for a container parses back the same.
    expect(Credentials.parse(c.serialize()).findTokenByKind(TokenKind.HDFS_DELEGATION)).toEqual(hdfs);
  });

  test('renewed tokens replace those of their kinds; the newest HDFS token is the one in use', () => {
    const tokens = new DelegationTokens(new Credentials().addToken(hdfs.service, hdfs).addToken(rm.service, rm));
    const fresh = { ...hdfs, password: Buffer.from('fresh password') };
    expect(tokens.replace(new Credentials().addToken(fresh.service, fresh).addToken('', amrm), 1234)).toEqual([TokenKind.HDFS_DELEGATION]);
    expect(tokens.hdfs).toEqual(fresh);
    expect(tokens.all.filter((t) => t.kind === TokenKind.RM_DELEGATION)).toEqual([rm]);
    expect(tokens.all.some((t) => t.kind === TokenKind.AMRM)).toBe(false);
    expect(tokens.lastRenewal).toBe(1234);
  });

  test('without Kerberos there is no HDFS token', () => {
    expect(new DelegationTokens(new Credentials().addToken('', amrm)).hdfs).toBeUndefined();
  });
});
