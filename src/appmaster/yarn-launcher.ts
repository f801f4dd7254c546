// Starts a job's containers on YARN for the coordinator, one tracked slot per (role, index), as
// Skein's ServiceTracker does: each slot has its own container request (its own allocation request
// id, so allocations match back exactly), workers first asked only on the hosts that hold their
// split and relaxed to anywhere after the locality wait; launches run off the heartbeat, all in
// parallel; completions are reported with the exit status and the end of the container's stderr.
import { describeError } from '../common/errors';
import { localBytes, type Split } from '../cluster/splits';
import type { ContainerExit, Coordinator, Launcher } from '../coordinator/coordinator';
import { tailLines } from '../coordinator/diagnostics';
import type { NodeManagerLogs } from '../hadoop/nm-rest/logs';
import { Credentials } from '../hadoop/security';
import type { DelegationTokens } from '../hadoop/webhdfs/delegation';
import { formatContainerId, type AMRMClient, type AllocateResult, type Container, type ContainerStatus, type LocalResource, type NMClient } from '../hadoop/yarn';
import { containerCommand, ENV, SECRET_ALIAS, type ContainerRole, type Locality, type StagedJob } from '../protocol';

interface TrackedSlot {
  readonly role: ContainerRole;
  readonly index: number;
  attempt: number;
  /** allocation_request_id of this slot's asks. */
  readonly requestKey: number;
  requestId?: number;
  relaxed: boolean;
  askedAt: number;
  container?: Container;
  running: boolean;
  completed: boolean;
  /** Hosts a replacement should not go to (where the last attempt failed). */
  avoid: string[];
}

export interface YarnLauncherOptions {
  readonly job: StagedJob;
  readonly amrm: AMRMClient;
  readonly nm: NMClient;
  readonly nmLogs: NodeManagerLogs;
  readonly resources: Readonly<Record<string, LocalResource>>;
  /** The environment every container gets (role and index are added per slot). */
  readonly environment: Readonly<Record<string, string>>;
  readonly secret: Uint8Array;
  /** The application's delegation tokens (Kerberos), passed on to every container. */
  readonly tokens?: DelegationTokens;
  readonly splits: readonly Split[];
  readonly localityWaitMs: number;
  readonly log: (message: string) => void;
}

/** Priorities of the asks: workers before servers. */
const PRIORITY: Record<ContainerRole, number> = { worker: 1, server: 2 };

export class YarnLauncher implements Launcher {
  private readonly slots: TrackedSlot[] = [];
  private coordinator!: Coordinator;

  constructor(private readonly o: YarnLauncherOptions) {}

  attach(coordinator: Coordinator): void {
    this.coordinator = coordinator;
  }

  launch(role: ContainerRole, index: number, attempt: number, avoid: readonly string[] = []): void {
    let slot = this.slots.find((s) => s.role === role && s.index === index);
    if (!slot) {
      slot = { role, index, attempt, requestKey: (role === 'worker' ? 1 : 100_001) + index, relaxed: false, askedAt: Date.now(), running: false, completed: false, avoid: [] };
      this.slots.push(slot);
    }
    // A replacement is a new container for the same slot (its old one, if still known, is stopped).
    Object.assign(slot, { attempt, container: undefined, running: false, completed: false, avoid: [...avoid] });
    this.ask(slot, role === 'server' || attempt > 0 || this.hostsOf(index, false).length === 0);
  }

  stop(role: ContainerRole, index: number): void {
    const slot = this.slots.find((s) => s.role === role && s.index === index);
    const c = slot?.container;
    if (!c || slot.completed) return;
    slot.completed = true;
    void this.o.nm.stopContainer(c.id, c.nodeId).catch(() => undefined);
    this.o.amrm.releaseContainer(c.id);
  }

  blacklist(host: string): void {
    this.o.amrm.updateBlacklist([host]);
  }

  /** Strictly the split's anchor host (it holds the most of it); relaxed, also the others holding at least half. */
  private hostsOf(index: number, relaxed: boolean): string[] {
    const split = this.o.splits[index];
    if (!split?.host) return [];
    return [split.host, ...(relaxed ? split.hosts.filter((h) => h.host !== split.host && h.bytes * 2 >= split.bytes).map((h) => h.host) : [])];
  }

  private ask(slot: TrackedSlot, relaxed: boolean): void {
    const r = slot.role === 'worker' ? this.o.job.spec.cluster.worker : this.o.job.spec.cluster.parameterServers;
    const nodes = slot.role === 'worker' ? this.hostsOf(slot.index, relaxed).filter((h) => !slot.avoid.includes(h)) : [];
    if (slot.requestId !== undefined) this.o.amrm.removeContainerRequest(slot.requestId);
    slot.relaxed = relaxed;
    slot.askedAt = Date.now();
    slot.requestId = this.o.amrm.addContainerRequest({
      capability: { memory: r.memoryMb, virtualCores: r.vcores },
      priority: PRIORITY[slot.role],
      allocationRequestId: slot.requestKey,
      nodes: nodes.length ? nodes : undefined,
      relaxLocality: relaxed || nodes.length === 0,
    }).requestId;
    this.o.log(`asked for ${slot.role} ${slot.index}${nodes.length ? ` on ${nodes.join(', ')}${relaxed ? ' (or anywhere)' : ' only'}` : ''}`);
  }

  /** Called with every heartbeat's result. */
  onHeartbeat(r: AllocateResult): void {
    const now = Date.now();
    for (const s of this.slots) {
      if (!s.container && !s.relaxed && now - s.askedAt >= this.o.localityWaitMs) {
        this.o.log(`${s.role} ${s.index}: no container on its split's hosts within the locality wait of ${this.o.localityWaitMs / 1000} s; asking anywhere`);
        this.ask(s, true);
      }
    }
    for (const a of r.allocated) {
      const slot = this.slots.find((s) => s.requestKey === (a.container.allocationRequestId ?? a.request.allocationRequestId) && !s.container);
      if (!slot) {
        this.o.amrm.releaseContainer(a.container.id);
        continue;
      }
      slot.container = a.container;
      slot.requestId = undefined;
      this.coordinator.allocated(slot.role, slot.index, slot.attempt, { containerId: formatContainerId(a.container.id), host: a.container.nodeId.host, locality: slot.role === 'worker' ? this.localityOf(slot.index, a.container.nodeId.host) : undefined });
      void this.start(slot, a.container);
    }
    for (const c of r.completed) void this.onCompleted(c);
  }

  private localityOf(index: number, host: string): Locality {
    const split = this.o.splits[index];
    if (!split || split.bytes === 0) return 'node-local';
    if (localBytes(split, host) * 2 >= split.bytes) return 'node-local';
    const rack = (h: string) => split.ranges.flatMap((x) => x.replicas).find((x) => x.host === h)?.rack ?? '/default-rack';
    return split.host && rack(split.host) === rack(host) ? 'rack-local' : 'off-switch';
  }

  private async start(slot: TrackedSlot, container: Container): Promise<void> {
    const attempt = slot.attempt;
    const r = slot.role === 'worker' ? this.o.job.spec.cluster.worker : this.o.job.spec.cluster.parameterServers;
    try {
      await this.o.nm.startContainer(container, {
        localResources: this.o.resources,
        environment: { ...this.o.environment, [ENV.role]: slot.role, [ENV.index]: String(slot.index), [ENV.attempt]: String(slot.attempt) },
        commands: [containerCommand(slot.role, r.memoryMb, this.o.job.spec.cluster.runtime)],
        credentials: (this.o.tokens?.credentials() ?? new Credentials()).addSecret(SECRET_ALIAS, this.o.secret),
      });
      slot.running = true;
      this.coordinator.launched(slot.role, slot.index, attempt);
    } catch (err) {
      this.coordinator.launchFailed(slot.role, slot.index, attempt, describeError(err));
    }
  }

  private async onCompleted(status: ContainerStatus): Promise<void> {
    const id = formatContainerId(status.containerId);
    const slot = this.slots.find((s) => s.container && formatContainerId(s.container.id) === id);
    if (!slot) return;
    const attempt = slot.attempt;
    const stoppedByUs = slot.completed;
    slot.completed = true;
    slot.running = false;
    if (stoppedByUs) return;
    const c = slot.container!;
    const stderr = status.exitStatus !== 0 && c.nodeHttpAddress ? await this.o.nmLogs.read(c.nodeHttpAddress, id, 'stderr').catch(() => undefined) : undefined;
    const exit: ContainerExit = { exitStatus: status.exitStatus, diagnostics: status.diagnostics, stderrTail: stderr ? tailLines(stderr.toString('utf8'), 20) : undefined };
    this.coordinator.exited(slot.role, slot.index, attempt, exit);
  }

  /** Stops every container still running (the NM kills it; the RM reports it completed). */
  async stopAll(): Promise<void> {
    for (const s of this.slots) if (s.requestId !== undefined) this.o.amrm.removeContainerRequest(s.requestId);
    await Promise.allSettled(
      this.slots
        .filter((s) => s.container && !s.completed)
        .map(async (s) => {
          await this.o.nm.stopContainer(s.container!.id, s.container!.nodeId).catch(() => undefined);
          this.o.amrm.releaseContainer(s.container!.id);
        }),
    );
  }
}
