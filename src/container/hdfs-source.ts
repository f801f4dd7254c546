// The data readers' ByteSource over WebHDFS: OPEN with offset and length, the download stopped
// as soon as a reader has what it needs.
import type { ByteSource } from '../data';
import type { WebHdfsClient } from '../hadoop/webhdfs/client';

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
