// `horn report APP_ID [-o FILE]`: fetches the report.html a finished job left beside its model
// in HDFS (the training page frozen at the end: charts, containers, diagnostics; one
// self-contained file for a browser).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import { createClientContext, type ClientContext } from '../context';
import { jsonLine } from '../format';
import { readReport } from '../history';
import { requireApplicationId } from './status';

export interface ReportArgs {
  app: string;
  output?: string;
  json: boolean;
}

/** Writes the report to `-o FILE` (default `<APP_ID>.report.html`; `-` for stdout) and says where. */
export async function runReport(ctx: Pick<ClientContext, 'rm' | 'hdfs'>, args: ReportArgs, stdout: (s: string | Buffer) => void = (s) => process.stdout.write(s)): Promise<void> {
  const id = requireApplicationId(args.app);
  const app = await ctx.rm.getApplication(id);
  const report = await readReport(ctx.hdfs, app);
  if (args.output === '-') {
    stdout(report.html);
    return;
  }
  const file = resolve(args.output ?? `${id}.report.html`);
  try {
    writeFileSync(file, report.html);
  } catch (err) {
    throw new HornError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'input', { file }, { cause: err });
  }
  stdout(args.json ? jsonLine({ applicationId: id, report: report.path, file, bytes: report.html.length }) : `${file}\n`);
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <app>',
  describe: "Fetch a finished job's report.html (the training page frozen at the end) from HDFS",
  builder: (y: Argv<object>) =>
    y
      .positional('app', { type: 'string', demandOption: true, describe: 'application id (application_…)' })
      .option('output', { alias: 'o', type: 'string', describe: 'file to write (default <APP_ID>.report.html; - for stdout)' })
      .option('json', { type: 'boolean', default: false, describe: 'print {applicationId, report, file, bytes}' }) as unknown as Argv<ReportArgs>,
  handler: async (args) => {
    requireApplicationId(args.app);
    await runReport(await createClientContext(), args);
  },
};
