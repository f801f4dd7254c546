// The ApplicationMaster: wiring only. It registers with the ResourceManager, plans each worker's
// split from the HDFS block locations, runs the job's coordinator (src/coordinator) with a YARN
// launcher, serves the status page as the tracking URL, relays progress to the RM, and unregisters
// with the true final status and diagnostics. Every wait is bounded (the coordinator's limits).
import { HornError, describeError } from '../common/errors';
import { createLogger } from '../common/log';
import { Coordinator, limitsOf, type Outcome } from '../coordinator/coordinator';
import { planJob } from '../coordinator/plan';
import { JobStatus } from '../coordinator/status';
import { topology } from '../cluster/topology';
import { NodeManagerLogs } from '../hadoop/nm-rest/logs';
import { Credentials } from '../hadoop/security';
import { WebHdfsClient } from '../hadoop/webhdfs/client';
import { containerWebHdfs, DelegationTokens, watchRenewedTokens } from '../hadoop/webhdfs/delegation';
import { describeRpcAuthentication, RPC_AUTHENTICATED_CHANNEL, type RpcAuthenticatedEvent } from '../hadoop/ipc';
import { subscribe } from 'node:diagnostics_channel';
import { AMRMClient, NMClient, type LocalResource, type URLRecord } from '../hadoop/yarn';
import { ENV, parseCachedResources, readStagedJob, requireEnv, RESOURCE, SECRET_ALIAS, testHooks, type StagedJob } from '../protocol';
import { hdfsLister } from '../storage/hdfs';
import { writeLatestHdfs } from '../storage/latest';
import { jobHash, latestCheckpoint } from '../storage/checkpoints';
import { hdfsStorage } from '../storage/files';
import { writeHistoryFiles } from './history-files';
import { startStatusServer } from './http';
import { YarnLauncher } from './yarn-launcher';

const HEARTBEAT_MS = 1_000;

export async function runApplicationMaster(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const job = readStagedJob();
  const user = requireEnv(env, ENV.user, 'ApplicationMaster');
  const namenodes = requireEnv(env, ENV.namenodes, 'ApplicationMaster').split(',');
  const stagingDir = requireEnv(env, ENV.stagingDir, 'ApplicationMaster');
  const cached = parseCachedResources(env[ENV.cachedResources]);
  const host = requireEnv(env, 'NM_HOST', 'ApplicationMaster');
  const credentials = await Credentials.fromContainerEnvironment(env);
  const secret = credentials.getSecret(SECRET_ALIAS);
  if (!secret) throw new HornError(`no ${SECRET_ALIAS} secret in the container credentials`, 'internal');
  const logger = createLogger({ role: 'am', containerId: env.CONTAINER_ID, applicationId: job.applicationId, host }, { env });
  const log = (msg: string): void => logger.info(msg);
  const tokens = new DelegationTokens(credentials);
  const hdfs = containerWebHdfs(namenodes, user, tokens);
  const renewals = watchRenewedTokens(hdfs, tokens, stagingDir, log);
  subscribe(RPC_AUTHENTICATED_CHANNEL, (e) => log(describeRpcAuthentication(e as RpcAuthenticatedEvent)));
  const nmLogs = new NodeManagerLogs(user, 5_000, log);
  const c = job.spec.cluster;
  const t = topology(c.workers, c.groups, c.parameterServers.count);
  const training = job.spec.training;
  const status = JobStatus.forJob(job);
  const web = await startStatusServer(() => status.snapshot());
  const trackingUrl = `http://${host}:${web.port}`;
  const amrm = await AMRMClient.fromContainerEnvironment(env);
  const nm = new NMClient({ nmTokens: amrm.nmTokens, acceptQops: amrm.acceptQops });

  let coordinator: Coordinator | undefined;
  let outcome: Outcome | undefined;
  let amrmLost: ((o: Outcome) => void) | undefined;
  const lost = new Promise<Outcome>((r) => (amrmLost = r));
  const lastAttempt = amAttempt(env.CONTAINER_ID) >= job.spec.maxAttempts;
  process.once('SIGTERM', () => {
    // The NodeManager stops the AM when the application is killed (horn kill, yarn application -kill)
    // or when YARN ends this attempt; a later attempt still needs the staged files.
    log(`received SIGTERM: the application was killed (horn kill or yarn application -kill) or this attempt ended; stopping the containers${lastAttempt ? ' and removing staging' : ''}`);
    void Promise.allSettled([coordinator?.close(), lastAttempt ? hdfs.delete(stagingDir, true) : Promise.resolve(false)]).then(() => process.exit(143));
  });

  try {
    const plan = await planJob(job, { lister: hdfsLister(hdfs), blocks: (p) => hdfs.getBlockReplicas(p) });
    log(`planned ${plural(t.workers, 'split')} of ${plan.bytes} bytes in ${plural(plan.files, 'file')}: ${plan.splits.map((s) => `worker ${s.index} ${s.bytes} bytes on ${s.host ?? 'any host'}`).join('; ')}`);
    const storage = hdfsStorage(hdfs);
    // A later attempt (the previous ApplicationMaster died; YARN ended its containers) resumes from the newest complete checkpoint.
    const attempt = amAttempt(env.CONTAINER_ID);
    const resumeFrom = attempt > 1 && job.checkpointRoot ? await latestCheckpoint(storage, job.checkpointRoot, jobHash(job.spec), (w) => log(w)) : undefined;
    if (attempt > 1) log(`ApplicationMaster attempt ${attempt}: ${resumeFrom ? `resuming from the checkpoint at clock ${resumeFrom.clock} (epoch ${resumeFrom.epoch})` : 'no complete checkpoint; training starts over'}`);
    coordinator = new Coordinator(job, secret, status, plan.workers, limitsOf(job), log, { storage, resumeFrom });
    const wirePort = await coordinator.listen();
    await amrm.register({ host, rpcPort: wirePort, trackingUrl });
    log(`registered ${job.applicationId}; tracking URL ${trackingUrl}; wire ${host}:${wirePort}; ${plural(t.workers, 'worker')} in ${plural(t.groups, 'group')}, ${plural(t.servers, 'parameter server')}, ${training.consistency}; node ${process.version} at ${process.execPath}`);
    const launcher = new YarnLauncher({
      job,
      amrm,
      nm,
      nmLogs,
      resources: await containerResources(hdfs, job, stagingDir, cached),
      tokens,
      environment: { [ENV.user]: user, [ENV.namenodes]: namenodes.join(','), [ENV.stagingDir]: stagingDir, [ENV.amWire]: `${host}:${wirePort}`, ...(env[ENV.logLevel] ? { [ENV.logLevel]: env[ENV.logLevel]! } : {}), ...testHooks(env) },
      secret,
      splits: plan.splits,
      localityWaitMs: c.localityWaitSeconds * 1000,
      log,
    });
    launcher.attach(coordinator);
    const co = coordinator;
    amrm.startHeartbeats({
      intervalMs: HEARTBEAT_MS,
      toleratedFailures: 3,
      onResult: (r) => {
        amrm.setProgress(status.doc.progress);
        launcher.onHeartbeat(r);
        if (r.amCommand === 'AM_SHUTDOWN') co.fail('the ResourceManager told the ApplicationMaster to shut down');
      },
      onError: (err) => {
        const killed = /ApplicationAttemptNotFoundException|ApplicationNotFoundException/.test(describeError(err));
        amrmLost?.({ succeeded: false, diagnostics: killed ? 'the application was killed (the ResourceManager no longer knows this attempt)' : `lost the ResourceManager: ${describeError(err)}` });
      },
    });
    coordinator.start(launcher);
    outcome = await Promise.race([coordinator.outcome, lost]);
  } catch (err) {
    outcome = { succeeded: false, diagnostics: `ApplicationMaster failed: ${describeError(err)}` };
  }
  status.finish({ phase: outcome.succeeded ? 'succeeded' : 'failed', diagnostics: outcome.diagnostics, testAccuracy: outcome.result?.testAccuracy, model: outcome.result?.model });
  try {
    await coordinator?.close();
    const model = outcome.result?.model;
    if (model && job.latest) {
      // A failure to move the pointer fails the job: a cron retraining must hear of it.
      await writeLatestHdfs(hdfs, job.latest, { model, applicationId: job.applicationId, testAccuracy: outcome.result?.testAccuracy, finishedAt: new Date().toISOString() }).then(
        () => log(`output.latest ${job.latest} now names ${model}`),
        (err: unknown) => {
          outcome = { succeeded: false, diagnostics: `the model ${model} was written, but output.latest ${job.latest} could not be updated: ${describeError(err)}` };
          status.finish({ phase: 'failed', diagnostics: outcome.diagnostics, model });
        },
      );
    }
    if (model) {
      // The curves outlive the job, beside the model; a failure to write them does not fail the job.
      await writeHistoryFiles(hdfs, model, status.snapshot(), { tensorboard: job.spec.output.tensorboard, host })
        .then((w) => log(`wrote ${w.history}, ${w.report}${w.tensorboard ? ` and ${w.tensorboard}` : ''}`))
        .catch((err: unknown) => log(`could not write the history beside ${model}: ${describeError(err)}`));
    }
    amrm.setProgress(status.doc.progress);
    await amrm.stopHeartbeats().catch(() => undefined);
    await hdfs.delete(stagingDir, true).catch((err: unknown) => log(`could not remove staging ${stagingDir}: ${describeError(err)}`));
    const finalStatus = outcome.succeeded ? 'SUCCEEDED' : 'FAILED';
    log(`finishing: ${finalStatus}: ${outcome.diagnostics}`);
    await amrm.finish({ finalStatus, diagnostics: outcome.diagnostics, trackingUrl }).catch((err: unknown) => log(`unregister failed: ${describeError(err)}`));
  } finally {
    renewals.stop();
    await Promise.allSettled([nm.close(), amrm.close(), new Promise((r) => web.server.close(r))]);
  }
  return outcome.succeeded ? 0 : 1;
}

/** What every container localizes: the cached artifacts, the staged job and the user's neuron files. */
async function containerResources(hdfs: WebHdfsClient, job: StagedJob, stagingDir: string, cached: Record<string, string>): Promise<Record<string, LocalResource>> {
  const runtime = new URL(cached[RESOURCE.runtime]!);
  const localResource = async (path: string, visibility: LocalResource['visibility']): Promise<LocalResource> => {
    const st = await hdfs.getFileStatus(path);
    const url: URLRecord = { scheme: runtime.protocol.replace(/:$/, ''), host: runtime.hostname, port: runtime.port ? Number(runtime.port) : undefined, file: path };
    return { resource: url, size: st.length, timestamp: st.modificationTime, type: 'FILE', visibility };
  };
  const out: Record<string, LocalResource> = {};
  for (const [name, uri] of Object.entries(cached)) out[name] = await localResource(new URL(uri).pathname, 'PRIVATE');
  out[RESOURCE.job] = await localResource(`${stagingDir}/${RESOURCE.job}`, 'APPLICATION');
  for (const staged of Object.values(job.userFiles)) out[staged] = await localResource(`${stagingDir}/${staged}`, 'APPLICATION');
  return out;
}

/** The attempt number in a container id (container_[e<epoch>_]<cluster>_<app>_<attempt>_<container>). */
export function amAttempt(containerId: string | undefined): number {
  const m = /_(\d+)_\d+$/.exec(containerId ?? '');
  return m ? Number(m[1]) : 1;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
