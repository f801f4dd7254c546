// What every horn container starts from: its role and index, the staged job, the application
// secret (from the YARN credentials), where its data lives (HDFS or, in local mode, this machine's
// files), and its control link to the coordinator (the ApplicationMaster or the local launcher).
import { hostname } from 'node:os';
import { createLogger } from '../common/log';
import { parseHostPort } from '../common/address';
import { HornError, describeError } from '../common/errors';
import { AsyncQueue } from '../common/queue';
import { localFiles, localLister, type ByteSource, type FileLister } from '../data';
import { Credentials } from '../hadoop/security';
import type { WebHdfsClient } from '../hadoop/webhdfs/client';
import { containerWebHdfs, DelegationTokens, watchRenewedTokens } from '../hadoop/webhdfs/delegation';
import { ENV, readStagedJob, requireEnv, SECRET_ALIAS, type ContainerRole, type StagedJob } from '../protocol';
import { asHeader, COORDINATOR_MESSAGES, PROTOCOL_VERSION, readMessage, type ContainerMessage, type CoordinatorMessage } from '../protocol/messages';
import { checkpointDir, fileEntry, fileName } from '../storage/checkpoints';
import { hdfsStorage, localStorage, type StorageFiles } from '../storage/files';
import { hdfsFiles, hdfsLister } from '../storage/hdfs';
import { connectWire, type WireConnection } from '../wire/channel';
import type { Frame } from '../wire/frames';
import { codecFor, javascriptHalves, type TensorCodec } from '../wire/tensors';
import { nativeHalfConversions } from '../engine/kernels';

const HEARTBEAT_MS = 2_000;

export interface ContainerContext {
  readonly role: ContainerRole;
  readonly index: number;
  readonly attempt: number;
  readonly job: StagedJob;
  readonly secret: Uint8Array;
  /** The host name other containers reach this one by. */
  readonly host: string;
  readonly hdfs?: WebHdfsClient;
  readonly source: ByteSource;
  readonly lister: FileLister;
  /** Whole files of the job's storage (checkpoints). */
  readonly storage: StorageFiles;
  readonly control: ControlLink;
  log(message: string): void;
}

/** Messages a container answers whenever they come, beside its main sequence (assign, start, …). */
type Interjection = Extract<CoordinatorMessage, { type: 'pause' | 'state-request' | 'group-change' | 'clocks-request' | 'restore' | 'rebalance' }>;
const INTERJECTIONS: ReadonlySet<string> = new Set(['pause', 'state-request', 'group-change', 'clocks-request', 'restore', 'rebalance']);

/** The container's connection to its coordinator, with typed messages both ways. */
export class ControlLink {
  private readonly inbox = new AsyncQueue<{ message: CoordinatorMessage; body?: Uint8Array }>();
  private readonly handlers = new Map<string, (m: Interjection, frame: Frame) => void>();
  private aborted: ((reason: string) => void) | undefined;

  constructor(readonly connection: WireConnection) {
    connection.on('message', (f: Frame) => {
      let m: CoordinatorMessage;
      try {
        m = readMessage(f, COORDINATOR_MESSAGES, 'the coordinator');
      } catch (err) {
        this.inbox.fail(err as Error);
        return;
      }
      if (m.type === 'abort') this.abort(`the coordinator aborted the job: ${m.reason}`);
      else if (INTERJECTIONS.has(m.type)) this.handlers.get(m.type)?.(m as Interjection, f);
      else this.inbox.push({ message: m, body: f.body ? new Uint8Array(f.body) : undefined });
    });
    connection.on('close', (err?: Error) => this.abort(`lost the coordinator${err ? ` (${err.message})` : ''}`));
  }

  /** Called once when the coordinator aborts or goes away. */
  onAbort(handler: (reason: string) => void): void {
    this.aborted = handler;
  }

  /** Handles one kind of message that may come at any time (pause, state and clock requests, group changes). */
  on<T extends Interjection['type']>(type: T, handler: (m: Extract<Interjection, { type: T }>, frame: Frame) => void): void {
    this.handlers.set(type, handler as (m: Interjection, frame: Frame) => void);
  }

  private abort(reason: string): void {
    this.inbox.fail(new HornError(reason, 'application'));
    const h = this.aborted;
    this.aborted = undefined;
    h?.(reason);
  }

  send(m: ContainerMessage, body?: Uint8Array): Promise<void> {
    return this.connection.send(asHeader(m), body);
  }

  /** Answers a request of the coordinator. */
  reply(to: Frame, m: ContainerMessage, body?: Uint8Array): Promise<void> {
    return this.connection.reply(to, asHeader(m), body);
  }

  /** Sends, swallowing the error of a connection already gone (its loss is handled by onAbort). */
  tell(m: ContainerMessage): void {
    try {
      void this.send(m);
    } catch {
      // the coordinator is gone
    }
  }

  /** The next message of the main sequence, which must be of type `type` (with its frame body, if any). */
  async nextWithBody<T extends CoordinatorMessage['type']>(type: T): Promise<{ message: Extract<CoordinatorMessage, { type: T }>; body?: Uint8Array }> {
    const { message, body } = await this.inbox.take();
    if (message.type !== type) throw new HornError(`expected ${type} from the coordinator, received ${message.type}`, 'internal');
    return { message: message as Extract<CoordinatorMessage, { type: T }>, body };
  }

  async next<T extends CoordinatorMessage['type']>(type: T): Promise<Extract<CoordinatorMessage, { type: T }>> {
    return (await this.nextWithBody(type)).message;
  }

  close(): void {
    this.connection.close();
  }
}

export async function containerContext(role: ContainerRole, env: NodeJS.ProcessEnv = process.env): Promise<ContainerContext> {
  const job = readStagedJob();
  const index = Number(requireEnv(env, ENV.index, role));
  const attempt = Number(env[ENV.attempt] ?? '0');
  const credentials = await Credentials.fromContainerEnvironment(env);
  const secret = credentials.getSecret(SECRET_ALIAS);
  if (!secret) throw new HornError(`no ${SECRET_ALIAS} secret in the container credentials`, 'internal');
  const host = env.NM_HOST ?? (job.storage === 'local' ? '127.0.0.1' : hostname());
  const logger = createLogger({ role, index, containerId: env.CONTAINER_ID, applicationId: job.applicationId, host }, { env });
  const log = (msg: string): void => logger.info(attempt ? { attempt } : {}, msg);
  let hdfs: WebHdfsClient | undefined;
  const tokens = new DelegationTokens(credentials);
  let source: ByteSource = localFiles;
  let lister: FileLister = localLister;
  if (job.storage === 'hdfs') {
    hdfs = containerWebHdfs(requireEnv(env, ENV.namenodes, role).split(','), requireEnv(env, ENV.user, role), tokens);
    if (env[ENV.stagingDir]) watchRenewedTokens(hdfs, tokens, env[ENV.stagingDir]!, log);
    source = hdfsFiles(hdfs);
    lister = hdfsLister(hdfs);
  }
  const am = parseHostPort(requireEnv(env, ENV.amWire, role), ENV.amWire);
  const connection = await connectWire(am.host, am.port, secret, { role, id: String(index) });
  return { role, index, attempt, job, secret, host, hdfs, source, lister, storage: hdfs ? hdfsStorage(hdfs) : localStorage, control: new ControlLink(connection), log };
}

/** A whole file of the job's storage (HDFS, or this machine in local mode). */
export async function readStorageFile(ctx: Pick<ContainerContext, 'storage'>, path: string): Promise<Uint8Array> {
  return ctx.storage.readFile(path);
}

/** Writes this container's file of the checkpoint at `clock` and tells the coordinator. */
export async function writeCheckpointFile(ctx: ContainerContext, clock: number, bytes: Uint8Array): Promise<void> {
  const root = ctx.job.checkpointRoot;
  if (!root) return;
  const name = fileName(ctx.role, ctx.index);
  const started = performance.now();
  await ctx.storage.writeAtomically(`${checkpointDir(root, clock)}/${name}`, bytes);
  ctx.log(`checkpoint at clock ${clock}: wrote ${name} (${bytes.byteLength} bytes) in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  ctx.control.tell({ type: 'checkpointed', clock, ...fileEntry(name, bytes) });
}

/** This container's file of the checkpoint at `clock`. */
export function readCheckpointFile(ctx: ContainerContext, clock: number, role: ContainerRole = ctx.role, index = ctx.index): Promise<Uint8Array> {
  return ctx.storage.readFile(`${checkpointDir(ctx.job.checkpointRoot!, clock)}/${fileName(role, index)}`);
}

/** The hello every container sends first. */
/** The job's tensor encoding, fp16 converting natively where it can; the log names which (once per container). */
export function wireCodec(ctx: ContainerContext): TensorCodec {
  const halves = nativeHalfConversions();
  const codec = codecFor(ctx.job.spec.training.wire, halves);
  if (codec.name === 'fp16') ctx.log(`wire: fp16, ${(halves ?? javascriptHalves).name} conversions`);
  return codec;
}

export function hello(ctx: ContainerContext, port: number): ContainerMessage {
  return { type: 'hello', protocol: PROTOCOL_VERSION, role: ctx.role, index: ctx.index, attempt: ctx.attempt, host: ctx.host, port };
}

/** Runs a container's body; on an abort from the coordinator the process ends at once, non-zero. */
export async function runContainer(role: ContainerRole, body: (ctx: ContainerContext) => Promise<void>, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const ctx = await containerContext(role, env);
  ctx.control.onAbort((reason) => {
    ctx.log(reason);
    process.exit(3);
  });
  // A heartbeat while the event loop is free (reading, waiting on peers or servers): silence then
  // means a container that is stuck, not one that waits.
  const heartbeat = role === 'worker' ? setInterval(() => ctx.control.tell({ type: 'progress' }), HEARTBEAT_MS) : undefined;
  try {
    await body(ctx);
    return 0;
  } catch (err) {
    process.stderr.write(`${role} ${ctx.index} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    ctx.control.tell({ type: 'error', message: describeError(err), ...(err instanceof Error && 'peer' in err ? { lostPeer: String((err as { peer: unknown }).peer) } : {}) });
    // Give the error frame a moment to leave before the process ends.
    await new Promise((r) => setTimeout(r, 200));
    return 1;
  } finally {
    clearInterval(heartbeat);
    ctx.control.onAbort(() => undefined);
    ctx.control.close();
  }
}
