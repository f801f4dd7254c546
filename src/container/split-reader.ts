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

type Replica = AssignedRange['replicas'][number];

/**
 * HDFS: the replica on `host` first, then the others, then the NameNode's choice. Reads outside
 * the assigned range (an IDX header, the labels file) go block by block through the replicas
 * too: the NameNode's redirect may name a DataNode that has just died and it does not know yet.
 */
export function hdfsSplitSource(hdfs: WebHdfsClient, host: string, namenodeRpcAddress: string | undefined, log: (m: string) => void): SplitSource {
  const viaNameNode = hdfsFiles(hdfs);
  const counts = { bytesLocal: 0, bytesRemote: 0 };
  const remoteViaNameNode = counting(viaNameNode, (n) => (counts.bytesRemote += n));
  const blocksOf = new Map<string, Promise<Array<{ offset: number; length: number; replicas: Replica[] }>>>();
  const ownFirst = (replicas: readonly Replica[]): Replica[] => {
    const own = replicas.find((r) => r.host === host);
    return [...(own ? [own] : []), ...replicas.filter((r) => r !== own)];
  };

  /** Bytes [offset, offset + length) (to the end without a length) from the first replica that opens; false when none did. */
  async function* fromReplicas(order: readonly Replica[], path: string, offset: number, length?: number): AsyncGenerator<Uint8Array, boolean> {
    for (const replica of order) {
      let stream;
      try {
        stream = await hdfs.openAtDataNode(replica.httpAddress, namenodeRpcAddress!, path, { offset, length });
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
      return true;
    }
    return false;
  }

  /** Block by block over the replicas the NameNode lists for `path`. */
  async function* byBlocks(path: string, offset: number, length?: number): AsyncGenerator<Uint8Array> {
    let blocks = blocksOf.get(path);
    if (!blocks) blocksOf.set(path, (blocks = hdfs.getBlockReplicas(path)));
    const end = length === undefined ? Infinity : offset + length;
    let at = offset;
    for (const b of await blocks) {
      const from = Math.max(at, b.offset);
      const to = Math.min(end, b.offset + b.length);
      if (from >= to) continue;
      if (!(yield* fromReplicas(ownFirst(b.replicas), path, from, to - from))) yield* remoteViaNameNode.read(path, from, to - from);
      at = to;
    }
  }

  return {
    sourceFor(range) {
      const order = ownFirst(range.replicas);
      return {
        size: (path) => viaNameNode.size(path),
        read(path, offset, length) {
          return (async function* () {
            if (!namenodeRpcAddress) return yield* remoteViaNameNode.read(path, offset, length);
            if (path !== range.path) return yield* byBlocks(path, offset, length);
            if (!(yield* fromReplicas(order, path, offset, length))) yield* remoteViaNameNode.read(path, offset, length);
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
