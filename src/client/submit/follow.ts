// Following a submitted application until it ends: the RM for state, progress and the final
// status; the ApplicationMaster's status endpoint (through the RM proxy) for epoch, loss and
// accuracy while it runs.
import axios from 'axios';
import { sleep } from '../../common/sleep';
import { ENDED_STATES, type ApplicationReport, type ResourceManagerClient } from '../../hadoop/rm-rest/client';
import type { StatusDocument } from '../../protocol';
import type { ProgressView } from '../progress';

/** What the client shows of the ApplicationMaster's /status.json (src/protocol/status.ts). */
export type AmStatus = Partial<Pick<StatusDocument, 'phase' | 'epoch' | 'epochs' | 'loss' | 'accuracy' | 'samplesPerSecond' | 'progress' | 'containers' | 'history'>>;

export interface FollowOptions {
  readonly intervalMs?: number;
  /** Give up waiting (the application keeps running) after this long. */
  readonly timeoutMs?: number;
  readonly onUpdate?: (view: ProgressView, app: ApplicationReport) => void;
}

export interface FollowOutcome {
  /** The last report: final when the application ended, else the one at the timeout. */
  readonly app: ApplicationReport;
  readonly timedOut: boolean;
}

export async function followApplication(rm: ResourceManagerClient, applicationId: string, options: FollowOptions = {}): Promise<FollowOutcome> {
  const interval = options.intervalMs ?? 1_000;
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  for (;;) {
    const app = await rm.getApplication(applicationId);
    if (ENDED_STATES.has(app.state)) return { app, timedOut: false };
    if (Date.now() >= deadline) return { app, timedOut: true };
    const am = app.state === 'RUNNING' && app.trackingUrl ? await amStatus(app.trackingUrl) : undefined;
    options.onUpdate?.(
      {
        // The job's own phase (reading, training, evaluating…) once the AM answers.
        state: am?.phase ?? app.state,
        progress: am?.progress ?? app.progress / 100,
        epoch: am?.epoch,
        epochs: am?.epochs,
        loss: am?.loss,
        accuracy: am?.accuracy,
        samplesPerSecond: am?.samplesPerSecond,
        validationAccuracy: am?.history?.epochs.filter((e) => e.validationAccuracy !== undefined).pop()?.validationAccuracy,
        ...(am?.containers && am.containers.length > 1
          ? { workersUp: am.containers.filter((c) => c.role === 'worker' && (c.state === 'running' || c.state === 'connected')).length, workers: am.containers.filter((c) => c.role === 'worker').length }
          : {}),
      },
      app,
    );
    await sleep(interval);
  }
}

/** The AM's status, or undefined while it does not answer (starting, or already gone). */
async function amStatus(trackingUrl: string): Promise<AmStatus | undefined> {
  try {
    const url = `${trackingUrl.replace(/\/$/, '')}/status.json`;
    const response = await axios.get<AmStatus>(url, { timeout: 3_000, validateStatus: (s) => s === 200, maxRedirects: 0 });
    return typeof response.data === 'object' ? response.data : undefined;
  } catch {
    return undefined;
  }
}
