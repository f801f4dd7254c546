// Where bytes come from. Readers see only this interface, so the same readers read local files
// (here), memory (tests) and HDFS (WebHDFS OPEN with offset and length, in the Hadoop client).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface ByteSource {
  /** Size of the file in bytes. */
  size(path: string): Promise<number>;
  /**
   * Bytes of `path` from `offset`, `length` of them or to the end of the file when absent. A
   * reader may stop iterating early; the source must then release the stream.
   */
  read(path: string, offset: number, length?: number): AsyncIterable<Uint8Array>;
}

export const localFiles: ByteSource = {
  async size(path) {
    return (await stat(path)).size;
  },
  read(path, offset, length) {
    if (length === 0) return (async function* () {})();
    return createReadStream(path, { start: offset, end: length === undefined ? undefined : offset + length - 1, highWaterMark: 1 << 20 });
  },
};

/** Files held in memory, served in chunks of `chunkSize` bytes (small chunks exercise the boundary code). */
export function memoryFiles(files: Record<string, Uint8Array>, chunkSize = 64 * 1024): ByteSource {
  const get = (path: string): Uint8Array => {
    const f = files[path];
    if (!f) throw Object.assign(new Error(`ENOENT: no such file: ${path}`), { code: 'ENOENT' });
    return f;
  };
  return {
    async size(path) {
      return get(path).length;
    },
    read(path, offset, length) {
      const bytes = get(path);
      const end = length === undefined ? bytes.length : Math.min(bytes.length, offset + length);
      return (async function* () {
        for (let p = offset; p < end; p += chunkSize) yield bytes.subarray(p, Math.min(end, p + chunkSize));
      })();
    },
  };
}

/** Reads exactly `length` bytes at `offset`, or fewer if the file ends first. */
export async function readBytes(source: ByteSource, path: string, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  for await (const chunk of source.read(path, offset, length)) {
    const take = Math.min(chunk.length, length - filled);
    out.set(chunk.subarray(0, take), filled);
    filled += take;
    if (filled >= length) break;
  }
  return filled === length ? out : out.subarray(0, filled);
}
