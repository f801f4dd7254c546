// Who is who in a distributed job: workers in equal groups, parameter servers beside them. Pure.
import { HornError } from '../common/errors';

export interface Topology {
  readonly workers: number;
  readonly groups: number;
  readonly servers: number;
  /** Workers per group. */
  readonly groupSize: number;
}

export function topology(workers: number, groups: number, servers: number): Topology {
  for (const [name, v, min] of [['workers', workers, 1], ['groups', groups, 1], ['servers', servers, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new HornError(`${name} must be an integer ≥ ${min}, got ${v}`, 'input', { field: name });
  }
  if (workers % groups !== 0) throw new HornError(`${groups} groups do not divide ${workers} workers evenly`, 'input', { field: 'groups' });
  if (groups > 1 && servers === 0) throw new HornError('groups meet only through parameter servers: more than one group needs servers', 'input', { field: 'groups' });
  return { workers, groups, servers, groupSize: workers / groups };
}

/** The group of a worker: groups are consecutive runs of worker indices. */
export function groupOf(t: Topology, worker: number): number {
  return Math.floor(worker / t.groupSize);
}

/** A worker's position in its group's ring. */
export function rankInGroup(t: Topology, worker: number): number {
  return worker % t.groupSize;
}

export function membersOf(t: Topology, group: number): number[] {
  return Array.from({ length: t.groupSize }, (_, r) => group * t.groupSize + r);
}

export function allGroups(t: Topology): number[][] {
  return Array.from({ length: t.groups }, (_, g) => membersOf(t, g));
}

/** The worker to the right of `worker` in its group's ring (itself in a group of one). */
export function rightNeighbour(t: Topology, worker: number): number {
  const g = groupOf(t, worker);
  return g * t.groupSize + ((rankInGroup(t, worker) + 1) % t.groupSize);
}

export function leftNeighbour(t: Topology, worker: number): number {
  const g = groupOf(t, worker);
  return g * t.groupSize + ((rankInGroup(t, worker) + t.groupSize - 1) % t.groupSize);
}
