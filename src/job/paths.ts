// Path conventions of a job file, as pure functions.
//
// - output.model may hold placeholders: {name} (job name), {appId} (YARN application id),
//   {date} (UTC, yyyy-mm-dd), {datetime} (UTC, yyyymmddThhmmssZ — no colons, which HDFS rejects).
// - Local paths (`horn train --local`, neuron files) are relative to the directory of the job file.
// - Cluster paths (`horn submit`) are HDFS paths; relative ones are relative to /user/<user>, as
//   in every Hadoop tool.
import { HornError } from '../common/errors';
import { isAbsolute, join, resolve } from 'node:path';
import { posix } from 'node:path';

export const OUTPUT_PLACEHOLDERS = ['name', 'appId', 'date', 'datetime'] as const;
export type OutputPlaceholder = (typeof OUTPUT_PLACEHOLDERS)[number];

export class PlaceholderError extends HornError {
  constructor(readonly template: string, readonly placeholder: string) {
    super(`output path "${template}": unknown placeholder {${placeholder}}; known: ${OUTPUT_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`, 'input');
  }
}

/** Placeholders in `template` that are not known, in order of appearance. */
export function unknownPlaceholders(template: string): string[] {
  const bad: string[] = [];
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    if (!(OUTPUT_PLACEHOLDERS as readonly string[]).includes(m[1]!)) bad.push(`{${m[1]}}`);
  }
  return bad;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Fills the output-path placeholders; `{appId}` is left unfilled (an error) when no id is given. */
export function expandOutputPath(template: string, values: { name: string; now: Date; appId?: string }): string {
  const d = values.now;
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const datetime = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return template.replace(/\{([^{}]*)\}/g, (_, key: string) => {
    switch (key) {
      case 'name':
        return values.name;
      case 'date':
        return date;
      case 'datetime':
        return datetime;
      case 'appId':
        if (values.appId === undefined) throw new PlaceholderError(template, key);
        return values.appId;
      default:
        throw new PlaceholderError(template, key);
    }
  });
}

/** A local path named in the job file, made absolute against the job file's directory. */
export function resolveLocalPath(jobFileDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(jobFileDir, p);
}

/** An HDFS path named in the job file, made absolute (a `hdfs://` URI keeps only its path). */
export function resolveHdfsPath(user: string, p: string): string {
  const noScheme = p.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  return posix.normalize(noScheme.startsWith('/') ? noScheme : join('/user', user, noScheme).split('\\').join('/'));
}
