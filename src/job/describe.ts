// What a job's cluster and consistency settings mean, in one sentence, for `horn validate` and the
// logs. Pure.
import type { JobSpec } from './schema';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function describeDistribution(spec: JobSpec): string | undefined {
  const c = spec.cluster;
  const t = spec.training;
  const servers = c.parameterServers.count;
  if (c.workers === 1 && servers === 0) return undefined;
  const m = c.workers / c.groups;
  const groupBatch = m * t.batchSize;
  const parts = [`${plural(c.workers, 'worker')} in ${plural(c.groups, 'group')} of ${m}`];
  if (m > 1) parts.push(`a group all-reduces its gradients every step and steps on ${m} × ${t.batchSize} = ${groupBatch} samples`);
  if (servers === 0) parts.push('each member updates its share of the parameters itself (no parameter servers)');
  else parts.push(`${plural(servers, 'parameter server')} hold the model in ${servers === 1 ? 'one shard' : `${servers} shards`} and apply the updates`);
  if (c.groups > 1) {
    const mode =
      t.consistency === 'bsp'
        ? `bsp: one update per clock from all ${c.groups} groups, averaged (synchronous; ${c.groups * groupBatch} samples per update)`
        : t.consistency === 'ssp'
          ? `ssp: each group's update is applied as it arrives, and a group may run at most ${t.staleness} clock${t.staleness === 1 ? '' : 's'} ahead of the slowest`
          : 'asp: each group\'s update is applied as it arrives, and no group waits for another';
    parts.push(mode);
  }
  if (t.wire === 'fp16') parts.push('parameters and gradients travel as fp16');
  return parts.join('; ');
}
