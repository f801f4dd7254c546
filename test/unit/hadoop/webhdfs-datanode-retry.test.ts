import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebHdfsClient } from '../../../src/hadoop/webhdfs/client';

// The NameNode's redirect names a DataNode that has died (the NameNode does not know yet): a
// read, and a write of a Buffer, ask again with it excluded and reach a live one.
let namenode: Server;
let base = '';
let deadPort = 0;
const asked: Array<{ op: string; excluded: string | null }> = [];
const written: Buffer[] = [];

beforeAll(async () => {
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  deadPort = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  namenode = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname.startsWith('/datanode')) {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        if (req.method === 'PUT') {
          written.push(Buffer.concat(parts));
          res.writeHead(201).end();
        } else res.writeHead(200).end('block bytes');
      });
      return;
    }
    const op = url.searchParams.get('op')!;
    const excluded = url.searchParams.get('excludedatanodes');
    asked.push({ op, excluded });
    // The first answer names the dead DataNode; one that excludes 127.0.0.1 names the live one.
    const port = excluded === '127.0.0.1' ? (namenode.address() as AddressInfo).port : deadPort;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ Location: `http://127.0.0.1:${port}/datanode${url.pathname}` }));
  });
  await new Promise<void>((r) => namenode.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(namenode.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => namenode.close(() => r())));

test('OPEN and a Buffer CREATE go to another DataNode when the first cannot be reached', async () => {
  const hdfs = new WebHdfsClient({ namenodeUrls: [base], user: 'u', timeoutMs: 5000 });
  const stream = await hdfs.open('/f', { offset: 0, length: 11 });
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  expect(Buffer.concat(parts).toString()).toBe('block bytes');
  await hdfs.create('/g', Buffer.from('payload'), { overwrite: true });
  expect(written.map(String)).toEqual(['payload']);
  expect(asked).toEqual([
    { op: 'OPEN', excluded: null },
    { op: 'OPEN', excluded: '127.0.0.1' },
    { op: 'CREATE', excluded: null },
    { op: 'CREATE', excluded: '127.0.0.1' },
  ]);
});
