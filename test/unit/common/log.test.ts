import { Writable } from 'node:stream';
import { createLogger, logLevelFrom, redact, REDACTED } from '../../../src/common/log';

function capture(): { lines: () => Record<string, unknown>[]; destination: Writable } {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { lines: () => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), destination };
}

const identity = { role: 'worker' as const, index: 3, containerId: 'container_1_0001_01_000004', applicationId: 'application_1_0001', host: 'node2.test' };

describe('structured logs', () => {
  test('JSON lines carry level, ISO time, role, index, container and application ids', () => {
    const out = capture();
    const log = createLogger(identity, { env: {}, destination: out.destination });
    log.info({ epoch: 2, loss: 0.25 }, 'epoch done');
    log.debug('not at info');
    const [line, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: 'info', ...identity, epoch: 2, loss: 0.25, msg: 'epoch done' });
    expect(String(line!.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line).not.toHaveProperty('pid');
  });

  test('HORN_LOG_LEVEL sets the level; a wrong one is an error naming it', () => {
    expect(logLevelFrom({})).toBe('info');
    expect(logLevelFrom({ HORN_LOG_LEVEL: ' DEBUG ' })).toBe('debug');
    expect(() => logLevelFrom({ HORN_LOG_LEVEL: 'verbose' })).toThrow('HORN_LOG_LEVEL="verbose" is not a log level (expected one of trace, debug, info, warn, error, fatal, silent)');
    const out = capture();
    createLogger(identity, { env: { HORN_LOG_LEVEL: 'debug' }, destination: out.destination }).debug('shown');
    expect(out.lines().map((l) => l.msg)).toEqual(['shown']);
  });

  test('secret-named fields at any depth are redacted, bytes are logged as their length, in children too', () => {
    const out = capture();
    const log = createLogger({ role: 'am', applicationId: 'application_1_0001' }, { env: {}, destination: out.destination });
    const secret = Buffer.from('0123456789abcdef0123456789abcdef');
    log.info({ secret: 'hunter2', nested: { amrmToken: { identifier: 'abc', password: 'pw' }, list: [{ apiKey: 'k', fine: 1 }] }, key: secret, Authorization: 'Basic x' }, 'launching');
    log.child({ sessionToken: 't0k3n', peer: 'node1.test' }).child({ cookie: 'c00kie' }).warn({ bytes: new Uint8Array(5) }, 'child');
    const text = JSON.stringify(out.lines());
    for (const leaked of ['hunter2', 'pw', '"k"', 't0k3n', 'c00kie', 'Basic x', secret.toString(), secret.toString('base64'), secret.toString('hex')]) expect(text).not.toContain(leaked);
    const [first, second] = out.lines();
    expect(first).toMatchObject({ secret: REDACTED, nested: { amrmToken: REDACTED, list: [{ apiKey: REDACTED, fine: 1 }] }, key: '[32 bytes]', Authorization: REDACTED });
    expect(second).toMatchObject({ sessionToken: REDACTED, cookie: REDACTED, peer: 'node1.test', bytes: '[5 bytes]' });
  });

  test('errors keep their message and stack; cycles and depth do not break a line', () => {
    const out = capture();
    const log = createLogger(identity, { env: {}, destination: out.destination });
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    log.error({ err: new Error('boom'), a }, 'failed');
    const [line] = out.lines();
    expect(line).toMatchObject({ msg: 'failed', err: { message: 'boom', type: 'Error' }, a: { name: 'a', self: '[circular]' } });
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 20; i++) deep = { deep };
    expect(JSON.stringify(redact(deep))).toContain('[nested too deep]');
  });
});
