// The data layer's interfaces over WebHDFS: a ByteSource (OPEN with offset and length, the
// download stopped as soon as a reader has what it needs) and a FileLister (for directories and
// globs of input), so the readers read HDFS exactly as they read local files.
import type { ByteSource, FileLister } from '../data';
import type { WebHdfsClient } from '../hadoop/webhdfs/client';

export function hdfsLister(hdfs: WebHdfsClient): FileLister {
  return {
    async status(path) {
      const st = await hdfs.stat(path);
      return st && { type: st.type, length: st.length };
    },
    async list(dir) {
      return (await hdfs.listStatus(dir)).map((s) => ({ path: s.path, type: s.type, length: s.length }));
    },
  };
}

export function hdfsFiles(hdfs: WebHdfsClient): ByteSource {
  const sizes = new Map<string, number>();
  return {
    async size(path) {
      let n = sizes.get(path);
      if (n === undefined) {
        n = (await hdfs.getFileStatus(path)).length;
        sizes.set(path, n);
      }
      return n;
    },
    read(path, offset, length) {
      return (async function* () {
        if (length === 0) return;
        const stream = await hdfs.open(path, { offset, length });
        try {
          for await (const chunk of stream) yield chunk as Uint8Array;
        } finally {
          stream.destroy();
        }
      })();
    },
  };
}
