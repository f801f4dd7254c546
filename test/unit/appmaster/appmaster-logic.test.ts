import { describeFailure, exitMeaning, tailLines } from '../../../src/coordinator/diagnostics';
import { hostsByLocalBytes, preferredHost } from '../../../src/appmaster/placement';
import { JobStatus } from '../../../src/coordinator/status';
import { renderLivePage } from '../../../src/appmaster/web/html';

describe('placement', () => {
  const blocks = [
    { offset: 0, length: 100, hosts: ['node1.test', 'node2.test'] },
    { offset: 100, length: 100, hosts: ['node2.test', 'node3.test'] },
    { offset: 200, length: 40, hosts: ['node3.test', 'node1.test'] },
  ];
  test('orders hosts by the bytes of the input they hold', () => {
    expect(hostsByLocalBytes(blocks)).toEqual([
      { host: 'node2.test', bytes: 200 },
      { host: 'node1.test', bytes: 140 },
      { host: 'node3.test', bytes: 140 },
    ]);
  });
  test('prefers the best host YARN can schedule on', () => {
    expect(preferredHost(blocks, new Set())).toBe('node2.test');
    expect(preferredHost(blocks, new Set(['node3.test', 'node9.test']))).toBe('node3.test');
    expect(preferredHost(blocks, new Set(['node9.test']))).toBeUndefined();
    expect(preferredHost([], new Set())).toBeUndefined();
  });
});

describe('failure diagnostics', () => {
  const log = 'line 1\n\nline 2  \nError: boom\n';
  test('keeps the last non-empty lines of a log', () => {
    expect(tailLines(log, 2)).toEqual(['line 2', 'Error: boom']);
    expect(tailLines(log, 10)).toEqual(['line 1', 'line 2', 'Error: boom']);
    expect(tailLines('plain\ntext\n', 5)).toEqual(['plain', 'text']);
  });
  test('names role, index, container, host, exit status and stderr', () => {
    const d = describeFailure({ role: 'worker', index: 0, containerId: 'container_1_0001_01_000002', host: 'node2.test', exitStatus: 1, diagnostics: 'Exception from container-launch', stderrTail: ['Error: boom'] });
    expect(d).toContain('worker 0 (container container_1_0001_01_000002 on node2.test) failed with exit status 1 (exit code 1)');
    expect(d).toContain('NodeManager diagnostics: Exception from container-launch');
    expect(d).toMatch(/last lines of stderr:\n {2}Error: boom/);
  });
  test('explains YARN exit statuses and signals', () => {
    expect(exitMeaning(-104)).toBe('killed: exceeded physical memory');
    expect(exitMeaning(137)).toBe('killed by signal 9');
    expect(exitMeaning(3)).toBe('exit code 3');
  });
});

describe('status', () => {
  const shape = { applicationId: 'application_1_0001', name: '<job>', epochs: 10, workers: 4, groups: [[0, 1], [2, 3]], servers: 2, consistency: { mode: 'ssp' as const, staleness: 2 } };
  test('progress follows the workers, reaches 1 only on success, and the page escapes names', () => {
    const s = new JobStatus({ ...shape, workers: 2, groups: [[0, 1]], servers: 0 }, 0);
    s.workerReport(0, { phase: 'training', epoch: 3, fraction: 0.5, samplesPerSecond: 100 });
    s.workerReport(1, { phase: 'training', epoch: 2, fraction: 0.25, samplesPerSecond: 50 });
    expect(s.doc.progress).toBeCloseTo(0.02 + 0.95 * 0.375);
    expect(s.doc.samplesPerSecond).toBe(150);
    expect(s.doc.phase).toBe('training');
    s.finish({ phase: 'failed', diagnostics: 'worker 1 failed' });
    expect(s.doc.progress).toBeLessThan(1);
    expect(renderLivePage(s.doc)).toContain('horn: &#60;job&#62;');
    s.finish({ phase: 'succeeded', testAccuracy: 0.98 });
    expect(s.doc.progress).toBe(1);
  });
  test('group clocks are their slowest member, the global clock the slowest group; phases never go back', () => {
    const s = new JobStatus(shape, 0);
    expect(s.doc.containers.map((c) => `${c.role}${c.index}/${c.group ?? '-'}`)).toEqual(['worker0/0', 'worker1/0', 'worker2/1', 'worker3/1', 'server0/-', 'server1/-']);
    s.workerReport(0, { phase: 'training', clock: 10 });
    s.workerReport(1, { clock: 8 });
    s.workerReport(2, { clock: 12 });
    s.workerReport(3, { clock: 13 });
    expect(s.doc.groups.map((g) => g.clock)).toEqual([8, 12]);
    expect(s.doc.clock).toBe(8);
    s.workerReport(0, { phase: 'reading' });
    expect(s.doc.phase).toBe('training');
    s.serverReport(1, { updates: 40, shard: { start: 5, end: 10 } });
    expect(s.container('server', 1)).toMatchObject({ updates: 40, shard: { start: 5, end: 10 } });
    expect(() => s.container('server', 2)).toThrow(/no server 2/);
  });
});
