import { LogLines, readableLogLine } from '../../../src/client/commands/logs';
import { runReport } from '../../../src/client/commands/report';
import { runStatus } from '../../../src/client/commands/status';
import { historyFilesOf, readFinalHistory, summarizeTraining } from '../../../src/client/history';
import { HdfsNotFoundError } from '../../../src/hadoop/webhdfs/client';
import type { ApplicationReport } from '../../../src/hadoop/rm-rest/client';
import { resultLine } from '../../../src/protocol';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticRun } from '../../support/synthetic-status';

describe('horn logs: readable lines', () => {
  test('a structured line becomes time, level, role and index, message, fields', () => {
    const line = JSON.stringify({ level: 'info', time: '2026-11-22T10:11:12.345Z', role: 'worker', index: 3, containerId: 'c', applicationId: 'a', host: 'h', msg: 'epoch done', epoch: 2, loss: 0.25, note: 'two words' });
    expect(readableLogLine(line)).toBe('10:11:12.345 INFO  worker 3 epoch done epoch=2 loss=0.25 note="two words"');
    expect(readableLogLine(JSON.stringify({ level: 'warn', time: '2026-11-22T10:11:12.345Z', role: 'am', msg: 'slow', who: { worker: 1 } }))).toBe('10:11:12.345 WARN  am       slow who={"worker":1}');
  });

  test('an error shows its stack indented; other lines pass unchanged', () => {
    const line = JSON.stringify({ level: 'error', time: '2026-11-22T10:11:12.345Z', role: 'server', index: 0, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' } });
    expect(readableLogLine(line)).toBe('10:11:12.345 ERROR server 0 failed\n    Error: boom\n        at x');
    for (const plain of ['plain text', '{not json', '{"a":1}', '']) expect(readableLogLine(plain)).toBe(plain);
  });

  test('lines split across reads are held until complete', () => {
    const lines = new LogLines();
    expect(lines.push('a', Buffer.from('one\ntw'))).toEqual(['one']);
    expect(lines.push('b', Buffer.from('x\n'))).toEqual(['x']);
    expect(lines.push('a', Buffer.from('o\nthree'))).toEqual(['two']);
    expect(lines.flush('a')).toBe('three');
    expect(lines.flush('a')).toBeUndefined();
  });
});

const run = syntheticRun();
const model = '/user/u/models/m';
const app = (over: Partial<ApplicationReport> = {}): ApplicationReport =>
  ({ id: 'application_1_0007', name: 'm', user: 'u', queue: 'default', state: 'FINISHED', finalStatus: 'SUCCEEDED', progress: 100, applicationType: 'HORN', startedTime: 1, finishedTime: 2, elapsedTime: 1, diagnostics: `done\n${resultLine({ model, testAccuracy: 0.97 })}`, ...over }) as ApplicationReport;
const files: Record<string, string> = {
  [`${model}.history.json`]: JSON.stringify(run.finished()),
  [`${model}.report.html`]: '<!doctype html><p>report</p>',
};
const hdfs = {
  readFile: async (path: string) => {
    if (!(path in files)) throw new HdfsNotFoundError(path, 'File does not exist');
    return Buffer.from(files[path]!);
  },
};

describe('history after the job', () => {
  test('files are found from the model in the final diagnostics; none while running or without a model', () => {
    expect(historyFilesOf(app())).toEqual({ history: `${model}.history.json`, report: `${model}.report.html`, tensorboard: `${model}.tensorboard` });
    expect(historyFilesOf(app({ state: 'RUNNING', trackingUrl: 'http://rm/proxy/application_1_0007/' }))).toEqual({ missing: 'application_1_0007 is still RUNNING; its live page is the tracking URL http://rm/proxy/application_1_0007/' });
    expect(historyFilesOf(app({ finalStatus: 'FAILED', diagnostics: 'worker 0 failed' }))).toEqual({ missing: 'application_1_0007 ended FAILED without a model in its final diagnostics, so it left no history' });
  });

  test('the summary has the final curves\' key numbers', async () => {
    const found = await readFinalHistory(hdfs, app());
    const s = summarizeTraining(found!.doc, found!.files);
    const last = run.finished().history!.epochs.at(-1)!;
    expect(s).toMatchObject({ epochs: 8, finalLoss: last.loss, validationAccuracy: last.validationAccuracy, report: `${model}.report.html` });
    expect(s.samplesPerSecond).toBeGreaterThan(5000);
    expect(await readFinalHistory(hdfs, app({ diagnostics: resultLine({ model: '/elsewhere' }) }))).toBeUndefined();
  });

  test('horn status adds them after the end; a history that cannot be read is only a warning', async () => {
    const rm = { getApplication: async () => app() };
    const text = await runStatus({ rm, hdfs } as never, { app: 'application_1_0007', json: false });
    expect(text).toMatch(/Final status: +SUCCEEDED/);
    expect(text).toMatch(/Validation accuracy: +\d+\.\d\d%/);
    expect(text).toMatch(/Epochs: +8/);
    const json = JSON.parse(await runStatus({ rm, hdfs } as never, { app: 'application_1_0007', json: true }));
    expect(json.training.epochs).toBe(8);
    const broken = { readFile: async () => Buffer.from('{"version":9}') };
    const warn = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const plain = await runStatus({ rm, hdfs: broken } as never, { app: 'application_1_0007', json: false });
      expect(plain).not.toMatch(/Epochs/);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/could not read the training history of application_1_0007: .*status version 9/);
    } finally {
      warn.mockRestore();
    }
  });

  test('horn report writes report.html to a file or stdout, and says why when there is none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'horn-report-'));
    const out: string[] = [];
    const rm = { getApplication: async () => app() };
    await runReport({ rm, hdfs } as never, { app: 'application_1_0007', output: join(dir, 'r.html'), json: false }, (s) => out.push(String(s)));
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toBe(files[`${model}.report.html`]);
    expect(out).toEqual([`${join(dir, 'r.html')}\n`]);
    out.length = 0;
    await runReport({ rm, hdfs } as never, { app: 'application_1_0007', output: '-', json: false }, (s) => out.push(String(s)));
    expect(out).toEqual([files[`${model}.report.html`]]);
    const running = { getApplication: async () => app({ state: 'RUNNING' }) };
    await expect(runReport({ rm: running, hdfs } as never, { app: 'application_1_0007', json: false })).rejects.toMatchObject({ kind: 'input', message: expect.stringMatching(/is still RUNNING/) });
    const gone = { getApplication: async () => app({ diagnostics: resultLine({ model: '/gone' }) }) };
    await expect(runReport({ rm: gone, hdfs } as never, { app: 'application_1_0007', json: false })).rejects.toThrow('application_1_0007 has no report at /gone.report.html');
    await expect(runReport({ rm, hdfs } as never, { app: 'nope', json: false })).rejects.toMatchObject({ kind: 'input' });
  });
});
