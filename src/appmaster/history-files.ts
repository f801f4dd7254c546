// What the ApplicationMaster leaves beside the model when the job ends: history.json (the final
// status document with its history), report.html (the page frozen) and, with
// output.tensorboard, a TensorBoard event file. Paths: historyFiles() in src/protocol/history.ts.
import { hostname } from 'node:os';
import type { WebHdfsClient } from '../hadoop/webhdfs/client';
import { historyFiles, type StatusDocument } from '../protocol';
import { encodeEventFile, eventFileName, historyScalars } from './tensorboard';
import { renderReport } from './web/html';

export interface HistoryFilesOptions {
  /** output.tensorboard of the job. */
  readonly tensorboard: boolean;
  /** Names the event file (TensorBoard's convention); this host by default. */
  readonly host?: string;
  readonly now?: number;
}

export interface WrittenHistoryFiles {
  readonly history: string;
  readonly report: string;
  /** The event file, when written. */
  readonly tensorboard?: string;
}

/**
 * Writes the files (each under a temporary name, renamed into place; an existing one from an
 * earlier run with the same model path is replaced), with HDFS's default permissions, as the model.
 * HDFS errors are thrown: the caller decides whether a missing history fails the job (the model
 * is already saved).
 */
export async function writeHistoryFiles(
  hdfs: Pick<WebHdfsClient, 'createAtomically' | 'mkdirs'>,
  modelPath: string,
  doc: StatusDocument,
  options: HistoryFilesOptions,
): Promise<WrittenHistoryFiles> {
  const paths = historyFiles(modelPath);
  const now = options.now ?? Date.now();
  await hdfs.createAtomically(paths.history, Buffer.from(`${JSON.stringify(doc)}\n`), { replace: true });
  await hdfs.createAtomically(paths.report, Buffer.from(renderReport(doc)), { replace: true });
  if (!options.tensorboard) return { history: paths.history, report: paths.report };
  await hdfs.mkdirs(paths.tensorboard);
  const events = `${paths.tensorboard}/${eventFileName(now, options.host ?? hostname())}`;
  const scalars = historyScalars(doc.history ?? { steps: [], epochs: [] }, doc.startedAt);
  await hdfs.createAtomically(events, encodeEventFile(scalars, now), { replace: true });
  return { history: paths.history, report: paths.report, tensorboard: events };
}
