// Training splits from HDFS block locations: N splits of (nearly) equal bytes, each made of whole or
// cut blocks that, as far as the data allows, all have a replica on one host — the host YARN is then
// asked for. Because a record belongs to the range holding its first byte (src/data/plan.ts), any
// partition of the files into byte ranges reads every record exactly once, so blocks may be cut
// wherever balance needs it. Pure.
//
// 1. Targets: the total bytes cut into N shares whose sizes differ by at most one byte.
// 2. Anchors: split k is anchored on the host with the most replica bytes not yet claimed by earlier
//    anchors (claimed = the targets of the splits anchored there), so splits spread over hosts in
//    proportion to the data they hold.
// 3. Local bytes: a maximum flow from blocks (grouped by the set of hosts holding them) to anchor
//    hosts (capacity: the targets of their splits) says how many bytes of each group each host
//    reads locally; no assignment can read more bytes node-locally with these anchors.
// 4. Each host's bytes fill its splits in file order (blocks cut where a split is full); what no
//    host could take fills the splits that still have room.
import { HornError } from '../common/errors';
import { partition } from './ranges';

export interface Replica {
  readonly host: string;
  /** host:port of the DataNode's HTTP server (its WebHDFS endpoint). */
  readonly httpAddress: string;
  readonly rack?: string;
}

export interface InputBlock {
  readonly offset: number;
  readonly length: number;
  readonly replicas: readonly Replica[];
}

export interface InputFile {
  readonly path: string;
  readonly length: number;
  /** Cover [0, length) in order. */
  readonly blocks: readonly InputBlock[];
}

/** Bytes [start, end) of one file, with the replicas of the block(s) holding them. */
export interface SplitRange {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly replicas: readonly Replica[];
}

export interface Split {
  readonly index: number;
  readonly ranges: readonly SplitRange[];
  readonly bytes: number;
  /** The host asked for: it holds the most of this split's bytes (undefined when no host is known). */
  readonly host?: string;
  /** Hosts by the bytes of this split they hold, most first. */
  readonly hosts: ReadonlyArray<{ readonly host: string; readonly bytes: number }>;
}

export interface SplitOptions {
  /** Hosts YARN can run containers on; replicas elsewhere do not count for anchoring. Default: all. */
  readonly schedulable?: ReadonlySet<string>;
}

interface Piece {
  readonly file: number;
  readonly start: number;
  readonly end: number;
  readonly replicas: readonly Replica[];
}

export function computeSplits(files: readonly InputFile[], n: number, options: SplitOptions = {}): Split[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of splits must be a positive integer, got ${n}`);
  const usable = (h: string) => !options.schedulable || options.schedulable.has(h);
  const blocks: Piece[] = [];
  files.forEach((f, file) => {
    let expected = 0;
    for (const b of f.blocks) {
      if (b.offset !== expected) throw new HornError(`block locations of ${f.path} leave a gap at byte ${expected}`, 'cluster', { path: f.path });
      expected = b.offset + b.length;
      if (b.length > 0) blocks.push({ file, start: b.offset, end: b.offset + b.length, replicas: b.replicas });
    }
    if (expected !== f.length) throw new HornError(`block locations of ${f.path} cover ${expected} of its ${f.length} bytes`, 'cluster', { path: f.path });
  });
  const total = blocks.reduce((t, b) => t + (b.end - b.start), 0);
  const targets = partition(total, n).map((r) => r.end - r.start);

  const hostBytes = new Map<string, number>();
  for (const b of blocks) for (const r of b.replicas) if (usable(r.host)) hostBytes.set(r.host, (hostBytes.get(r.host) ?? 0) + (b.end - b.start));
  const claimed = new Map<string, number>();
  const anchors: Array<string | undefined> = targets.map((target) => {
    let best: string | undefined;
    let bestScore = -Infinity;
    for (const [host, bytes] of [...hostBytes].sort((a, b) => a[0].localeCompare(b[0]))) {
      const score = bytes - (claimed.get(host) ?? 0);
      if (score > bestScore) {
        best = host;
        bestScore = score;
      }
    }
    if (best !== undefined) claimed.set(best, (claimed.get(best) ?? 0) + target);
    return best;
  });

  const assigned: Piece[][] = targets.map(() => []);
  const room = [...targets];
  const take = (k: number, p: Piece, bytes: number): Piece => {
    assigned[k]!.push({ ...p, end: p.start + bytes });
    room[k]! -= bytes;
    return { ...p, start: p.start + bytes };
  };
  const anchorHosts = [...new Set(anchors.filter((a): a is string => a !== undefined))].sort();
  const capacity = anchorHosts.map((h) => targets.reduce((t, target, k) => t + (anchors[k] === h ? target : 0), 0));
  // Blocks grouped by which anchor hosts hold a replica (the flow only needs the group's bytes).
  const classes = new Map<string, { hosts: number[]; blocks: Piece[]; bytes: number }>();
  for (const b of blocks) {
    const hs = anchorHosts.flatMap((h, i) => (b.replicas.some((r) => r.host === h) ? [i] : []));
    const key = hs.join(',');
    const c = classes.get(key) ?? { hosts: hs, blocks: [], bytes: 0 };
    c.blocks.push(b);
    c.bytes += b.end - b.start;
    classes.set(key, c);
  }
  const classList = [...classes.values()];
  const flow = maxFlow(classList.map((c) => c.bytes), classList.map((c) => c.hosts), capacity);
  const leftover: Piece[] = [];
  const perHost: Piece[][] = anchorHosts.map(() => []);
  classList.forEach((c, ci) => {
    let quota = c.hosts.map((h) => flow[ci]!.get(h) ?? 0);
    let hi = 0;
    for (let p of c.blocks) {
      while (p.end > p.start && hi < quota.length) {
        if (quota[hi] === 0) {
          hi++;
          continue;
        }
        const n = Math.min(quota[hi]!, p.end - p.start);
        perHost[c.hosts[hi]!]!.push({ ...p, end: p.start + n });
        quota = quota.map((q, i) => (i === hi ? q - n : q));
        p = { ...p, start: p.start + n };
      }
      if (p.end > p.start) leftover.push(p);
    }
  });
  perHost.forEach((pieces, hi) => {
    pieces.sort((x, y) => x.file - y.file || x.start - y.start);
    const splitsHere = anchors.flatMap((a, k) => (a === anchorHosts[hi] ? [k] : []));
    let si = 0;
    for (let p of pieces) {
      while (p.end > p.start) {
        while (room[splitsHere[si]!]! === 0) si++;
        const k = splitsHere[si]!;
        p = take(k, p, Math.min(room[k]!, p.end - p.start));
      }
    }
  });
  leftover.sort((x, y) => x.file - y.file || x.start - y.start);
  let k = 0;
  for (let p of leftover) {
    while (p.end > p.start) {
      while (room[k]! === 0) k++;
      p = take(k, p, Math.min(room[k]!, p.end - p.start));
    }
  }

  return assigned.map((pieces, index) => {
    pieces.sort((x, y) => x.file - y.file || x.start - y.start);
    const ranges: SplitRange[] = [];
    for (const p of pieces) {
      const last = ranges[ranges.length - 1];
      if (last && last.path === files[p.file]!.path && last.end === p.start && sameHosts(last.replicas, p.replicas)) {
        ranges[ranges.length - 1] = { ...last, end: p.end };
      } else ranges.push({ path: files[p.file]!.path, start: p.start, end: p.end, replicas: p.replicas });
    }
    const bytesOn = new Map<string, number>();
    for (const r of ranges) for (const rep of r.replicas) bytesOn.set(rep.host, (bytesOn.get(rep.host) ?? 0) + (r.end - r.start));
    const hosts = [...bytesOn].map(([host, bytes]) => ({ host, bytes })).sort((a, b) => b.bytes - a.bytes || a.host.localeCompare(b.host));
    const anchor = anchors[index];
    return { index, ranges, bytes: targets[index]!, host: anchor ?? hosts.find((h) => usable(h.host))?.host, hosts };
  });
}

function sameHosts(a: readonly Replica[], b: readonly Replica[]): boolean {
  return a.length === b.length && a.every((r) => b.some((s) => s.host === r.host));
}

/** Bytes of a split that have a replica on `host`. */
export function localBytes(split: Split, host: string): number {
  return split.ranges.reduce((t, r) => t + (r.replicas.some((x) => x.host === host) ? r.end - r.start : 0), 0);
}

/**
 * Maximum flow from sources (bytes[i], with edges to hosts[i]) to sinks of the given capacities,
 * by Dinic's algorithm on the bipartite graph; returns, per source, the bytes sent to each sink.
 * Written by hand: a few dozen lines, and the graph is tiny (groups of blocks × hosts).
 */
function maxFlow(bytes: readonly number[], hosts: readonly (readonly number[])[], capacity: readonly number[]): Map<number, number>[] {
  const S = 0;
  const src = (i: number) => 1 + i;
  const dst = (h: number) => 1 + bytes.length + h;
  const T = 1 + bytes.length + capacity.length;
  const to: number[] = [];
  const cap: number[] = [];
  const adj: number[][] = Array.from({ length: T + 1 }, () => []);
  const edge = (a: number, b: number, c: number): number => {
    adj[a]!.push(to.length);
    to.push(b);
    cap.push(c);
    adj[b]!.push(to.length);
    to.push(a);
    cap.push(0);
    return to.length - 2;
  };
  bytes.forEach((b, i) => edge(S, src(i), b));
  const middle = hosts.map((hs, i) => hs.map((h) => ({ h, e: edge(src(i), dst(h), Number.MAX_SAFE_INTEGER) })));
  capacity.forEach((c, h) => edge(dst(h), T, c));
  const level = new Array<number>(T + 1);
  const next = new Array<number>(T + 1);
  const bfs = (): boolean => {
    level.fill(-1);
    level[S] = 0;
    const queue = [S];
    for (let qi = 0; qi < queue.length; qi++) {
      const v = queue[qi]!;
      for (const e of adj[v]!) if (cap[e]! > 0 && level[to[e]!]! < 0) {
        level[to[e]!] = level[v]! + 1;
        queue.push(to[e]!);
      }
    }
    return level[T]! >= 0;
  };
  const dfs = (v: number, f: number): number => {
    if (v === T) return f;
    for (; next[v]! < adj[v]!.length; next[v]!++) {
      const e = adj[v]![next[v]!]!;
      if (cap[e]! > 0 && level[to[e]!] === level[v]! + 1) {
        const d = dfs(to[e]!, Math.min(f, cap[e]!));
        if (d > 0) {
          cap[e]! -= d;
          cap[e ^ 1]! += d;
          return d;
        }
      }
    }
    return 0;
  };
  while (bfs()) {
    next.fill(0);
    while (dfs(S, Number.MAX_SAFE_INTEGER) > 0);
  }
  return middle.map((edges) => new Map(edges.map(({ h, e }) => [h, cap[e ^ 1]!])));
}
