// The ApplicationMaster's web page and JSON status, registered as the tracking URL. The RM proxy
// forwards GET requests from /proxy/<appId>/<path> to <root>/<path>, so links are relative.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatusDocument } from '../protocol';

export async function startStatusServer(status: () => StatusDocument, host = '0.0.0.0'): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    if (path === '/status.json' || path === '/ws/v1/status') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(status()));
      return;
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(renderPage(status()));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

const escape = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number | undefined): string => (x === undefined ? '–' : `${(x * 100).toFixed(2)}%`);

export function renderPage(s: StatusDocument): string {
  const rows = s.containers
    .map((w) => `<tr><td>${w.role} ${w.index}</td><td>${escape(w.state)}</td><td>${escape(w.host)}</td><td>${escape(w.containerId)}</td><td>${escape(w.phase)}</td><td>${w.epoch ?? '–'}</td><td>${w.loss?.toFixed(4) ?? '–'}</td><td>${pct(w.accuracy)}</td><td>${w.samplesPerSecond ? Math.round(w.samplesPerSecond) : '–'}</td></tr>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>horn: ${escape(s.name)}</title>
<meta http-equiv="refresh" content="3">
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}progress{width:30em}</style></head>
<body><h1>horn: ${escape(s.name)}</h1>
<p>${escape(s.applicationId)} — <b>${escape(s.phase)}</b></p>
<p><progress max="1" value="${s.progress}"></progress> ${(s.progress * 100).toFixed(0)}%</p>
<p>epoch ${s.epoch ?? '–'} / ${s.epochs} · loss ${s.loss?.toFixed(4) ?? '–'} · training accuracy ${pct(s.accuracy)} · ${s.samplesPerSecond ? Math.round(s.samplesPerSecond) : '–'} samples/s</p>
${s.testAccuracy !== undefined ? `<p>test accuracy <b>${pct(s.testAccuracy)}</b>, model ${escape(s.model)}</p>` : ''}
${s.diagnostics ? `<pre>${escape(s.diagnostics)}</pre>` : ''}
<table><tr><th>worker</th><th>state</th><th>host</th><th>container</th><th>phase</th><th>epoch</th><th>loss</th><th>accuracy</th><th>samples/s</th></tr>${rows}</table>
<p><a href="status.json">status.json</a></p></body></html>`;
}
