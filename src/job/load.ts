// Reading a job file: YAML text -> validated, fully defaulted JobSpec, or every error found.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { describeFsError } from '../common/fs-errors';
import { JobFieldError, JobFileReadError, JobValidationError } from './errors';
import { jobSchema, type JobSpec } from './schema';
import { type At, INVALID, Reporter, type Source } from './schema-kit';

export interface YamlText {
  /** Name used in error messages (a path, normally). */
  readonly file: string;
  readonly text: string;
}

export type JobParseResult = { ok: true; spec: JobSpec } | { ok: false; errors: JobFieldError[] };

function parseYaml(input: YamlText, r: Reporter): { src: Source; doc: Document } {
  const lines = new LineCounter();
  const doc = parseDocument(input.text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const src: Source = { file: input.file, lines };
  for (const e of [...doc.errors, ...doc.warnings]) {
    // Positions of YAML syntax errors come from the parser; the field is unknown at that point.
    const { line, col } = lines.linePos(e.pos[0]);
    if (e.code === 'DUPLICATE_KEY') {
      r.errors.push(new JobFieldError(input.file, line, col, pathOfKeyAt(doc.contents as Node | null, e.pos[0], ''), 'each field at most once', 'the field repeated'));
    } else if (doc.errors.includes(e as never)) {
      r.errors.push(new JobFieldError(input.file, line, col, '', 'valid YAML', `${e.code}: ${e.message.split('\n')[0]}`));
    }
  }
  return { src, doc };
}

/** Dotted path of the mapping key that starts at `offset` (for duplicate-key errors). */
function pathOfKeyAt(node: Node | null, offset: number, prefix: string): string {
  if (node !== null && isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      const name = key !== null && isScalar(key) ? String(key.value) : '?';
      const here = prefix ? `${prefix}.${name}` : name;
      if (key?.range && key.range[0] === offset) return here;
      const value = pair.value as Node | null;
      if (value?.range && value.range[0] <= offset && offset < value.range[2]) return pathOfKeyAt(value, offset, here);
    }
  } else if (node !== null && isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const child = item as Node | null;
      if (child?.range && child.range[0] <= offset && offset < child.range[2]) return pathOfKeyAt(child, offset, `${prefix}[${i}]`);
    }
  }
  return prefix;
}

/** Validates a job's YAML text against the schema, filling absent fields from the defaults text. */
export function parseJobText(job: YamlText, defaults: YamlText): JobParseResult {
  const r = new Reporter();
  const user = parseYaml(job, r);
  const base = parseYaml(defaults, r);
  if (r.errors.length) return { ok: false, errors: sortErrors(r.errors) };
  const rootOf = (p: { src: Source; doc: Document }): At => ({
    src: p.src,
    node: (p.doc.contents ?? null) as Node | null,
    offset: 0,
  });
  const value = jobSchema.read(rootOf(user), rootOf(base), '', r);
  if (value === INVALID || r.errors.length) return { ok: false, errors: sortErrors(r.errors) };
  return { ok: true, spec: value };
}

function sortErrors(errors: JobFieldError[]): JobFieldError[] {
  // Defaults-file errors last, then by position: the order in which a user reads the file.
  return [...errors].sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : 0));
}

/**
 * Where conf/job-defaults.yaml is: $HORN_CONF_DIR, else next to the bundle (dist/../conf) or the
 * sources (src/job/../../conf).
 */
export function defaultsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [
    env['HORN_CONF_DIR'] ? join(env['HORN_CONF_DIR'], 'job-defaults.yaml') : undefined,
    join(__dirname, '..', 'conf', 'job-defaults.yaml'),
    join(__dirname, '..', '..', 'conf', 'job-defaults.yaml'),
  ].filter((c): c is string => c !== undefined);
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

function readText(file: string): YamlText {
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new JobFileReadError(file, describeFsError(err));
  }
}

export interface LoadedJob {
  readonly spec: JobSpec;
  /** Absolute path of the job file. */
  readonly file: string;
  /** Directory that relative local paths in the job are resolved against. */
  readonly baseDir: string;
}

/** Reads and validates a job file; throws JobValidationError with every error, or JobFileReadError. */
export function loadJobFile(file: string, opts: { defaultsFile?: string } = {}): LoadedJob {
  const job = readText(file);
  const defaults = readText(opts.defaultsFile ?? defaultsFilePath());
  const result = parseJobText(job, defaults);
  if (!result.ok) throw new JobValidationError(file, result.errors);
  const abs = resolve(file);
  return { spec: result.spec, file: abs, baseDir: dirname(abs) };
}
