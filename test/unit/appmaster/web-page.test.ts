import axios from 'axios';
import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHistoryFiles } from '../../../src/appmaster/history-files';
import { startStatusServer } from '../../../src/appmaster/http';
import { decodeEventFile } from '../../../src/appmaster/tensorboard';
import { EMBEDDED_STATUS_ID, PAGE_SCRIPT, renderLivePage, renderReport } from '../../../src/appmaster/web/html';
import { parseJobText } from '../../../src/job/load';
import { historyFiles, parseStatusDocument, type StatusDocument } from '../../../src/protocol';
import { syntheticRun } from '../../support/synthetic-status';

const run = syntheticRun();

describe('the AM web server', () => {
  let server: Server;
  let base: string;
  let doc: () => StatusDocument = run.status;
  beforeAll(async () => {
    const s = await startStatusServer(() => doc(), '127.0.0.1');
    server = s.server;
    base = `http://127.0.0.1:${s.port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  const get = (path: string, headers: Record<string, string> = {}) => axios.get<string>(`${base}${path}`, { responseType: 'text', transformResponse: (x) => x, validateStatus: () => true, headers });

  test('serves the page, its script and styles, light: under 100 KB together, relative links only', async () => {
    const [page, script, style] = await Promise.all([get('/'), get('/page.js'), get('/page.css')]);
    expect([page.status, script.status, style.status]).toEqual([200, 200, 200]);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(style.headers['content-type']).toMatch(/text\/css/);
    expect(page.data).toContain('<title>horn: synthetic-&#60;run&#62;</title>');
    const total = Buffer.byteLength(page.data) + Buffer.byteLength(script.data) + Buffer.byteLength(style.data);
    expect(total).toBeLessThan(100_000);
    // No absolute or external references: the RM proxy serves the page under /proxy/<appId>/.
    const refs = [...page.data.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(refs.sort()).toEqual(['data:,', 'page.css', 'page.js', 'status.json']);
    expect(script.data).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    expect(style.data).not.toMatch(/url\(\s*["']?(https?:|\/)/);
  });

  test('status.json is the provider\'s document; HEAD, 304 on the asset ETag, 404 and 405', async () => {
    const json = await get('/status.json');
    const parsed = parseStatusDocument(json.data, 'status.json');
    expect(parsed.containers).toHaveLength(8);
    expect(parsed.history!.steps.length).toBeGreaterThan(0);
    expect(json.headers['cache-control']).toBe('no-store');
    const head = await axios.head(`${base}/status.json`);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    const script = await get('/page.js');
    expect((await get('/page.js', { 'If-None-Match': String(script.headers.etag) })).status).toBe(304);
    expect((await get('/nope')).status).toBe(404);
    expect((await axios.post(`${base}/status.json`, {}, { validateStatus: () => true })).status).toBe(405);
  });

  test('a provider that throws gives 500 with its message; the server keeps serving', async () => {
    doc = () => {
      throw new Error('no status yet');
    };
    const r = await get('/status.json');
    expect(r.status).toBe(500);
    expect(r.data).toContain('no status yet');
    doc = run.status;
    expect((await get('/status.json')).status).toBe(200);
  });

  test('/report.html is the page frozen with the current document', async () => {
    const r = await get('/report.html');
    expect(r.data).toContain(`id="${EMBEDDED_STATUS_ID}"`);
    expect(r.data).not.toContain('src="page.js"');
  });
});

describe('report.html', () => {
  test('is self-contained: inline styles and script, the document embedded so that no markup can end it', () => {
    const final = { ...run.finished(), name: 'x</script><script>alert(1)</script>', diagnostics: '<!-- </script> \u2028' };
    const html = renderReport(final);
    expect(html).not.toMatch(/<link rel="stylesheet"|<script src=/);
    expect(html).toContain(PAGE_SCRIPT.slice(0, 200));
    const embedded = new RegExp(`<script type="application/json" id="${EMBEDDED_STATUS_ID}">(.*?)</script>`, 's').exec(html)![1]!;
    expect(embedded).not.toMatch(/<\/script/i);
    expect(JSON.parse(embedded)).toEqual(JSON.parse(JSON.stringify(final)));
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the data and the script, nothing injected
  });

  test('the live page escapes the name in its shell', () => {
    expect(renderLivePage({ ...run.status(), name: '<b>' })).toContain('horn: &#60;b&#62;');
  });
});

describe('history files beside the model', () => {
  test('history.json, report.html and, with output.tensorboard, an event file', async () => {
    const written = new Map<string, Buffer>();
    const dirs: string[] = [];
    const hdfs = {
      createAtomically: async (path: string, data: Buffer, options?: { replace?: boolean }) => {
        expect(options?.replace).toBe(true);
        written.set(path, data);
        return true;
      },
      mkdirs: async (path: string) => void dirs.push(path),
    };
    const doc = run.finished();
    const out = await writeHistoryFiles(hdfs, '/user/u/models/m', doc, { tensorboard: true, host: 'node1.test', now: 1_700_000_000_000 });
    expect(out).toEqual({ history: '/user/u/models/m.history.json', report: '/user/u/models/m.report.html', tensorboard: '/user/u/models/m.tensorboard/events.out.tfevents.1700000000.node1.test' });
    expect(historyFiles('/user/u/models/m/')).toMatchObject({ history: '/user/u/models/m.history.json', tensorboard: '/user/u/models/m.tensorboard' });
    expect(dirs).toEqual(['/user/u/models/m.tensorboard']);
    expect(parseStatusDocument(written.get(out.history)!.toString(), 'h').history!.epochs).toHaveLength(8);
    expect(written.get(out.report)!.toString()).toContain(EMBEDDED_STATUS_ID);
    const events = decodeEventFile(written.get(out.tensorboard!)!);
    expect(events.scalars.filter((s) => s.tag === 'validation/accuracy')).toHaveLength(8);

    written.clear();
    expect(await writeHistoryFiles(hdfs, '/m', doc, { tensorboard: false })).toEqual({ history: '/m.history.json', report: '/m.report.html' });
    expect([...written.keys()]).toEqual(['/m.history.json', '/m.report.html']);
  });

  test('output.tensorboard is off by default and must be a boolean', () => {
    const root = join(__dirname, '../../..');
    const defaults = { file: 'job-defaults.yaml', text: readFileSync(join(root, 'conf/job-defaults.yaml'), 'utf8') };
    const job = (extra: string) => ({ file: 'job.yaml', text: `input:\n  format: csv\n  train: d.csv\nmodel:\n  inputSize: 4\n  layers:\n    - { size: 3, activation: softmax }\n${extra}` });
    const plain = parseJobText(job(''), defaults);
    expect(plain.ok && plain.spec.output.tensorboard).toBe(false);
    const on = parseJobText(job('output:\n  tensorboard: true\n'), defaults);
    expect(on.ok && on.spec.output.tensorboard).toBe(true);
    const bad = parseJobText(job('output:\n  tensorboard: sometimes\n'), defaults);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors.map((e) => e.field)).toContain('output.tensorboard');
  });
});

describe('status documents read back', () => {
  test('a wrong version or shape is a clear error naming the file and field', () => {
    const good = JSON.stringify(run.finished());
    expect(parseStatusDocument(good, 'h.json').phase).toBe('succeeded');
    expect(() => parseStatusDocument('{', 'h.json')).toThrow('h.json is not JSON');
    expect(() => parseStatusDocument('[]', 'h.json')).toThrow('h.json is not a JSON object');
    expect(() => parseStatusDocument(JSON.stringify({ ...run.finished(), version: 1 }), 'h.json')).toThrow(/h.json has status version 1; this horn reads version 2/);
    expect(() => parseStatusDocument(JSON.stringify({ ...run.finished(), containers: {} }), 'h.json')).toThrow('h.json: containers is not a list');
    expect(() => parseStatusDocument(JSON.stringify({ ...run.finished(), history: { steps: [], epochs: [{ epoch: 'x' }] } }), 'h.json')).toThrow(/history.epochs\[0\]/);
  });
});
