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

export interface NodeCapacity {
  readonly host: string;
  readonly memory: number;
  readonly vCores: number;
}

/**
 * The AM, N workers and S servers must fit the running NodeManagers together (each container on
 * one node; first fit, largest first): a gang that cannot start would otherwise wait for its
 * allocation timeout. Capacity is what the nodes have in all, not what is free now.
 */
export function capacityProblems(spec: JobSpec, nodes: readonly NodeCapacity[]): string[] {
  const c = spec.cluster;
  const asks: Array<{ memoryMb: number; vcores: number }> = [
    c.am,
    ...Array.from({ length: c.workers }, () => c.worker),
    ...Array.from({ length: c.parameterServers.count }, () => c.parameterServers),
  ];
  const need = { memory: asks.reduce((t, a) => t + a.memoryMb, 0), vCores: asks.reduce((t, a) => t + a.vcores, 0) };
  const have = { memory: nodes.reduce((t, n) => t + n.memory, 0), vCores: nodes.reduce((t, n) => t + n.vCores, 0) };
  const what = `the ApplicationMaster, ${c.workers} worker${c.workers === 1 ? '' : 's'} and ${c.parameterServers.count} parameter server${c.parameterServers.count === 1 ? '' : 's'}`;
  if (need.memory > have.memory || need.vCores > have.vCores) {
    return [`${what} need ${need.memory} MB and ${need.vCores} vcores in all; the cluster's ${nodes.length} running NodeManagers have ${have.memory} MB and ${have.vCores} vcores (cluster.workers, cluster.parameterServers.count, cluster.*.memoryMb)`];
  }
  const free = nodes.map((n) => ({ memory: n.memory, vCores: n.vCores }));
  for (const a of [...asks].sort((x, y) => y.memoryMb - x.memoryMb || y.vcores - x.vcores)) {
    const node = free.find((f) => f.memory >= a.memoryMb && f.vCores >= a.vcores);
    if (!node) return [`${what} do not fit on the cluster's ${nodes.length} running NodeManagers (${nodes.map((n) => `${n.host}: ${n.memory} MB, ${n.vCores} vcores`).join('; ')}) with one container on one node`];
    node.memory -= a.memoryMb;
    node.vCores -= a.vcores;
  }
  return [];
}
