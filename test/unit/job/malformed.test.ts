// Every file in malformed/ is an invalid job. Its first line names the field the error must
// name ("# expect-field: training.optimizer.learningRate"), and the line that the error must
// point at carries the comment "# <- error".
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadJobFile } from '../../../src/job/load';
import { JobValidationError } from '../../../src/job/errors';
import { runValidate } from '../../../src/client/commands/validate';

const dir = join(__dirname, 'malformed');
const defaultsFile = join(__dirname, '../../../conf/job-defaults.yaml');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

test('there are at least 20 malformed job files', () => {
  expect(files.length).toBeGreaterThanOrEqual(20);
});

describe.each(files)('%s', (name) => {
  const file = join(dir, name);
  const text = readFileSync(file, 'utf8');
  const field = /^# expect-field: (\S+)/.exec(text)?.[1];
  const line = text.split('\n').findIndex((l) => l.includes('# <- error')) + 1;

  test('names the expected field and line', () => {
    expect(field).toBeDefined();
    expect(line).toBeGreaterThan(0);
    let caught: unknown;
    try {
      loadJobFile(file, { defaultsFile });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(JobValidationError);
    const errors = (caught as JobValidationError).errors;
    const match = errors.find((e) => e.field === field);
    if (!match) throw new Error(`no error for field ${field}; got:\n${errors.map((e) => e.message).join('\n')}`);
    expect({ field: match.field, line: match.line, file: match.file }).toEqual({ field, line, file });
    expect(match.column).toBeGreaterThan(0);
    expect(match.expected.length).toBeGreaterThan(0);
    expect(match.found.length).toBeGreaterThan(0);
  });

  test('horn validate exits 2 and prints file:line:col: field', () => {
    const out = runValidate({ job: file, json: false, defaults: defaultsFile });
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toMatch(new RegExp(`^${escape(file)}:${line}:\\d+: ${escape(field!)}: expected .+, found .+$`, 'm'));
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
