// Reading and writing the files that `horn eval`, `export` and `predict` name, in HDFS (through
// WebHDFS) or locally, by their Location. The cluster configuration is read only when an HDFS
// path is involved, so the tools work on local files without HADOOP_CONF_DIR.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { PassThrough, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { hdfsFiles } from '../storage/hdfs';
import { type ByteSource, localFiles } from '../data';
import { describeFsError } from '../common/fs-errors';
import { readToolFile, temporaryBeside, ToolFileError, writeToolFile } from '../engine-export/model-file';
import { createClientContext, type ClientContext } from './context';
import { hdfsPathOf, LocationError, type Location } from './locations';

/** Where a stream of output goes; `finish` puts the complete file in place, `abort` leaves nothing. */
export interface OutputSink {
  readonly stream: Writable;
  /** How the output is named in messages. */
  readonly name: string;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

type HdfsLocation = Extract<Location, { fs: 'hdfs' }>;

export class ToolFiles {
  private context?: Promise<ClientContext>;

  constructor(private readonly connect: () => Promise<ClientContext> = createClientContext) {}

  private cluster(): Promise<ClientContext> {
    this.context ??= this.connect();
    return this.context;
  }

  /** The HDFS user, who relative HDFS paths belong to. */
  async user(): Promise<string> {
    return (await this.cluster()).user;
  }

  /** The absolute HDFS path; a URI naming another file system than fs.defaultFS is refused. */
  async hdfsPath(location: HdfsLocation): Promise<string> {
    const ctx = await this.cluster();
    if (location.authority !== undefined) {
      const configured = new URL(ctx.endpoints.defaultFs).host;
      if (location.authority !== configured) {
        throw new LocationError(location.name, `names the file system hdfs://${location.authority}, but fs.defaultFS of HADOOP_CONF_DIR is ${ctx.endpoints.defaultFs}`);
      }
    }
    return hdfsPathOf(location, ctx.user);
  }

  async read(location: Location): Promise<Uint8Array> {
    if (location.fs === 'local') return readToolFile(location.path, location.name);
    const path = await this.hdfsPath(location);
    const { hdfs } = await this.cluster();
    await this.requireHdfsFile(location, path);
    return hdfs.readFile(path);
  }

  async write(location: Location, bytes: Uint8Array): Promise<void> {
    if (location.fs === 'local') return writeToolFile(location.path, bytes, location.name);
    const path = await this.hdfsPath(location);
    const { hdfs } = await this.cluster();
    await hdfs.mkdirs(parentOf(path));
    if (!(await hdfs.createAtomically(path, Buffer.from(bytes), { replace: true }))) throw new ToolFileError(location.name, 'write', `HDFS refused to rename the written file into place at ${path}`);
  }

  /**
   * A ByteSource for the data readers over these locations, keyed by their names (so the
   * readers' messages name files as the user gave them). Missing files and directories are
   * input errors naming the file.
   */
  async source(locations: readonly Location[]): Promise<ByteSource> {
    const routes = new Map<string, { readonly source: ByteSource; readonly path: string; readonly size: () => Promise<number> }>();
    for (const location of locations) {
      if (location.fs === 'local') {
        routes.set(location.name, { source: localFiles, path: location.path, size: () => localFileSize(location) });
      } else {
        const path = await this.hdfsPath(location);
        const { hdfs } = await this.cluster();
        routes.set(location.name, { source: hdfsFiles(hdfs), path, size: () => this.requireHdfsFile(location, path) });
      }
    }
    const route = (name: string) => {
      const r = routes.get(name);
      // The readers only open the files they were given; anything else is a bug.
      if (!r) throw new Error(`internal: no location for data file ${name}`);
      return r;
    };
    const sizes = new Map<string, Promise<number>>();
    return {
      size: (name) => {
        let size = sizes.get(name);
        if (size === undefined) sizes.set(name, (size = route(name).size()));
        return size;
      },
      read: (name, offset, length) => {
        const r = route(name);
        return r.source.read(r.path, offset, length);
      },
    };
  }

  /** A stream to write a (possibly large) file through, to stdout when `location` is undefined. */
  async output(location: Location | undefined): Promise<OutputSink> {
    if (location === undefined) {
      return { stream: process.stdout, name: 'stdout', finish: async () => undefined, abort: async () => undefined };
    }
    if (location.fs === 'local') return localOutput(location);
    const path = await this.hdfsPath(location);
    const { hdfs } = await this.cluster();
    await hdfs.mkdirs(parentOf(path));
    const stream = new PassThrough();
    const upload = hdfs.createAtomically(path, stream, { replace: true });
    // A failed upload stops the writer at once (nobody would read the stream any more); until
    // finish() awaits it, the rejection is handled here.
    upload.catch((err: unknown) => stream.destroy(err instanceof Error ? err : new Error(String(err))));
    return {
      stream,
      name: location.name,
      finish: async () => {
        stream.end();
        if (!(await upload)) throw new ToolFileError(location.name, 'write', `HDFS refused to rename the written file into place at ${path}`);
      },
      abort: async () => {
        // An error (not a plain destroy) makes the upload's request fail instead of waiting.
        stream.destroy(new Error('the output was abandoned'));
        await upload.catch(() => undefined);
      },
    };
  }

  /** The file's size; a missing path or a directory is an input error naming it. */
  private async requireHdfsFile(location: HdfsLocation, path: string): Promise<number> {
    const { hdfs } = await this.cluster();
    const status = await hdfs.stat(path);
    if (!status) throw new ToolFileError(location.name, 'read', `no such file in HDFS (${path})`);
    if (status.type === 'DIRECTORY') throw new ToolFileError(location.name, 'read', `it is a directory in HDFS (${path})`);
    return status.length;
  }
}

function parentOf(hdfsPath: string): string {
  return hdfsPath.slice(0, hdfsPath.lastIndexOf('/')) || '/';
}

async function localFileSize(location: Extract<Location, { fs: 'local' }>): Promise<number> {
  try {
    const s = await stat(location.path);
    if (s.isDirectory()) throw new ToolFileError(location.name, 'read', 'it is a directory');
    return s.size;
  } catch (err) {
    if (err instanceof ToolFileError) throw err;
    throw new ToolFileError(location.name, 'read', describeFsError(err));
  }
}

async function localOutput(location: Extract<Location, { fs: 'local' }>): Promise<OutputSink> {
  const temporary = temporaryBeside(location.path);
  const stream = createWriteStream(temporary);
  try {
    await once(stream, 'open');
  } catch (err) {
    throw new ToolFileError(location.name, 'write', describeFsError(err));
  }
  return {
    stream,
    name: location.name,
    finish: async () => {
      stream.end();
      await finished(stream);
      try {
        await rename(temporary, location.path);
      } catch (err) {
        await rm(temporary, { force: true });
        throw new ToolFileError(location.name, 'write', describeFsError(err));
      }
    },
    abort: async () => {
      stream.destroy();
      await rm(temporary, { force: true });
    },
  };
}
