// Where to ask for a worker: on the hosts that hold the most of its input. Pure.
import type { BlockLocation } from '../hadoop/webhdfs/client';

/** Hosts ordered by how many bytes of the given blocks they hold, most first (ties by name). */
export function hostsByLocalBytes(blocks: readonly BlockLocation[]): Array<{ host: string; bytes: number }> {
  const bytes = new Map<string, number>();
  for (const b of blocks) for (const h of b.hosts) bytes.set(h, (bytes.get(h) ?? 0) + b.length);
  return [...bytes.entries()].map(([host, n]) => ({ host, bytes: n })).sort((a, b) => b.bytes - a.bytes || a.host.localeCompare(b.host));
}

/** The best host among those YARN can schedule on, or undefined when none holds the data. */
export function preferredHost(blocks: readonly BlockLocation[], schedulable: ReadonlySet<string>): string | undefined {
  return hostsByLocalBytes(blocks).find((h) => schedulable.size === 0 || schedulable.has(h.host))?.host;
}
