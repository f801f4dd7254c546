// Where a model or data file named on the command line lives (`horn eval`, `export`, `predict`),
// by the same rule as the paths of a job file for `horn submit`, so that the path `submit`
// prints is the path `eval` takes:
//
//   /user/me/models/m, hdfs://nn:8020/user/me/m, hdfs:///user/me/m   HDFS
//   models/m (a bare relative path)                                   HDFS, under /user/<you>
//   ./m.horn, ../data/t.csv, file:m.horn, file:///tmp/m.horn          local files
//
// Pure: no file system is consulted.
import { basename, posix, resolve } from 'node:path';
import { HornError } from '../common/errors';
import { resolveHdfsPath } from '../job';

export type Location =
  /** `path` is absolute. */
  | { readonly fs: 'local'; readonly path: string; readonly name: string }
  /** `path` as given, without scheme and authority: absolute, or relative to /user/<you>. */
  | { readonly fs: 'hdfs'; readonly path: string; readonly authority?: string; readonly name: string };

/** A path argument horn cannot use (an empty one, another scheme, a file: URI of another host). */
export class LocationError extends HornError {
  constructor(readonly argument: string, reason: string) {
    super(`${JSON.stringify(argument)}: ${reason}`, 'input', { path: argument });
  }
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/** Where `arg` points; `name` keeps the argument as typed, for messages. */
export function parseLocation(arg: string, cwd: string = process.cwd()): Location {
  if (arg.trim() === '') throw new LocationError(arg, 'an empty path');
  const scheme = SCHEME.exec(arg)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    let rest = arg.slice('file:'.length);
    if (rest.startsWith('//')) {
      const slash = rest.indexOf('/', 2);
      const host = rest.slice(2, slash < 0 ? undefined : slash);
      if (host !== '' && host !== 'localhost') throw new LocationError(arg, `a file: URI names the local host only, not ${host}`);
      rest = slash < 0 ? '/' : rest.slice(slash);
    }
    if (rest === '') throw new LocationError(arg, 'file: names no path');
    return { fs: 'local', path: resolve(cwd, decodeURIComponent(rest)), name: arg };
  }
  if (scheme === 'hdfs') {
    const rest = arg.slice('hdfs:'.length);
    if (rest.startsWith('//')) {
      const slash = rest.indexOf('/', 2);
      const authority = rest.slice(2, slash < 0 ? undefined : slash);
      return { fs: 'hdfs', path: slash < 0 ? '/' : rest.slice(slash), ...(authority ? { authority } : {}), name: arg };
    }
    return { fs: 'hdfs', path: rest.startsWith('/') ? rest : `/${rest}`, name: arg };
  }
  if (scheme !== undefined && scheme.length > 1) {
    throw new LocationError(arg, `horn reads HDFS (hdfs://…, /path, relative/path) and local files (./path, file:path), not ${scheme}: URIs`);
  }
  if (arg === '.' || arg === '..' || arg.startsWith('./') || arg.startsWith('../')) return { fs: 'local', path: resolve(cwd, arg), name: arg };
  return { fs: 'hdfs', path: arg, name: arg };
}

/** The absolute HDFS path of an HDFS location (relative ones are under /user/<user>). */
export function hdfsPathOf(location: Extract<Location, { fs: 'hdfs' }>, user: string): string {
  return resolveHdfsPath(user, location.path);
}

/** The file `fileName` in the same directory, named as the original was (./a/m.horn → ./a/m.onnx). */
export function siblingLocation(location: Location, fileName: string): Location {
  const own = location.fs === 'local' ? basename(location.path) : posix.basename(location.path);
  const name = location.name.endsWith(own) ? location.name.slice(0, location.name.length - own.length) + fileName : `${location.name}/../${fileName}`;
  if (location.fs === 'local') return { fs: 'local', path: resolve(location.path, '..', fileName), name };
  return { ...location, path: posix.join(posix.dirname(location.path), fileName), name };
}

/** Whether two locations name the same file (given the HDFS user). */
export function sameLocation(a: Location, b: Location, user: string): boolean {
  if (a.fs === 'local' || b.fs === 'local') return a.fs === b.fs && a.path === b.path;
  return hdfsPathOf(a, user) === hdfsPathOf(b, user) && (a.authority ?? '') === (b.authority ?? '');
}
