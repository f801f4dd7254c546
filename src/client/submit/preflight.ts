// Checks made before anything is submitted, so that a job that cannot run fails on the edge node
// with a precise message instead of hanging in ACCEPTED or failing on the cluster.
import { HornError } from '../../common/errors';
import type { SchedulerQueue } from '../../hadoop/rm-rest/client';
import type { JobSpec } from '../../job';

export class PreflightError extends HornError {
  constructor(readonly problems: readonly string[]) {
    super(`the job cannot run on this cluster:\n  - ${problems.join('\n  - ')}`, 'input', { problems: problems.length });
  }
}

export interface Capacity {
  readonly memory: number;
  readonly vCores: number;
}

/** Every container the job asks for must fit the scheduler's maximum allocation. */
export function resourceProblems(spec: JobSpec, max: Capacity): string[] {
  const asks: Array<[string, { memoryMb: number; vcores: number }]> = [
    ['cluster.am', spec.cluster.am],
    ['cluster.worker', spec.cluster.worker],
  ];
  if (spec.cluster.parameterServers.count > 0) asks.push(['cluster.parameterServers', spec.cluster.parameterServers]);
  const problems: string[] = [];
  for (const [field, r] of asks) {
    if (r.memoryMb > max.memory) problems.push(`${field}.memoryMb is ${r.memoryMb} MB, above the cluster's maximum allocation of ${max.memory} MB`);
    if (r.vcores > max.vCores) problems.push(`${field}.vcores is ${r.vcores}, above the cluster's maximum allocation of ${max.vCores} vcores`);
  }
  return problems;
}

/** The queue must exist, be a leaf and be running. `name` may be a leaf name or a full path. */
export function queueProblems(queues: readonly SchedulerQueue[], name: string): string[] {
  const match = queues.find((q) => q.path === name || q.name === name);
  if (!match) {
    const leaves = queues.filter((q) => q.leaf).map((q) => q.name);
    return [`queue "${name}" does not exist (leaf queues: ${leaves.join(', ') || 'none'})`];
  }
  if (!match.leaf) return [`queue "${name}" is a parent queue; submit to one of its leaf queues`];
  if (match.state && match.state !== 'RUNNING') return [`queue "${name}" is ${match.state}, not RUNNING`];
  return [];
}
