// A finished job's history, read back from HDFS beside its model (src/protocol/history.ts names
// the files). The model path comes from the result line in the application's final diagnostics,
// which the RM keeps after the ApplicationMaster is gone.
import { HornError } from '../common/errors';
import type { ApplicationReport } from '../hadoop/rm-rest/client';
import { ENDED_STATES } from '../hadoop/rm-rest/types';
import { HdfsNotFoundError, type WebHdfsClient } from '../hadoop/webhdfs/client';
import { historyFiles, parseResult, parseStatusDocument, type HistoryFiles, type StatusDocument } from '../protocol';
import { formatDuration, formatFields } from './format';

/** The final curves' key numbers, for `horn status`. */
export interface TrainingSummary {
  readonly epochs: number;
  readonly finalLoss?: number;
  readonly trainingAccuracy?: number;
  readonly validationAccuracy?: number;
  readonly testAccuracy?: number;
  readonly samplesPerSecond?: number;
  /** Training wall time. */
  readonly seconds?: number;
  readonly history: string;
  readonly report: string;
}

/** The history files of an ended application, or why there are none (for people). */
export function historyFilesOf(app: ApplicationReport): HistoryFiles | { missing: string } {
  if (!ENDED_STATES.has(app.state)) return { missing: `${app.id} is still ${app.state}; its live page is the tracking URL ${app.trackingUrl ?? ''}`.trim() };
  const model = parseResult(app.diagnostics)?.model;
  if (!model) return { missing: `${app.id} ended ${app.finalStatus} without a model in its final diagnostics, so it left no history` };
  return historyFiles(model);
}

/** history.json of an ended application; undefined when it has none (not written, or deleted). */
export async function readFinalHistory(hdfs: Pick<WebHdfsClient, 'readFile'>, app: ApplicationReport): Promise<{ doc: StatusDocument; files: HistoryFiles } | undefined> {
  const files = historyFilesOf(app);
  if ('missing' in files) return undefined;
  try {
    const text = (await hdfs.readFile(files.history)).toString('utf8');
    return { doc: parseStatusDocument(text, files.history), files };
  } catch (err) {
    if (err instanceof HdfsNotFoundError) return undefined;
    throw err;
  }
}

export function summarizeTraining(doc: StatusDocument, files: HistoryFiles): TrainingSummary {
  const epochs = doc.history?.epochs ?? [];
  const steps = doc.history?.steps ?? [];
  const last = epochs.at(-1);
  const validated = [...epochs].reverse().find((e) => e.validationAccuracy !== undefined);
  const seconds = epochs.reduce<number | undefined>((s, e) => (e.seconds === undefined ? s : (s ?? 0) + e.seconds), undefined);
  const rates = steps.map((p) => p.samplesPerSecond).filter((x): x is number => x !== undefined);
  return {
    epochs: last?.epoch ?? doc.epoch ?? 0,
    finalLoss: last?.loss ?? steps.at(-1)?.loss ?? doc.loss,
    trainingAccuracy: last?.accuracy ?? steps.at(-1)?.accuracy ?? doc.accuracy,
    validationAccuracy: validated?.validationAccuracy,
    testAccuracy: doc.testAccuracy,
    samplesPerSecond: rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : doc.samplesPerSecond,
    seconds: seconds ?? (last ? last.t / 1000 : undefined),
    history: files.history,
    report: files.report,
  };
}

const pct = (x: number | undefined) => (x === undefined ? undefined : `${(x * 100).toFixed(2)}%`);

export function formatTraining(s: TrainingSummary): string {
  return formatFields([
    ['Epochs', String(s.epochs)],
    ['Final loss', s.finalLoss?.toFixed(4)],
    ['Training accuracy', pct(s.trainingAccuracy)],
    ['Validation accuracy', pct(s.validationAccuracy)],
    ['Test accuracy', pct(s.testAccuracy)],
    ['Samples/s', s.samplesPerSecond === undefined ? undefined : String(Math.round(s.samplesPerSecond))],
    ['Training time', s.seconds === undefined ? undefined : formatDuration(s.seconds * 1000)],
    ['History', s.history],
    ['Report', `${s.report} (horn report APP_ID)`],
  ]);
}

/**
 * The training summary of an ended application, or undefined when it left no history. The RM's
 * answer stands on its own: a history that cannot be read is a warning, not a failed status.
 */
export async function finalTraining(
  hdfs: Pick<WebHdfsClient, 'readFile'>,
  app: ApplicationReport,
  warn: (message: string) => void = (m) => process.stderr.write(`horn: ${m}\n`),
): Promise<TrainingSummary | undefined> {
  try {
    const found = await readFinalHistory(hdfs, app);
    return found && summarizeTraining(found.doc, found.files);
  } catch (err) {
    warn(`could not read the training history of ${app.id}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** report.html of an ended application, or an input error saying why there is none. */
export async function readReport(hdfs: Pick<WebHdfsClient, 'readFile'>, app: ApplicationReport): Promise<{ path: string; html: Buffer }> {
  const files = historyFilesOf(app);
  if ('missing' in files) throw new HornError(files.missing, 'input', { applicationId: app.id, state: app.state });
  try {
    return { path: files.report, html: await hdfs.readFile(files.report) };
  } catch (err) {
    if (err instanceof HdfsNotFoundError) throw new HornError(`${app.id} has no report at ${files.report} (written by the ApplicationMaster when the job ends; deleted since, or the job ended before it could write it)`, 'input', { applicationId: app.id, path: files.report });
    throw err;
  }
}
