import { Readable } from 'node:stream';
import { hdfsSplitSource } from '../../../src/container/split-reader';
import type { WebHdfsClient } from '../../../src/hadoop/webhdfs/client';
import type { AssignedRange } from '../../../src/protocol/messages';

// A worker's reads when a DataNode has died and the NameNode does not know yet: a fake WebHDFS
// whose DataNode on node2 refuses connections and whose NameNode redirect would go there too.
const bytes = (path: string, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i + path.length) % 251));
const FILE = { '/d/images': bytes('/d/images', 300), '/d/labels': bytes('/d/labels', 250) } as Record<string, Buffer>;
const replica = (host: string) => ({ host, httpAddress: `${host}:9864`, rack: '/default-rack' });

function fakeHdfs(opened: string[]): WebHdfsClient {
  const fake = {
    async openAtDataNode(httpAddress: string, _nn: string, path: string, range: { offset?: number; length?: number }) {
      if (httpAddress.startsWith('node2')) throw new Error('connect ECONNREFUSED node2:9864');
      opened.push(`${httpAddress.split(':')[0]} ${path} ${range.offset}+${range.length}`);
      const from = range.offset ?? 0;
      return Readable.from([FILE[path]!.subarray(from, range.length === undefined ? undefined : from + range.length)]);
    },
    async open() {
      throw new Error('connect ECONNREFUSED node2:9864 (the NameNode redirected to the dead DataNode)');
    },
    async getFileStatus(path: string) {
      return { length: FILE[path]!.length };
    },
    async getBlockReplicas(path: string) {
      // Two blocks of 128 bytes and the rest; the first block's replicas start with the dead node.
      const n = FILE[path]!.length;
      return [
        { offset: 0, length: 128, hosts: [], replicas: [replica('node2'), replica('node3')] },
        { offset: 128, length: Math.min(128, n - 128), hosts: [], replicas: [replica('node1'), replica('node2')] },
        { offset: 256, length: n - 256, hosts: [], replicas: [replica('node2'), replica('node1')] },
      ].filter((b) => b.offset < n);
    },
  };
  return fake as unknown as WebHdfsClient;
}

async function all(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of source) parts.push(c);
  return Buffer.concat(parts);
}

test('reads outside the assigned range go block by block over the replicas, skipping a dead DataNode, own host first', async () => {
  const opened: string[] = [];
  const logs: string[] = [];
  const split = hdfsSplitSource(fakeHdfs(opened), 'node1', 'master:8020', (m) => logs.push(m));
  const range: AssignedRange = { path: '/d/images', start: 128, end: 256, replicas: [replica('node2'), replica('node1')] } as AssignedRange;
  const source = split.sourceFor(range);

  expect(await all(source.read('/d/labels', 0))).toEqual(FILE['/d/labels']);
  expect(opened).toEqual(['node3 /d/labels 0+128', 'node1 /d/labels 128+122']);
  expect(await all(source.read('/d/images', 100, 200))).toEqual(FILE['/d/images']!.subarray(100, 300));
  expect(opened.slice(2)).toEqual(['node1 /d/images 100+200']);
  expect(logs.filter((l) => /on node2 failed .*trying the next replica/.test(l))).toHaveLength(1);
  expect(split.bytesLocal).toBe(122 + 200);
  expect(split.bytesRemote).toBe(128);
});
