import { requestTimeoutMs } from '../../../src/client/context';
import { formatDuration, formatFields, formatTable } from '../../../src/client/format';
import { killApplication } from '../../../src/client/commands/kill';
import { formatList, sortApplications } from '../../../src/client/commands/list';
import { discoverContainers, readNewLogs, siblingContainerId } from '../../../src/client/commands/logs';
import {
  NodeManagerLogs,
  containerBelongsTo,
  parseLogFileList,
  unframeContainerLog,
  type ContainerRef,
  type LogFileInfo,
} from '../../../src/hadoop/nm-rest/logs';
import { applicationStatus, formatStatus, requireApplicationId } from '../../../src/client/commands/status';
import { outcomeError, outcomeOutput } from '../../../src/client/commands/submit';
import { exitCodeFor } from '../../../src/client/exit-codes';
import { RESULT_MARKER } from '../../../src/protocol';
import type { ApplicationReport, ResourceManagerClient } from '../../../src/hadoop/rm-rest/client';

const report = (over: Partial<ApplicationReport> = {}): ApplicationReport => ({
  id: 'application_1700000000000_0007',
  user: 'alice',
  name: 'mnist',
  queue: 'root.default',
  state: 'RUNNING',
  finalStatus: 'UNDEFINED',
  progress: 42.456,
  trackingUrl: 'http://rm:8088/proxy/application_1700000000000_0007/',
  diagnostics: '',
  applicationType: 'HORN',
  applicationTags: 'a,b',
  startedTime: 1_700_000_000_000,
  finishedTime: 0,
  elapsedTime: 125_000,
  ...over,
});

describe('status', () => {
  test('application ids are checked before any request', () => {
    expect(requireApplicationId(' application_1_0001 ')).toBe('application_1_0001');
    expect(() => requireApplicationId('app_1')).toThrow(expect.objectContaining({ kind: 'input' }));
    expect(() => requireApplicationId(undefined)).toThrow(/not an application id/);
  });

  test('the JSON view and the text view', () => {
    const s = applicationStatus(report());
    expect(s).toEqual({
      id: 'application_1700000000000_0007',
      name: 'mnist',
      type: 'HORN',
      user: 'alice',
      queue: 'root.default',
      state: 'RUNNING',
      finalStatus: 'UNDEFINED',
      progress: 42.5,
      trackingUrl: 'http://rm:8088/proxy/application_1700000000000_0007/',
      diagnostics: undefined,
      tags: ['a', 'b'],
      startedTime: '2023-11-14T22:13:20.000Z',
      finishedTime: undefined,
      elapsedMs: 125_000,
      amHost: undefined,
      amContainerLogs: undefined,
    });
    const text = formatStatus(s);
    expect(text).toContain('State:        RUNNING\n');
    expect(text).toContain('Progress:     42.5%\n');
    expect(text).toContain('Elapsed:      2m05s\n');
    expect(text).not.toContain('Finished');
    expect(text).not.toContain('Diagnostics');
  });
});

describe('list', () => {
  test('newest first, as a table with the tracking URL as `yarn application -list` has it', () => {
    const older = report({ id: 'application_1700000000000_0001', startedTime: 1, state: 'FINISHED', finalStatus: 'SUCCEEDED', progress: 100 });
    const newer = report();
    const sorted = sortApplications([older, newer]);
    expect(sorted.map((a) => a.id)).toEqual([newer.id, older.id]);
    expect(formatList(sorted)).toBe(
      [
        'APPLICATION                     STATE     FINAL      PROGRESS  ELAPSED  QUEUE         USER   NAME   TRACKING URL',
        'application_1700000000000_0007  RUNNING   UNDEFINED  42%       2m05s    root.default  alice  mnist  http://rm:8088/proxy/application_1700000000000_0007/',
        'application_1700000000000_0001  FINISHED  SUCCEEDED  100%      2m05s    root.default  alice  mnist  http://rm:8088/proxy/application_1700000000000_0007/',
        '',
      ].join('\n'),
    );
    expect(formatList([])).toBe('no applications\n');
  });

  test('a killed or failed application shows no progress (the RM says 100 %)', () => {
    const killed = report({ state: 'KILLED', finalStatus: 'KILLED', progress: 100, trackingUrl: '' });
    expect(formatList([killed]).split('\n')[1]).toBe('application_1700000000000_0007  KILLED  KILLED  -         2m05s    root.default  alice  mnist  -');
    expect(applicationStatus(killed).progress).toBeUndefined();
    expect(formatStatus(applicationStatus(killed))).not.toContain('Progress');
    expect(applicationStatus(report({ state: 'FAILED', finalStatus: 'FAILED', progress: 100 })).progress).toBeUndefined();
    expect(applicationStatus(report({ state: 'FINISHED', finalStatus: 'FAILED', progress: 100 })).progress).toBeUndefined();
    expect(applicationStatus(report({ state: 'FINISHED', finalStatus: 'SUCCEEDED', progress: 100 })).progress).toBe(100);
  });
});

describe('the job result in status, list and submit', () => {
  const diagnostics = `trained mnist: test accuracy 98.63%, model /m\n${RESULT_MARKER}{"type":"result","id":7,"testAccuracy":0.9863,"model":"/user/alice/m","seconds":127.5,"containers":[{"role":"worker","index":0}]}`;

  test('parsed into `result` (passed through, without the frame header), diagnostics without the marker line', () => {
    const s = applicationStatus(report({ state: 'FINISHED', finalStatus: 'SUCCEEDED', progress: 100, diagnostics }));
    expect(s.diagnostics).toBe('trained mnist: test accuracy 98.63%, model /m');
    expect(s.result).toEqual({ testAccuracy: 0.9863, model: '/user/alice/m', seconds: 127.5, containers: [{ role: 'worker', index: 0 }] });
    expect(JSON.stringify(s)).not.toContain(RESULT_MARKER.trim());
    expect(formatStatus(s)).toContain('Test accuracy: 98.63%\nModel:         /user/alice/m\n');
  });

  test('submit --json prints exactly the status document, on one line', () => {
    const status = applicationStatus(report({ state: 'FINISHED', finalStatus: 'SUCCEEDED', progress: 100, diagnostics }));
    const line = outcomeOutput({ status, wait: 'ended', seconds: 151.2 }, true);
    expect(line).toBe(`${JSON.stringify(status)}\n`);
    expect(line.trimEnd()).not.toContain('\n');
  });

  test('submit: the summary names accuracy, epochs, training and wall time, then the model', () => {
    const status = applicationStatus(report({ state: 'FINISHED', finalStatus: 'SUCCEEDED', diagnostics: `${RESULT_MARKER}{"testAccuracy":0.9863,"model":"/user/alice/m","seconds":127.46,"epochs":1}` }));
    expect(outcomeOutput({ status, wait: 'ended', seconds: 151.24 }, false)).toBe(
      'application_1700000000000_0007 FINISHED/SUCCEEDED: test accuracy 98.63%, 1 epoch, training 127.5 s of 151.2 s elapsed\nmodel: /user/alice/m\n',
    );
    expect(outcomeError({ status, wait: 'ended', seconds: 1 }, undefined)).toBeUndefined();
  });

  test('submit --timeout and --detach print the application id on stdout; the timeout exits 5, a kill 3', () => {
    const running = applicationStatus(report());
    expect(outcomeOutput({ status: running, wait: 'timedOut', seconds: 5 }, false)).toBe('application_1700000000000_0007\n');
    expect(outcomeOutput({ status: running, wait: 'submitted', seconds: 1 }, false)).toBe('application_1700000000000_0007\n');
    const timeout = outcomeError({ status: running, wait: 'timedOut', seconds: 5 }, 5);
    expect(timeout?.message).toBe('timed out after 5 s; application_1700000000000_0007 is still RUNNING and keeps running');
    expect(exitCodeFor(timeout)).toBe(5);
    const killed = applicationStatus(report({ state: 'KILLED', finalStatus: 'KILLED', diagnostics: 'Application application_1700000000000_0007 was killed by user alice at 127.0.0.1' }));
    const error = outcomeError({ status: killed, wait: 'ended', seconds: 9 }, undefined);
    expect(error?.message).toBe('application_1700000000000_0007 was killed: Application application_1700000000000_0007 was killed by user alice at 127.0.0.1');
    expect(exitCodeFor(error)).toBe(3);
  });
});

describe('format helpers', () => {
  test('durations, tables and fields', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59_999)).toBe('59s');
    expect(formatDuration(3_600_000 + 3 * 60_000)).toBe('1h03m');
    expect(formatDuration(-1)).toBe('-');
    expect(formatTable(['A', 'BB'], [['xxx', 'y']])).toBe('A    BB\nxxx  y\n');
    expect(formatFields([['K', 'v'], ['Long key', 'a\nb'], ['Gone', undefined]])).toBe('K:        v\nLong key: a\n          b\n');
  });
});

describe('context timeouts', () => {
  test('rounds × URLs × timeout + back-off stays within the unreachable budget', () => {
    for (const urls of [1, 2, 3]) {
      const t = requestTimeoutMs(urls);
      expect(3 * urls * t + 300 + 600).toBeLessThanOrEqual(24_000);
    }
    expect(requestTimeoutMs(1)).toBe(7_700);
  });
});

describe('kill', () => {
  const fakeRm = (states: string[]) => {
    const calls: string[] = [];
    let i = 0;
    const rm = {
      async getApplication(id: string) {
        calls.push('get');
        const state = states[Math.min(i++, states.length - 1)];
        return report({ id, state: state as ApplicationReport['state'], finalStatus: state === 'KILLED' ? 'KILLED' : state === 'FINISHED' ? 'SUCCEEDED' : 'UNDEFINED' });
      },
      async killApplication() {
        calls.push('kill');
        return 'ACCEPTED';
      },
    } as unknown as ResourceManagerClient;
    return { rm, calls };
  };

  test('an application that has already ended is not killed again', async () => {
    const { rm, calls } = fakeRm(['FINISHED']);
    await expect(killApplication({ rm }, 'application_1_0001', 5, 1)).resolves.toMatchObject({ outcome: 'ended', state: 'FINISHED', finalStatus: 'SUCCEEDED' });
    expect(calls).toEqual(['get']);
  });

  test('a running application is killed and waited for', async () => {
    const { rm, calls } = fakeRm(['RUNNING', 'RUNNING', 'KILLED']);
    await expect(killApplication({ rm }, 'application_1_0001', 5, 1)).resolves.toMatchObject({ outcome: 'killed', state: 'KILLED' });
    expect(calls[0]).toBe('get');
    expect(calls[1]).toBe('kill');
  });

  test('one that does not end in time is a timeout (exit 5)', async () => {
    const { rm } = fakeRm(['RUNNING']);
    await expect(killApplication({ rm }, 'application_1_0001', 0.05, 5)).rejects.toMatchObject({ kind: 'timeout' });
  });
});

describe('logs: pure parts', () => {
  const framed = (content: string, file = 'stdout') =>
    Buffer.from(
      `Container: container_1_0001_01_000001 on node1.test:8041\nLogAggregationType: LOCAL\n${'='.repeat(68)}\nLogType:${file}\nLogLastModifiedTime:Sun Nov 22 03:39:58 +0000 2026\nLogLength:${Buffer.byteLength(content)}\nLogContents:\n${content}\nEnd of LogType:${file}.\n${'*'.repeat(100)}\n\n`,
    );

  test('the NM framing is removed, byte-exact (multi-byte characters, trailing newlines, "LogContents:" inside the file)', () => {
    for (const content of ['', 'line 1\nline 2\n', 'héllo → 世界\n\n', 'LogContents:\nEnd of LogType:stdout\n']) {
      expect(unframeContainerLog(framed(content)).toString('utf8')).toBe(content);
    }
    expect(unframeContainerLog(Buffer.from('plain')).toString()).toBe('plain');
  });

  test('log file lists in the NM shapes', () => {
    const one = { containerLogsInfo: { containerLogInfo: [{ fileName: 'stdout', fileSize: '12' }, { fileName: 'stderr', fileSize: '0' }], containerId: 'c' } };
    expect(parseLogFileList(one)).toEqual([{ fileName: 'stdout', fileSize: 12 }, { fileName: 'stderr', fileSize: 0 }]);
    expect(parseLogFileList({ containerLogsInfo: { containerLogInfo: { fileName: 'stdout', fileSize: 3 } } })).toEqual([{ fileName: 'stdout', fileSize: 3 }]);
    expect(parseLogFileList([one, one])).toHaveLength(2);
    expect(parseLogFileList({ containerLogsInfo: { containerId: 'c' } })).toEqual([]);
  });

  test('container ids of an application', () => {
    expect(siblingContainerId('container_1700000000000_0007_01_000001', 12)).toBe('container_1700000000000_0007_01_000012');
    expect(siblingContainerId('container_e03_1700000000000_0007_02_000001', 2)).toBe('container_e03_1700000000000_0007_02_000002');
    expect(containerBelongsTo('container_e03_1700000000000_0007_02_000002', 'application_1700000000000_0007')).toBe(true);
    expect(containerBelongsTo('container_1700000000000_0070_01_000002', 'application_1700000000000_0007')).toBe(false);
    expect(containerBelongsTo('nonsense', 'application_1700000000000_0007')).toBe(false);
  });
});

describe('logs: discovery and incremental reads against fakes', () => {
  const app = 'application_1700000000000_0007';
  const am = 'container_1700000000000_0007_01_000001';
  // node1 ran the AM and container 2; node2 ran container 4 (3 was never launched); node3 never saw the app.
  const files: Record<string, Record<string, string>> = {
    [`node1:8042/${am}`]: { stdout: 'am out\n', stderr: '' },
    'node1:8042/container_1700000000000_0007_01_000002': { stdout: 'w2\n' },
    'node2:8042/container_1700000000000_0007_01_000004': { stdout: 'w4\n' },
  };
  const fakeNm = () => {
    const nm = new NodeManagerLogs('alice');
    Object.assign(nm, {
      containers: async (node: string) => (node === 'node2:8042' ? [{ containerId: 'container_1700000000000_0007_01_000004', nodeHttpAddress: node, am: false }] : []),
      knowsApplication: async (node: string) => node !== 'node3:8042',
      logFiles: async (node: string, c: string): Promise<LogFileInfo[] | undefined> =>
        Object.entries(files[`${node}/${c}`] ?? {}).map(([fileName, text]) => ({ fileName, fileSize: Buffer.byteLength(text) })),
      read: async (node: string, c: string, f: string) => {
        const text = files[`${node}/${c}`]?.[f];
        return text === undefined ? undefined : Buffer.from(text);
      },
    });
    return nm;
  };
  const rm = {
    appAttempts: async () => [{ id: 1, containerId: am, nodeHttpAddress: 'node1:8042', nodeId: 'node1:8041', logsLink: '' }],
    nodes: async () => ['node1:8042', 'node2:8042', 'node3:8042'].map((nodeHTTPAddress) => ({ nodeHTTPAddress })),
  } as unknown as ResourceManagerClient;

  test('the AM, listed containers and probed finished containers, AM first', async () => {
    const found = await discoverContainers(rm, fakeNm(), app, { probe: true, gap: 4 });
    expect(found).toEqual<ContainerRef[]>([
      { containerId: am, nodeHttpAddress: 'node1:8042', am: true },
      { containerId: 'container_1700000000000_0007_01_000002', nodeHttpAddress: 'node1:8042', am: false },
      { containerId: 'container_1700000000000_0007_01_000004', nodeHttpAddress: 'node2:8042', am: false },
    ]);
    const cheap = await discoverContainers(rm, fakeNm(), app, { probe: false });
    expect(cheap.map((c) => c.containerId)).toEqual([am, 'container_1700000000000_0007_01_000004']);
  });

  test('reads print only new bytes', async () => {
    const nm = fakeNm();
    const containers = await discoverContainers(rm, nm, app, { probe: true, gap: 4 });
    const offsets = new Map<string, number>();
    const first = await readNewLogs(nm, containers, ['stdout', 'stderr'], offsets);
    expect(first.map((c) => `${c.containerId.slice(-2)}/${c.file}:${c.data.toString()}`)).toEqual(['01/stdout:am out\n', '02/stdout:w2\n', '04/stdout:w4\n']);
    files[`node1:8042/${am}`].stdout += 'more\n';
    const second = await readNewLogs(nm, containers, ['stdout', 'stderr'], offsets);
    expect(second.map((c) => c.data.toString())).toEqual(['more\n']);
    expect(await readNewLogs(nm, containers, ['stdout'], offsets)).toEqual([]);
  });
});
