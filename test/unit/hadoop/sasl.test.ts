import {
  buildInitiate,
  checkSuccess,
  echoSaslAuth,
  parseDigestDirectives,
  respondToChallenge,
  saslCodec,
  SaslMessage,
  SaslQopUnsupportedError,
  verifyRspauth,
} from '../../../src/hadoop/sasl';
import { Token } from '../../../src/hadoop/security';

describe('DIGEST-MD5 (RFC 2831, md5-sess, qop auth)', () => {
  test('RFC 2831 section 4 example: response and rspauth', () => {
    const challenge = 'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8';
    const step = respondToChallenge(challenge, {
      username: 'chris',
      password: 'secret',
      protocol: 'imap',
      serverId: 'elwood.innosoft.com',
      cnonce: 'OA6MHXh6VqTrRk',
    });
    const d = parseDigestDirectives(step.response);
    expect(d.get('response')).toBe('d388dad90d4bbd760a152321f2143af7');
    expect(step.expectedRspauth).toBe('ea40f60335c427b5527b84dbabcdfffd');
    expect(d.get('digest-uri')).toBe('imap/elwood.innosoft.com');
    expect(d.get('nc')).toBe('00000001');
    expect(d.get('qop')).toBe('auth');
    expect(() => verifyRspauth('rspauth=ea40f60335c427b5527b84dbabcdfffd', step.expectedRspauth)).not.toThrow();
    expect(() => verifyRspauth('rspauth=00000000000000000000000000000000', step.expectedRspauth)).toThrow(/does not match/);
  });

  test('Hadoop TOKEN shape: Base64 identifier/password, realm default, digest-uri /default', () => {
    // Expected values computed independently (Python hashlib) from the RFC 2831 formulas.
    const challenge =
      'realm="default",nonce="Nk9hZGNqZWx1dGxvY3VobWZ2ZmxqZ3d0cm9uY2h6",qop="auth",charset=utf-8,algorithm=md5-sess';
    const step = respondToChallenge(challenge, {
      username: Buffer.from(Uint8Array.from({ length: 20 }, (_, i) => i + 1)).toString('base64'),
      password: Buffer.from(Uint8Array.from({ length: 20 }, (_, i) => i + 100)).toString('base64'),
      protocol: '',
      serverId: 'default',
      cnonce: 'Y25vbmNlLWZpeGVkLWZvci10ZXN0LW9ubHktMDEy',
    });
    const d = parseDigestDirectives(step.response);
    expect(d.get('username')).toBe('AQIDBAUGBwgJCgsMDQ4PEBESExQ=');
    expect(d.get('realm')).toBe('default');
    expect(d.get('digest-uri')).toBe('/default');
    expect(d.get('charset')).toBe('utf-8');
    expect(d.has('authzid')).toBe(false);
    expect(d.get('response')).toBe('3e82101a5724660955774c200fcedae6');
    expect(step.expectedRspauth).toBe('e686612b5f566af9ca60b27344561f13');
  });

  test('a server demanding privacy with no cipher horn implements gets a clear error naming hadoop.rpc.protection and the ciphers', () => {
    const challenge = 'realm="default",nonce="abc",qop="auth-conf",cipher="rc4,des",charset=utf-8,algorithm=md5-sess';
    expect(() => respondToChallenge(challenge, { username: 'u', password: 'p', protocol: '', serverId: 'default' })).toThrow(SaslQopUnsupportedError);
    expect(() => respondToChallenge(challenge, { username: 'u', password: 'p', protocol: '', serverId: 'default' })).toThrow(/auth-conf with ciphers rc4,des.*hadoop.rpc.protection privacy.*3des/);
  });

  test('with a security layer, A2 carries the 32 zeros and the response names qop and cipher', () => {
    const base = { username: 'u', password: 'p', protocol: '', serverId: 'default', cnonce: 'c' };
    const integrity = respondToChallenge('realm="default",nonce="n",qop="auth-int",algorithm=md5-sess', base);
    const privacy = respondToChallenge('realm="default",nonce="n",qop="auth-conf",cipher="3des,rc4",algorithm=md5-sess', base);
    const plain = respondToChallenge('realm="default",nonce="n",qop="auth",algorithm=md5-sess', base);
    expect(integrity.qop).toBe('auth-int');
    expect(privacy.qop).toBe('auth-conf');
    expect(privacy.cipher).toBe('3des');
    expect(parseDigestDirectives(privacy.response).get('cipher')).toBe('3des');
    expect(parseDigestDirectives(integrity.response).has('cipher')).toBe(false);
    // Same H(A1) (same user, nonce, cnonce), different A2: different responses.
    expect(integrity.ha1).toEqual(plain.ha1);
    expect(parseDigestDirectives(integrity.response).get('response')).not.toBe(parseDigestDirectives(plain.response).get('response'));
  });

  test('directive parser handles quoted commas and escapes', () => {
    const d = parseDigestDirectives('a="x,y",b=2, c="q\\"z"');
    expect([...d]).toEqual([
      ['a', 'x,y'],
      ['b', '2'],
      ['c', 'q"z'],
    ]);
  });
});

describe('Hadoop SASL negotiation messages', () => {
  const token: Token = { identifier: Buffer.from('id'), password: Buffer.from('pw'), kind: 'YARN_AM_RM_TOKEN', service: '' };
  const challenge = Buffer.from('realm="default",nonce="n0nce",qop="auth",charset=utf-8,algorithm=md5-sess');
  const negotiateReply = (): SaslMessage =>
    saslCodec.decode(
      saslCodec.encode({ state: 'NEGOTIATE', auths: [{ method: 'TOKEN', mechanism: 'DIGEST-MD5', protocol: '', serverId: 'default', challenge }] }),
    );

  test('INITIATE echoes the SaslAuth with protocol="" present and without the challenge', () => {
    const step = buildInitiate(token, negotiateReply(), 'fixedcnonce')!;
    const wire = Buffer.from(saslCodec.encode(step.initiate)).toString('hex');
    // auths[0] = method TOKEN, mechanism DIGEST-MD5, protocol "" (1a00), serverId default; no field 5.
    const authHex = Buffer.from(saslCodec.encode({ state: 'INITIATE', auths: [{ method: 'TOKEN', mechanism: 'DIGEST-MD5', protocol: '', serverId: 'default' }] }))
      .toString('hex')
      .slice(4);
    expect(wire.endsWith(authHex)).toBe(true);
    expect(authHex).toContain('1a00');
    expect(step.initiate.auths).toHaveLength(1);
    expect(step.initiate.auths![0]).not.toHaveProperty('challenge');
    const directives = parseDigestDirectives(Buffer.from(step.initiate.token!).toString());
    expect(directives.get('username')).toBe(Buffer.from('id').toString('base64'));
    expect(directives.get('nonce')).toBe('n0nce');
  });

  test('echo keeps absent fields absent', () => {
    const decoded = saslCodec.decode(saslCodec.encode({ state: 'NEGOTIATE', auths: [{ method: 'TOKEN', mechanism: 'DIGEST-MD5' }] }));
    expect(Object.keys(echoSaslAuth(decoded.auths![0]!))).toEqual(['method', 'mechanism']);
  });

  test('SUCCESS to NEGOTIATE means a SIMPLE server: no authentication step', () => {
    expect(buildInitiate(token, { state: 'SUCCESS' })).toBeUndefined();
  });

  test('a server without TOKEN is refused with the offered list', () => {
    expect(() => buildInitiate(token, { state: 'NEGOTIATE', auths: [{ method: 'KERBEROS', mechanism: 'GSSAPI' }] })).toThrow(/KERBEROS\/GSSAPI/);
  });

  test('SUCCESS must carry the matching rspauth', () => {
    const step = buildInitiate(token, negotiateReply(), 'c')!;
    expect(() => checkSuccess({ state: 'SUCCESS', token: Buffer.from(`rspauth=${step.state.expectedRspauth}`) }, step.state)).not.toThrow();
    expect(() => checkSuccess({ state: 'SUCCESS' }, step.state)).toThrow(/no rspauth/);
    expect(() => checkSuccess({ state: 'CHALLENGE' }, step.state)).toThrow(/expected SUCCESS/);
  });
});
