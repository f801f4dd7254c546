// `horn logs APP_ID [--container ID] [--file NAME] [--follow] [--raw]`: container logs straight
// from the NodeManagers' REST API. With log aggregation off they stay on each NM's disk for
// yarn.nodemanager.log.retain-seconds, so the same path serves running and finished applications.
// The AM's and containers' structured lines (src/common/log.ts) are printed readably, one line
// each (time, level, role and index, message, other fields); --raw prints the JSON as written.
import type { Argv, CommandModule } from 'yargs';
import { HornError } from '../../common/errors';
import type { LogRecord } from '../../common/log';
import { sleep } from '../../common/sleep';
import { containerBelongsTo, NodeManagerLogs, type ContainerRef } from '../../hadoop/nm-rest/logs';
import { createClientContext } from '../context';
import { jsonLine } from '../format';
import { ENDED_STATES, type ResourceManagerClient } from '../../hadoop/rm-rest/client';
import { requireApplicationId } from './status';

const CONTAINER_ID = /^(container_(?:e\d+_)?\d+_\d+_\d+_)(\d+)$/;

/** The container id of an application's attempt with sequence number `seq`, in the AM container's format. */
export function siblingContainerId(amContainerId: string, seq: number): string {
  const m = CONTAINER_ID.exec(amContainerId);
  if (!m) throw new HornError(`not a container id: ${amContainerId}`, 'internal', { containerId: amContainerId });
  return `${m[1]}${String(seq).padStart(6, "0")}`;
}

/** Containers first AM then by id, so output reads in launch order. */
export function sortContainers(containers: Iterable<ContainerRef>): ContainerRef[] {
  return [...containers].sort((a, b) => Number(b.am) - Number(a.am) || a.containerId.localeCompare(b.containerId));
}

export interface DiscoverOptions {
  /** Probe container sequence numbers on the NMs that know the application (finds finished containers). */
  readonly probe: boolean;
  /** Consecutive unknown sequence numbers after which probing stops. */
  readonly gap?: number;
}

/**
 * The application's containers: the AM containers from the RM's attempts, what each RUNNING NM
 * lists, and — since an NM forgets finished containers in its list but keeps their logs — the
 * sequence numbers after each AM container probed on the NMs that know the application.
 */
export async function discoverContainers(rm: ResourceManagerClient, nm: NodeManagerLogs, applicationId: string, options: DiscoverOptions): Promise<ContainerRef[]> {
  const found = new Map<string, ContainerRef>();
  const attempts = await rm.appAttempts(applicationId);
  for (const a of attempts) {
    if (a.containerId && a.nodeHttpAddress) found.set(a.containerId, { containerId: a.containerId, nodeHttpAddress: a.nodeHttpAddress, am: true });
  }
  const nodes = (await rm.nodes(['RUNNING'])).map((n) => n.nodeHTTPAddress).filter((a) => !!a);
  const listed = await Promise.all(nodes.map((node) => nm.containers(node, applicationId)));
  for (const c of listed.flat()) if (!found.has(c.containerId)) found.set(c.containerId, c);

  if (options.probe) {
    const hosting = (await Promise.all(nodes.map(async (node) => ((await nm.knowsApplication(node, applicationId)) ? node : undefined)))).filter((n): n is string => !!n);
    const gap = options.gap ?? 8;
    for (const a of attempts) {
      if (!a.containerId || !CONTAINER_ID.test(a.containerId) || hosting.length === 0) continue;
      let misses = 0;
      for (let seq = 2; misses < gap; seq += gap) {
        const ids = Array.from({ length: gap }, (_, i) => siblingContainerId(a.containerId, seq + i));
        const hits = await Promise.all(
          ids.map(async (id) => {
            const known = found.get(id);
            if (known) return known;
            // An NM that knows the application answers 200 with no files for ids it never ran.
            for (const node of hosting) if (((await nm.logFiles(node, id)) ?? []).length > 0) return { containerId: id, nodeHttpAddress: node, am: false };
            return undefined;
          }),
        );
        for (const hit of hits) {
          if (hit) {
            found.set(hit.containerId, hit);
            misses = 0;
          } else {
            misses++;
          }
        }
      }
    }
  }
  return sortContainers(found.values());
}

export interface LogsArgs {
  app: string;
  container?: string;
  file: string[];
  follow: boolean;
  json: boolean;
  raw?: boolean;
  interval: number;
}

/** Fields every structured line has, shown in fixed places rather than as key=value. */
const PLACED_FIELDS = new Set(['level', 'time', 'msg', 'role', 'index', 'containerId', 'applicationId', 'host', 'err']);

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One log line for people: a structured line (a JSON object with level, time and msg) becomes
 * `HH:MM:SS.mmm LEVEL role index  message key=value…`, with an error's stack indented below;
 * any other line is returned as it is.
 */
export function readableLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let record: LogRecord;
  try {
    record = JSON.parse(line) as LogRecord;
  } catch {
    return line;
  }
  if (!record || typeof record !== 'object' || typeof record.msg !== 'string' || typeof record.level !== 'string' || typeof record.time !== 'string') return line;
  const time = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(record.time)?.[1] ?? record.time;
  const who = [record.role, record.index].filter((x) => x !== undefined).join(' ');
  const fields = Object.entries(record)
    .filter(([k]) => !PLACED_FIELDS.has(k))
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  const err = record.err as { message?: string; stack?: string } | undefined;
  if (err?.message && !err.stack) fields.push(`err=${fieldValue(err.message)}`);
  const head = `${time} ${record.level.toUpperCase().padEnd(5)} ${who.padEnd(8)} ${record.msg}${fields.length ? ` ${fields.join(' ')}` : ''}`;
  return err?.stack ? `${head}\n${err.stack.split('\n').map((l) => `    ${l}`).join('\n')}` : head;
}

/** Cuts each source's bytes into whole lines, holding a partial last line until more comes. */
export class LogLines {
  private readonly partial = new Map<string, string>();

  push(source: string, data: Buffer): string[] {
    const lines = ((this.partial.get(source) ?? '') + data.toString('utf8')).split('\n');
    this.partial.set(source, lines.pop()!);
    return lines;
  }

  /** The held partial line of a source (at the end of its output), if any. */
  flush(source: string): string | undefined {
    const rest = this.partial.get(source);
    this.partial.delete(source);
    return rest || undefined;
  }
}

export const DEFAULT_LOG_FILES = ['stdout', 'stderr'];

export interface LogChunk {
  readonly containerId: string;
  readonly node: string;
  readonly file: string;
  readonly data: Buffer;
}

/** Reads the selected files of the selected containers from `offsets` on, advancing the offsets. */
export async function readNewLogs(nm: NodeManagerLogs, containers: readonly ContainerRef[], files: readonly string[], offsets: Map<string, number>): Promise<LogChunk[]> {
  const chunks: LogChunk[] = [];
  for (const c of containers) {
    const listed = await nm.logFiles(c.nodeHttpAddress, c.containerId);
    const names = files.includes('all') ? (listed ?? []).map((f) => f.fileName).sort() : files;
    for (const file of names) {
      const key = `${c.containerId}/${file}`;
      const offset = offsets.get(key) ?? 0;
      const size = listed?.find((f) => f.fileName === file)?.fileSize;
      if (listed && (size === undefined || size <= offset)) continue;
      const data = await nm.read(c.nodeHttpAddress, c.containerId, file);
      if (data === undefined || data.length <= offset) continue;
      offsets.set(key, data.length);
      chunks.push({ containerId: c.containerId, node: c.nodeHttpAddress, file, data: data.subarray(offset) });
    }
  }
  return chunks;
}

function header(chunk: LogChunk): string {
  return `==> ${chunk.containerId} on ${chunk.node}: ${chunk.file} <==\n`;
}

export async function runLogs(args: LogsArgs, out: (s: string | Buffer) => void = (s) => process.stdout.write(s)): Promise<void> {
  const applicationId = requireApplicationId(args.app);
  if (args.container !== undefined && !containerBelongsTo(args.container, applicationId)) {
    throw new HornError(`${args.container} is not a container of ${applicationId}`, 'input', { containerId: args.container, applicationId });
  }
  if (args.follow && args.json) throw new HornError('--follow and --json cannot be combined', 'input');
  const ctx = await createClientContext();
  const nm = new NodeManagerLogs(ctx.user, undefined, undefined, { negotiator: ctx.security.negotiator, httpsAgent: ctx.security.httpsAgent });
  const files = args.file.length > 0 ? args.file : DEFAULT_LOG_FILES;
  const offsets = new Map<string, number>();
  let app = await ctx.rm.getApplication(applicationId);

  const select = (all: ContainerRef[]) => (args.container ? all.filter((c) => c.containerId === args.container) : all);
  let containers = select(await discoverContainers(ctx.rm, nm, applicationId, { probe: true }));
  if (args.container && containers.length === 0 && !args.follow) {
    throw new HornError(`no NodeManager has logs of ${args.container} (not started yet, on a lost node, or its logs have been deleted)`, 'input', { containerId: args.container });
  }

  if (args.json) {
    const chunks = await readNewLogs(nm, containers, files, offsets);
    out(jsonLine({ applicationId, state: app.state, containers: containers.map((c) => ({ ...c, logs: chunks.filter((k) => k.containerId === c.containerId).map((k) => ({ file: k.file, content: k.data.toString('utf8') })) })) }));
    return;
  }

  let lastSource = '';
  const lines = new LogLines();
  const emit = (chunks: LogChunk[], final: boolean) => {
    for (const chunk of chunks) {
      const source = `${chunk.containerId}/${chunk.file}`;
      if (source !== lastSource) {
        const held = lines.flush(lastSource);
        if (held !== undefined) out(`${readableLogLine(held)}\n`);
        out(`${lastSource ? '\n' : ''}${header(chunk)}`);
      }
      lastSource = source;
      if (args.raw) out(chunk.data);
      else for (const line of lines.push(source, chunk.data)) out(`${readableLogLine(line)}\n`);
    }
    const held = final ? lines.flush(lastSource) : undefined;
    if (held !== undefined) out(`${readableLogLine(held)}\n`);
  };
  emit(await readNewLogs(nm, containers, files, offsets), !args.follow);
  if (!args.follow) {
    if (containers.length === 0) process.stderr.write(`horn: no container logs found for ${applicationId} (state ${app.state})\n`);
    return;
  }
  while (!ENDED_STATES.has(app.state)) {
    await sleep(args.interval * 1000);
    app = await ctx.rm.getApplication(applicationId);
    const ended = ENDED_STATES.has(app.state);
    // Cheap discovery while running (RM attempts + NM lists); probing once more at the end.
    const latest = select(await discoverContainers(ctx.rm, nm, applicationId, { probe: ended }));
    const known = new Map(containers.map((c) => [c.containerId, c]));
    for (const c of latest) known.set(c.containerId, c);
    containers = sortContainers(known.values());
    emit(await readNewLogs(nm, containers, files, offsets), ended);
  }
}

export const logsCommand: CommandModule<object, LogsArgs> = {
  command: 'logs <app>',
  describe: "Show an application's container logs (AM and workers) from the NodeManagers, while it runs and after",
  builder: (y: Argv<object>) =>
    y
      .positional('app', { type: 'string', demandOption: true, describe: 'application id (application_…)' })
      .option('container', { alias: 'c', type: 'string', describe: 'only this container (container_…)' })
      .option('file', { alias: 'f', type: 'string', array: true, default: [] as string[], describe: 'log files to show: stdout, stderr, prelaunch.err… or all (default: stdout and stderr)' })
      .option('follow', { type: 'boolean', default: false, describe: 'keep printing new output until the application ends' })
      .option('interval', { type: 'number', default: 2, describe: 'seconds between polls with --follow' })
      .option('raw', { type: 'boolean', default: false, describe: "print the AM's and containers' JSON log lines as written (default: one readable line each)" })
      .option('json', { type: 'boolean', default: false, describe: 'print {containers:[{containerId, nodeHttpAddress, am, logs:[{file, content}]}]}' }) as unknown as Argv<LogsArgs>,
  handler: async (args) => {
    requireApplicationId(args.app);
    await runLogs(args);
  },
};
