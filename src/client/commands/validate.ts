// `horn validate JOB.yaml [--json]`: checks a job file without a cluster.
// Exit 0 when valid, 2 when invalid or unreadable (the documented "invalid input" code).
import type { Argv, CommandModule } from 'yargs';
import { JobFileReadError, JobValidationError } from '../../job/errors';
import { describeDistribution } from '../../job/describe';
import { loadJobFile } from '../../job/load';
import { ExitCode } from '../exit-codes';
import { jsonLine, plural } from '../format';


export interface ValidateArgs {
  job: string;
  json: boolean;
  defaults?: string;
}

export interface ValidateOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The command's whole behaviour, without touching process state (so tests call it directly). */
export function runValidate(args: ValidateArgs): ValidateOutcome {
  try {
    const loaded = loadJobFile(args.job, { defaultsFile: args.defaults });
    const distribution = describeDistribution(loaded.spec);
    const stdout = args.json
      ? jsonLine({ valid: true, file: args.job, spec: loaded.spec, ...(distribution ? { distribution } : {}) })
      : `${args.job}: valid (job "${loaded.spec.name}", ${plural(loaded.spec.model.layers.length, 'layer')}, ${plural(loaded.spec.training.epochs, 'epoch')})\n${distribution ? `  ${distribution}\n` : ''}`;
    return { exitCode: ExitCode.Succeeded, stdout, stderr: '' };
  } catch (err) {
    if (err instanceof JobValidationError) {
      const lines = err.errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.field || '(document)'}: expected ${e.expected}, found ${e.found}`);
      if (args.json) {
        return { exitCode: ExitCode.InvalidInput, stdout: jsonLine({ valid: false, file: args.job, errors: err.errors.map((e) => e.toJSON()) }), stderr: '' };
      }
      return { exitCode: ExitCode.InvalidInput, stdout: '', stderr: `${lines.join('\n')}\n${args.job}: invalid (${err.errors.length} error${err.errors.length === 1 ? '' : 's'})\n` };
    }
    if (err instanceof JobFileReadError) {
      if (args.json) return { exitCode: ExitCode.InvalidInput, stdout: jsonLine({ valid: false, file: err.file, errors: [{ file: err.file, message: err.message }] }), stderr: '' };
      return { exitCode: ExitCode.InvalidInput, stdout: '', stderr: `${err.message}\n` };
    }
    throw err;
  }
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <job>',
  describe: 'Check a job file against the schema (no cluster needed); exit 0 if valid, 2 if not',
  builder: (y: Argv<object>) =>
    y
      .positional('job', { type: 'string', demandOption: true, describe: 'the job file (YAML)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result (resolved job or errors) as JSON' })
      .option('defaults', { type: 'string', describe: 'defaults file instead of conf/job-defaults.yaml' }) as unknown as Argv<ValidateArgs>,
  handler: (args) => {
    const outcome = runValidate({ job: args.job, json: args.json, defaults: args.defaults });
    if (outcome.stdout) process.stdout.write(outcome.stdout);
    if (outcome.stderr) process.stderr.write(outcome.stderr);
    process.exitCode = outcome.exitCode;
  },
};
