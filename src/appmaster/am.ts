// The ApplicationMaster: registers with the ResourceManager, asks for the worker next to its
// data, launches it, relays its progress to the RM and the status page, and unregisters with the
// true final status. Every wait is bounded; every failure ends in diagnostics that name the
// container, host, exit status and the end of its stderr.
import { HornError, describeError } from '../common/errors';
import { primaryPath } from '../data';
import { NodeManagerLogs } from '../hadoop/nm-rest/logs';
import { Credentials } from '../hadoop/security';
import { WebHdfsClient } from '../hadoop/webhdfs/client';
import {
  AMRMClient,
  ContainerExitStatus,
  formatContainerId,
  NMClient,
  type AllocateResult,
  type Container,
  type ContainerStatus,
  type LocalResource,
  type URLRecord,
} from '../hadoop/yarn';
import { containerCommand, ENV, parseCachedResources, readStagedJob, RESOURCE, RESULT_MARKER, SECRET_ALIAS, type JobResult } from '../protocol';
import { WireServer, type WireConnection } from '../wire/channel';
import type { Frame } from '../wire/frames';
import { describeFailure, tailLines, type ContainerFailure } from './diagnostics';
import { startStatusServer } from './http';
import { preferredHost } from './placement';
import { JobStatus } from './status';

const HEARTBEAT_MS = 1_000;

/** Bounds on every wait of the ApplicationMaster, from the job's cluster.timeouts. */
interface AmLimits {
  readonly allocationMs: number;
  readonly connectMs: number;
  /** A connected worker that reports nothing for this long is declared hung. */
  readonly silenceMs: number;
}

function limitsOf(job: ReturnType<typeof readStagedJob>): AmLimits {
  const t = job.spec.cluster.timeouts;
  return { allocationMs: t.allocationSeconds * 1000, connectMs: t.connectSeconds * 1000, silenceMs: t.silenceSeconds * 1000 };
}

interface AmEnvironment {
  readonly user: string;
  readonly namenodes: string[];
  readonly stagingDir: string;
  /** Cached artifacts (runtime, node, kernels): link name → URI, localized in every container. */
  readonly cached: Record<string, string>;
  readonly host: string;
}

function readEnvironment(env: NodeJS.ProcessEnv): AmEnvironment {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new HornError(`the ApplicationMaster environment lacks ${name}`, 'internal', { variable: name });
    return v;
  };
  return {
    user: need(ENV.user),
    namenodes: need(ENV.namenodes).split(','),
    stagingDir: need(ENV.stagingDir),
    cached: parseCachedResources(env[ENV.cachedResources]),
    host: need('NM_HOST'),
  };
}

interface WorkerOutcome {
  readonly succeeded: boolean;
  readonly diagnostics: string;
  readonly testAccuracy?: number;
  readonly model?: string;
}

export async function runApplicationMaster(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const e = readEnvironment(env);
  const job = readStagedJob();
  const credentials = await Credentials.fromContainerEnvironment(env);
  const found = credentials.getSecret(SECRET_ALIAS);
  if (!found) throw new HornError(`no ${SECRET_ALIAS} secret in the container credentials`, 'internal');
  const secret: Uint8Array = found;
  const log = (msg: string): void => void process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
  const hdfs = new WebHdfsClient({ namenodeUrls: e.namenodes, user: e.user });
  const nmLogs = new NodeManagerLogs(e.user, 5_000, log);
  const status = new JobStatus({
    applicationId: job.applicationId,
    name: job.spec.name,
    epochs: job.spec.training.epochs,
    workers: 1,
    groups: [[0]],
    servers: 0,
    consistency: { mode: 'bsp' },
  });
  const limits = limitsOf(job);

  const workerDone = deferred<WorkerOutcome>();
  let result: JobResult | undefined;
  let lastHeard = Date.now();
  let connected = false;
  const wire = new WireServer(
    secret,
    (c: WireConnection) => {
      connected = true;
      lastHeard = Date.now();
      status.container('worker', 0).state = 'connected';
      c.on('message', (f: Frame) => {
        lastHeard = Date.now();
        const h = f.header;
        if (h.type === 'progress') status.workerReport(0, h as Parameters<JobStatus['workerReport']>[1]);
        else if (h.type === 'result') {
          result = h as JobResult;
          status.setPhase('saving');
          c.reply(f, { type: 'ack' });
        } else if (h.type === 'error') log(`worker reported: ${String(h.message)}`);
      });
    },
    (reason) => log(`refused a connection: ${reason}`),
  );
  const wireAddress = await wire.listen('0.0.0.0');
  const web = await startStatusServer(() => status.doc);
  const trackingUrl = `http://${e.host}:${web.port}`;

  // Reads the scheduler addresses (several under RM HA, with failover) from ENV.scheduler.
  const amrm = await AMRMClient.fromContainerEnvironment(env);
  const nm = new NMClient({ nmTokens: amrm.nmTokens });
  await amrm.register({ host: e.host, rpcPort: wireAddress.port, trackingUrl });
  log(`registered ${job.applicationId}; tracking URL ${trackingUrl}; wire ${e.host}:${wireAddress.port}; node ${process.version} at ${process.execPath}`);

  let finalStatus: 'SUCCEEDED' | 'FAILED' = 'FAILED';
  let diagnostics = '';
  const stop = async (signal: string): Promise<void> => {
    log(`received ${signal}; removing staging and stopping`);
    await hdfs.delete(e.stagingDir, true).catch(() => false);
    process.exit(143);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));

  try {
    const worker = await placeAndLaunch();
    const outcome = await Promise.race([workerDone.promise, watchdog(worker)]);
    finalStatus = outcome.succeeded ? 'SUCCEEDED' : 'FAILED';
    diagnostics = outcome.diagnostics;
    status.finish({ ...outcome, phase: outcome.succeeded ? 'succeeded' : 'failed' });
  } catch (err) {
    diagnostics = `ApplicationMaster failed: ${describeError(err)}`;
    status.finish({ phase: 'failed', diagnostics });
  } finally {
    amrm.setProgress(status.doc.progress);
    await amrm.stopHeartbeats().catch(() => undefined);
    await hdfs.delete(e.stagingDir, true).catch((err: unknown) => log(`could not remove staging ${e.stagingDir}: ${describeError(err)}`));
    log(`finishing: ${finalStatus}: ${diagnostics}`);
    await amrm.finish({ finalStatus, diagnostics, trackingUrl }).catch((err: unknown) => log(`unregister failed: ${describeError(err)}`));
    await Promise.allSettled([nm.close(), amrm.close(), wire.close(), new Promise((r) => web.server.close(r))]);
  }
  return finalStatus === 'SUCCEEDED' ? 0 : 1;

  async function placeAndLaunch(): Promise<{ container?: Container }> {
    status.setPhase('allocating');
    const blocks = await hdfs.getFileBlockLocations(primaryPath(job.train));
    const host = preferredHost(blocks, new Set());
    const w = job.spec.cluster.worker;
    amrm.addContainerRequest({ capability: { memory: w.memoryMb, virtualCores: w.vcores }, priority: 1, nodes: host ? [host] : undefined, relaxLocality: true });
    log(`asked for the worker container${host ? ` on ${host} (holds most of ${primaryPath(job.train)})` : ''}`);
    const resources = await workerResources();
    const worker: { container?: Container } = {};
    const allocated = deferred<void>();
    amrm.startHeartbeats({
      intervalMs: HEARTBEAT_MS,
      onResult: async (r: AllocateResult) => {
        amrm.setProgress(status.doc.progress);
        for (const a of r.allocated) {
          if (worker.container) continue;
          worker.container = a.container;
          const view = status.container('worker', 0);
          view.containerId = formatContainerId(a.container.id);
          view.host = a.container.nodeId.host;
          status.setPhase('launching');
          log(`allocated ${view.containerId} on ${view.host} (${a.locality}-local); launching`);
          try {
            await nm.startContainer(a.container, {
              localResources: resources,
              environment: {
                [ENV.role]: 'worker',
                [ENV.user]: e.user,
                [ENV.namenodes]: e.namenodes.join(','),
                [ENV.amWire]: `${e.host}:${wireAddress.port}`,
                [ENV.index]: '0',
                [ENV.attempt]: '0',
              },
              commands: [containerCommand('worker', w.memoryMb, job.spec.cluster.runtime)],
              credentials: new Credentials().addSecret(SECRET_ALIAS, secret),
            });
            view.state = 'launched';
            allocated.resolve();
          } catch (err) {
            workerDone.resolve({ succeeded: false, diagnostics: `worker 0 (container ${view.containerId} on ${view.host}) could not be launched: ${describeError(err)}` });
          }
        }
        for (const s of r.completed) if (worker.container && sameContainer(s, worker.container)) await onWorkerCompleted(s, worker.container);
        if (r.amCommand === 'AM_SHUTDOWN') workerDone.resolve({ succeeded: false, diagnostics: 'the ResourceManager told the ApplicationMaster to shut down' });
      },
      onError: (err) => workerDone.resolve({ succeeded: false, diagnostics: `lost the ResourceManager: ${describeError(err)}` }),
    });
    await Promise.race([allocated.promise, workerDone.promise, timeout(limits.allocationMs, `no container was allocated for worker 0 within ${limits.allocationMs / 1000} s`)]);
    return worker;
  }

  async function onWorkerCompleted(s: ContainerStatus, container: Container): Promise<void> {
    const containerId = formatContainerId(container.id);
    const view = status.container('worker', 0);
    if (s.exitStatus === ContainerExitStatus.SUCCESS && result) {
      view.state = 'finished';
      const summary = { ...result };
      workerDone.resolve({
        succeeded: true,
        testAccuracy: summary.testAccuracy,
        model: summary.model,
        diagnostics: `trained ${job.spec.name}: test accuracy ${summary.testAccuracy === undefined ? 'n/a' : `${(summary.testAccuracy * 100).toFixed(2)}%`}, model ${summary.model}\n${RESULT_MARKER}${JSON.stringify(summary)}`,
      });
      return;
    }
    view.state = 'failed';
    const failure: ContainerFailure = {
      role: 'worker',
      index: 0,
      containerId,
      host: container.nodeId.host,
      exitStatus: s.exitStatus,
      diagnostics: s.diagnostics,
      stderrTail: tailLines((container.nodeHttpAddress ? await nmLogs.read(container.nodeHttpAddress, containerId, 'stderr') : undefined)?.toString('utf8') ?? '', 20),
      reason: s.exitStatus === 0 ? 'exited without reporting a result' : undefined,
    };
    workerDone.resolve({ succeeded: false, diagnostics: describeFailure(failure) });
  }

  /** Fails the run when the worker never connects or goes silent. */
  function watchdog(worker: { container?: Container }): Promise<WorkerOutcome> {
    return new Promise((resolve) => {
      const launchedAt = Date.now();
      const timer = setInterval(() => {
        const where = worker.container ? `worker 0 (container ${formatContainerId(worker.container.id)} on ${worker.container.nodeId.host})` : 'worker 0';
        if (!connected && Date.now() - launchedAt > limits.connectMs) {
          resolve({ succeeded: false, diagnostics: `${where} did not connect to the ApplicationMaster within ${limits.connectMs / 1000} s` });
        } else if (connected && Date.now() - lastHeard > limits.silenceMs) {
          resolve({ succeeded: false, diagnostics: `${where} reported nothing for ${limits.silenceMs / 1000} s` });
        } else return;
        clearInterval(timer);
      }, 1_000);
      void workerDone.promise.then(() => clearInterval(timer));
    });
  }

  async function workerResources(): Promise<Record<string, LocalResource>> {
    const out: Record<string, LocalResource> = {};
    const runtime = new URL(e.cached[RESOURCE.runtime]!);
    for (const [name, uri] of Object.entries(e.cached)) out[name] = await localResource(new URL(uri).pathname, 'PRIVATE');
    out[RESOURCE.job] = await localResource(`${e.stagingDir}/${RESOURCE.job}`, 'APPLICATION');
    for (const staged of Object.values(job.userFiles)) out[staged] = await localResource(`${e.stagingDir}/${staged}`, 'APPLICATION');
    return out;

    async function localResource(path: string, visibility: LocalResource['visibility']): Promise<LocalResource> {
      const st = await hdfs.getFileStatus(path);
      const url: URLRecord = { scheme: runtime.protocol.replace(/:$/, ''), host: runtime.hostname, port: runtime.port ? Number(runtime.port) : undefined, file: path };
      return { resource: url, size: st.length, timestamp: st.modificationTime, type: 'FILE', visibility };
    }
  }
}

function sameContainer(s: ContainerStatus, c: Container): boolean {
  return formatContainerId(s.containerId) === formatContainerId(c.id);
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new HornError(message, 'timeout')), ms).unref());
}
