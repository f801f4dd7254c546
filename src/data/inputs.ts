// Input as Hadoop data usually is: a file, a directory of part files, a glob, or a list of these,
// expanded to the files to read. Hidden files (names starting with "_" or ".", such as _SUCCESS
// and .crc files) are skipped as Hadoop's FileInputFormat skips them; a directory's files are
// those directly inside it (a subdirectory is an error, as in FileInputFormat by default). IDX
// data stays a pair of files. The listing is behind an interface so local files and HDFS expand
// alike, and the pattern matching is pure.
import { readdir, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { HornError } from '../common/errors';
import type { DatasetSpec } from './dataset';
import type { CsvOptions, LibsvmOptions } from './text-formats';

/** Training or test input as the job names it: patterns not yet expanded (or an IDX pair). */
export type InputSpec =
  | { readonly format: 'idx'; readonly images: string; readonly labels: string }
  | { readonly format: 'csv'; readonly paths: readonly string[]; readonly csv: CsvOptions }
  | { readonly format: 'libsvm'; readonly paths: readonly string[]; readonly libsvm: LibsvmOptions };

export interface ListedFile {
  readonly path: string;
  readonly length: number;
}

export interface FileLister {
  /** undefined when the path does not exist. */
  status(path: string): Promise<{ readonly type: 'FILE' | 'DIRECTORY' | 'SYMLINK'; readonly length: number } | undefined>;
  list(dir: string): Promise<Array<{ readonly path: string; readonly type: 'FILE' | 'DIRECTORY' | 'SYMLINK'; readonly length: number }>>;
}

export class InputNotFoundError extends HornError {
  constructor(readonly pattern: string, detail: string) {
    super(`input ${pattern}: ${detail}`, 'input', { path: pattern });
  }
}

/** Hadoop's hiddenFileFilter. */
export function isHidden(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.');
}

export function hasGlob(component: string): boolean {
  return /[*?[{]/.test(component.replace(/\\./g, ''));
}

/**
 * A regular expression for one path component in Hadoop's glob syntax: * and ? (not across "/"),
 * [abc], [a-z], [^a] (or [!a]), {a,b} alternation, \ escapes. Written by hand: the syntax is
 * Hadoop's own, per component, and a few lines.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) re += escapeChar(glob[++i]!);
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) throw new HornError(`glob ${glob}: unclosed [`, 'input', { path: glob });
      let body = glob.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else re += escapeChar(c);
  }
  if (braces > 0) throw new HornError(`glob ${glob}: unclosed {`, 'input', { path: glob });
  return new RegExp(`^${re}$`);
}

const escapeChar = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The files one pattern names, in path order. Paths are absolute POSIX paths (local or HDFS). */
export async function expandPattern(pattern: string, lister: FileLister): Promise<ListedFile[]> {
  const parts = pattern.split('/').filter((p) => p !== '');
  let candidates = [pattern.startsWith('/') ? '/' : '.'];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    if (!hasGlob(part)) {
      candidates = candidates.map((c) => posix.join(c, part.replace(/\\(.)/g, '$1')));
      continue;
    }
    const re = globToRegExp(part);
    const next: string[] = [];
    for (const dir of candidates) {
      const st = await lister.status(dir);
      if (st?.type !== 'DIRECTORY') continue;
      for (const entry of await lister.list(dir)) {
        const name = posix.basename(entry.path);
        if (!isHidden(name) && re.test(name) && (last || entry.type === 'DIRECTORY')) next.push(entry.path);
      }
    }
    candidates = next.sort();
  }
  const files: ListedFile[] = [];
  for (const c of candidates) {
    const st = await lister.status(c);
    if (!st) continue;
    if (st.type !== 'DIRECTORY') {
      files.push({ path: c, length: st.length });
      continue;
    }
    const entries = (await lister.list(c)).filter((e) => !isHidden(posix.basename(e.path))).sort((a, b) => a.path.localeCompare(b.path));
    const sub = entries.find((e) => e.type === 'DIRECTORY');
    if (sub) throw new InputNotFoundError(pattern, `the directory ${c} holds the directory ${sub.path}; name its files, or a glob such as ${posix.join(c, '*', '*')}`);
    files.push(...entries.map((e) => ({ path: e.path, length: e.length })));
  }
  if (files.length === 0) {
    throw new InputNotFoundError(pattern, hasGlob(pattern) ? 'no files match' : candidates.length && (await lister.status(candidates[0]!)) ? 'the directory holds no data files' : 'does not exist');
  }
  return files;
}

/** Every file of an input, each once, in the order the patterns give them. */
export async function expandInput(input: InputSpec, lister: FileLister): Promise<ListedFile[]> {
  if (input.format === 'idx') {
    const out: ListedFile[] = [];
    for (const p of [input.images, input.labels]) {
      const st = await lister.status(p);
      if (!st) throw new InputNotFoundError(p, 'does not exist');
      if (st.type === 'DIRECTORY') throw new InputNotFoundError(p, 'is a directory; IDX data is a pair of files {images, labels}');
      out.push({ path: p, length: st.length });
    }
    return out;
  }
  const seen = new Set<string>();
  const out: ListedFile[] = [];
  for (const p of input.paths) {
    for (const f of await expandPattern(p, lister)) {
      if (seen.has(f.path)) continue;
      seen.add(f.path);
      out.push(f);
    }
  }
  return out;
}

/** The reader's spec for one file of an input (the pair itself for IDX). */
export function datasetOfFile(input: InputSpec, path: string): DatasetSpec {
  switch (input.format) {
    case 'idx':
      return input;
    case 'csv':
      return { format: 'csv', path, csv: input.csv };
    case 'libsvm':
      return { format: 'libsvm', path, libsvm: input.libsvm };
  }
}

/** The one file an input names, for readers that take one (e.g. a test set); else an input error. */
export function singleDataset(input: InputSpec): DatasetSpec {
  if (input.format === 'idx') return input;
  if (input.paths.length !== 1 || hasGlob(input.paths[0]!)) throw new HornError(`expected one file, the input names ${input.paths.join(', ')}`, 'input', { path: input.paths.join(',') });
  return datasetOfFile(input, input.paths[0]!);
}

export const localLister: FileLister = {
  async status(path) {
    try {
      const s = await stat(path);
      return { type: s.isDirectory() ? 'DIRECTORY' : 'FILE', length: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  async list(dir) {
    const entries = await readdir(dir, { withFileTypes: true });
    return Promise.all(
      entries.map(async (e) => {
        const path = posix.join(dir, e.name);
        const s = await stat(path);
        return { path, type: s.isDirectory() ? ('DIRECTORY' as const) : ('FILE' as const), length: s.size };
      }),
    );
  },
};
