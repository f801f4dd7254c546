// A worker container: reads its data from HDFS, trains, evaluates, writes the model to HDFS
// atomically, and reports to the ApplicationMaster over the authenticated wire channel.
import { parseHostPort } from '../common/address';
import { HornError, describeError } from '../common/errors';
import { serializeModel } from '../engine';
import { Credentials } from '../hadoop/security';
import { WebHdfsClient } from '../hadoop/webhdfs/client';
import { ENV, readStagedJob, SECRET_ALIAS, type JobResult, type StagedJob } from '../protocol';
import { runTraining } from '../training/run';
import { connectWire } from '../wire/channel';
import { hdfsFiles } from './hdfs-source';

/** Progress messages are sent at most this often. */
const PROGRESS_EVERY_MS = 1_000;

export async function runWorker(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new HornError(`the worker environment lacks ${name}`, 'internal', { variable: name });
    return v;
  };
  const job = readStagedJob();
  const index = Number(need(ENV.index));
  const secret = (await Credentials.fromContainerEnvironment(env)).getSecret(SECRET_ALIAS);
  if (!secret) throw new HornError(`no ${SECRET_ALIAS} secret in the container credentials`, 'internal');
  const amWire = parseHostPort(need(ENV.amWire), ENV.amWire);
  const am = await connectWire(amWire.host, amWire.port, secret, { role: 'worker', id: String(index) });
  const hdfs = new WebHdfsClient({ namenodeUrls: need(ENV.namenodes).split(','), user: need(ENV.user) });
  const log = (msg: string): void => void process.stdout.write(`${new Date().toISOString()} worker ${index}: ${msg}\n`);

  log(`node ${process.version} at ${process.execPath}`);
  try {
    let lastSent = 0;
    const started = performance.now();
    const outcome = await runTraining({
      spec: job.spec,
      source: hdfsFiles(hdfs),
      train: job.train,
      test: job.test,
      readOptions: job.readOptions,
      // The client staged user neurons as CommonJS under the names the staged job gives them.
      neuronDir: process.cwd(),
      metadata: { applicationId: job.applicationId },
      onPhase: (phase) => {
        log(phase);
        am.send({ type: 'progress', phase });
      },
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastSent < PROGRESS_EVERY_MS && p.fraction < 1) return;
        lastSent = now;
        am.send({ type: 'progress', phase: 'training', epoch: p.epoch, epochs: p.epochs, loss: p.loss, accuracy: p.accuracy, samplesPerSecond: p.samplesPerSecond, fraction: p.fraction });
      },
    });
    am.send({ type: 'progress', phase: 'saving' });
    const model = await writeModel(hdfs, job, serializeModel(outcome.model));
    const result: JobResult = {
      testAccuracy: outcome.test?.accuracy,
      testLoss: outcome.test?.loss,
      model,
      epochs: outcome.summary.epochs,
      seconds: (performance.now() - started) / 1000,
      samplesPerSecond: outcome.summary.samplesPerSecond,
    };
    log(`done: ${JSON.stringify(result)}`);
    // Wait for the AM to acknowledge, so the result is never lost to an early exit.
    await am.request({ type: 'result', ...result }, undefined, 30_000);
    return 0;
  } catch (err) {
    process.stderr.write(`worker ${index} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    try {
      am.send({ type: 'error', message: describeError(err) });
    } catch {
      // the AM is gone; the exit status tells it all
    }
    return 1;
  } finally {
    am.close();
  }
}

/** Writes the model atomically; the overwrite policy decides what happens when the path exists. */
export async function writeModel(hdfs: WebHdfsClient, job: StagedJob, bytes: Uint8Array): Promise<string> {
  let target = job.outputModel;
  const policy = job.spec.output.overwrite;
  if (await hdfs.stat(target)) {
    if (policy === 'fail') throw new HornError(`the model path ${target} exists and output.overwrite is fail`, 'input', { path: target });
    if (policy === 'version') {
      let v = 2;
      while (await hdfs.stat(`${job.outputModel}.v${v}`)) v++;
      target = `${job.outputModel}.v${v}`;
    }
  }
  await hdfs.mkdirs(target.slice(0, target.lastIndexOf('/')) || '/');
  if (!(await hdfs.createAtomically(target, Buffer.from(bytes), { replace: policy === 'overwrite' }))) {
    throw new HornError(`could not move the model into place at ${target}`, 'cluster', { path: target });
  }
  return target;
}
