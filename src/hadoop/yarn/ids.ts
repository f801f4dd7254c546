// YARN id strings (ApplicationId/ApplicationAttemptId/ContainerId.toString) and their parsing.
import { HornError } from '../../common/errors';
import type { ApplicationAttemptId, ApplicationId, ContainerId } from './records';

export class YarnIdFormatError extends HornError {
  constructor(
    readonly idKind: string,
    readonly value: string,
  ) {
    super(`not a valid ${idKind} id: ${JSON.stringify(value)}`, 'input');
  }
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const SEQUENCE_BITS = 2 ** 40;

export function formatApplicationId(id: ApplicationId): string {
  return `application_${id.clusterTimestamp}_${pad(id.id, 4)}`;
}

export function formatApplicationAttemptId(id: ApplicationAttemptId): string {
  return `appattempt_${id.applicationId.clusterTimestamp}_${pad(id.applicationId.id, 4)}_${pad(id.attemptId, 6)}`;
}

export function formatContainerId(id: ContainerId): string {
  const app = id.appAttemptId.applicationId;
  const epoch = Math.floor(id.id / SEQUENCE_BITS);
  const seq = id.id % SEQUENCE_BITS;
  const epochPart = epoch > 0 ? `e${pad(epoch, 2)}_` : '';
  return `container_${epochPart}${app.clusterTimestamp}_${pad(app.id, 4)}_${pad(id.appAttemptId.attemptId, 2)}_${pad(seq, 6)}`;
}

export function parseApplicationId(s: string): ApplicationId {
  const m = /^application_(\d+)_(\d+)$/.exec(s);
  if (!m) throw new YarnIdFormatError('application', s);
  return { clusterTimestamp: Number(m[1]), id: Number(m[2]) };
}

export function parseApplicationAttemptId(s: string): ApplicationAttemptId {
  const m = /^appattempt_(\d+)_(\d+)_(\d+)$/.exec(s);
  if (!m) throw new YarnIdFormatError('application attempt', s);
  return { applicationId: { clusterTimestamp: Number(m[1]), id: Number(m[2]) }, attemptId: Number(m[3]) };
}

export function parseContainerId(s: string): ContainerId {
  const m = /^container_(?:e(\d+)_)?(\d+)_(\d+)_(\d+)_(\d+)$/.exec(s);
  if (!m) throw new YarnIdFormatError('container', s);
  const epoch = m[1] ? Number(m[1]) : 0;
  const applicationId = { clusterTimestamp: Number(m[2]), id: Number(m[3]) };
  const appAttemptId = { applicationId, attemptId: Number(m[4]) };
  return { appId: applicationId, appAttemptId, id: epoch * SEQUENCE_BITS + Number(m[5]) };
}

/** Key for maps of containers (same as the id string). */
export const containerKey = formatContainerId;
