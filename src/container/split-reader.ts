// A worker reads its split: each assigned byte range from the DataNode on its own host when that
// DataNode holds a replica (its own WebHDFS endpoint), otherwise — or when that fails — from the
// other replicas in turn, and last through the NameNode's redirect. It counts the bytes it read
// node-locally and remotely, which the job's result reports.
import { concatBatches } from '../training/run';
import { datasetOfFile, localFiles, readBatches, type ByteSource, type InputSpec, type ReadOptions, type ReadStats } from '../data';
import type { Batch } from '../engine';
import type { WebHdfsClient } from '../hadoop/webhdfs/client';
import type { AssignedRange } from '../protocol/messages';
import { hdfsFiles } from '../storage/hdfs';

export interface SplitRead {
  readonly batch: Batch;
  readonly bytesLocal: number;
  readonly bytesRemote: number;
}

export interface SplitSource {
  /** Where the bytes of [offset, …) of `range` come from. */
  sourceFor(range: AssignedRange): ByteSource;
  readonly bytesLocal: number;
  readonly bytesRemote: number;
}

/** Local mode: every byte is on this machine. */
export function localSplitSource(): SplitSource {
  const counted = { bytesLocal: 0 };
  return {
    sourceFor: () => counting(localFiles, (n) => (counted.bytesLocal += n)),
    get bytesLocal() {
      return counted.bytesLocal;
    },
    bytesRemote: 0,
  };
}

/** HDFS: the replica on `host` first, then the others, then the NameNode's choice. */
export function hdfsSplitSource(hdfs: WebHdfsClient, host: string, namenodeRpcAddress: string | undefined, log: (m: string) => void): SplitSource {
  const viaNameNode = hdfsFiles(hdfs);
  const counts = { bytesLocal: 0, bytesRemote: 0 };
  return {
    sourceFor(range) {
      const own = range.replicas.find((r) => r.host === host);
      const order = [...(own ? [own] : []), ...range.replicas.filter((r) => r !== own)];
      return {
        size: (path) => viaNameNode.size(path),
        read(path, offset, length) {
          const inRange = path === range.path;
          return (async function* () {
            if (inRange && namenodeRpcAddress) {
              for (const replica of order) {
                let stream;
                try {
                  stream = await hdfs.openAtDataNode(replica.httpAddress, namenodeRpcAddress, path, { offset, length });
                } catch (err) {
                  log(`reading ${path} at ${offset} from the DataNode on ${replica.host} failed (${(err as Error).message}); trying the next replica`);
                  continue;
                }
                const local = replica.host === host;
                try {
                  for await (const chunk of stream) {
                    const bytes = chunk as Uint8Array;
                    if (local) counts.bytesLocal += bytes.length;
                    else counts.bytesRemote += bytes.length;
                    yield bytes;
                  }
                } finally {
                  stream.destroy();
                }
                return;
              }
            }
            for await (const chunk of viaNameNode.read(path, offset, length)) {
              counts.bytesRemote += chunk.length;
              yield chunk;
            }
          })();
        },
      };
    },
    get bytesLocal() {
      return counts.bytesLocal;
    },
    get bytesRemote() {
      return counts.bytesRemote;
    },
  };
}

function counting(source: ByteSource, add: (n: number) => void): ByteSource {
  return {
    size: (p) => source.size(p),
    read(path, offset, length) {
      return (async function* () {
        for await (const chunk of source.read(path, offset, length)) {
          add(chunk.length);
          yield chunk;
        }
      })();
    },
  };
}

/** Every record of the assigned ranges, as one in-memory batch. */
export async function readSplit(split: SplitSource, input: InputSpec, ranges: readonly AssignedRange[], options: ReadOptions, stats: ReadStats): Promise<SplitRead> {
  const batch = await concatBatches(
    (async function* () {
      for (const r of ranges) yield* readBatches(split.sourceFor(r), datasetOfFile(input, r.path), 8192, { ...options, range: { start: r.start, end: r.end } }, stats);
    })(),
  );
  return { batch, bytesLocal: split.bytesLocal, bytesRemote: split.bytesRemote };
}
