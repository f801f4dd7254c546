// The ApplicationMaster's web server, registered as the tracking URL. The RM proxy forwards GET
// requests from /proxy/<appId>/<path> to <root>/<path>, so the page uses relative links only.
//   /             the live training page (src/appmaster/web), which polls status.json
//   /page.js      its script (uPlot bundled in), /page.css its styles
//   /status.json  the StatusDocument (also at /ws/v1/status)
//   /report.html  the page frozen with the current document, as the job's final report.html is
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatusDocument } from '../protocol';
import { PAGE_SCRIPT, PAGE_STYLE, renderLivePage, renderReport } from './web/html';

interface Asset {
  readonly type: string;
  readonly body: string;
  readonly etag: string;
}

const asset = (type: string, body: string): Asset => ({ type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
const ASSETS: Readonly<Record<string, Asset>> = {
  '/page.js': asset('text/javascript; charset=utf-8', PAGE_SCRIPT),
  '/page.css': asset('text/css; charset=utf-8', PAGE_STYLE),
};

export interface StatusServer {
  readonly server: Server;
  readonly port: number;
}

export async function startStatusServer(status: () => StatusDocument, host = '0.0.0.0'): Promise<StatusServer> {
  const server = createServer((req, res) => {
    try {
      serve(req, res, status);
    } catch (err) {
      // A document that cannot be built is the AM's bug; the page shows the answer and keeps polling.
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`status unavailable: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function serve(req: IncomingMessage, res: ServerResponse, status: () => StatusDocument): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const send = (type: string, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const fixed = path === undefined ? undefined : ASSETS[path];
  if (fixed) {
    if (req.headers['if-none-match'] === fixed.etag) {
      res.writeHead(304, { ETag: fixed.etag }).end();
      return;
    }
    send(fixed.type, fixed.body, { 'Cache-Control': 'no-cache', ETag: fixed.etag });
    return;
  }
  switch (path) {
    case '/status.json':
    case '/ws/v1/status':
      send('application/json; charset=utf-8', JSON.stringify(status()));
      return;
    case '/':
    case '/index.html':
      send('text/html; charset=utf-8', renderLivePage(status()));
      return;
    case '/report.html':
      send('text/html; charset=utf-8', renderReport(status()));
      return;
    default:
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
  }
}
