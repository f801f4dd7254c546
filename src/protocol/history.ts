// Where a finished job's history lives, beside its model in HDFS, and how it is read back. The
// ApplicationMaster writes the files when the job ends; `horn status` and `horn report` read them
// after the AM is gone, finding the model path in the application's final diagnostics.
//   <model>.history.json   the final StatusDocument with its full (downsampled) TrainingHistory
//   <model>.report.html    the training page frozen with that document, self-contained
//   <model>.tensorboard/   TensorBoard event files of the scalars (with output.tensorboard: true)
import { HornError } from '../common/errors';
import { readVersionedJson } from './json';
import { STATUS_VERSION, type StatusDocument } from './status';

export interface HistoryFiles {
  readonly history: string;
  readonly report: string;
  /** A directory: point TensorBoard's --logdir at a copy of it. */
  readonly tensorboard: string;
}

export function historyFiles(model: string): HistoryFiles {
  const base = model.replace(/\/+$/, '');
  return { history: `${base}.history.json`, report: `${base}.report.html`, tensorboard: `${base}.tensorboard` };
}

/** Parses and checks a status document (history.json, status.json); `where` names it in errors. */
export function parseStatusDocument(text: string, where: string): StatusDocument {
  const o = readVersionedJson(text, where, STATUS_VERSION, 'cluster', (v) => `status version ${String(v)}; this horn reads version ${STATUS_VERSION}`) as Partial<StatusDocument>;
  const bad = (field: string, expected: string) => new HornError(`${where}: ${field} is not ${expected}`, 'cluster', { file: where, field });
  for (const field of ['applicationId', 'name', 'phase'] as const) if (typeof o[field] !== 'string') throw bad(field, 'a string');
  for (const field of ['progress', 'startedAt', 'updatedAt', 'epochs'] as const) if (typeof o[field] !== 'number') throw bad(field, 'a number');
  if (!Array.isArray(o.containers)) throw bad('containers', 'a list');
  if (!Array.isArray(o.groups)) throw bad('groups', 'a list');
  if (o.history !== undefined) {
    if (!o.history || !Array.isArray(o.history.steps)) throw bad('history.steps', 'a list');
    if (!Array.isArray(o.history.epochs)) throw bad('history.epochs', 'a list');
    o.history.epochs.forEach((p, i) => {
      if (typeof p?.epoch !== 'number' || typeof p.loss !== 'number') throw bad(`history.epochs[${i}]`, 'an epoch point {epoch, t, loss, accuracy}');
    });
  }
  return o as StatusDocument;
}
