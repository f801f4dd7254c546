// THE job-file schema: every field a job.yaml may hold, its type, its bounds and when it applies.
// Defaults are not here but in conf/job-defaults.yaml (validated by this same schema); the
// TypeScript type `JobSpec` is inferred from this schema, so the three cannot drift apart.
import { OUTPUT_PLACEHOLDERS, unknownPlaceholders } from './paths';
import { bool, byKind, type Infer, int, list, num, obj, oneOf, optional, required, requiredWhen, str } from './schema-kit';

export const ACTIVATIONS = ['identity', 'sigmoid', 'tanh', 'relu', 'leaky-relu', 'softmax'] as const;
export const COSTS = ['squared-error', 'cross-entropy'] as const;
export const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'adam'] as const;
export const SCHEDULES = ['constant', 'step', 'cosine'] as const;
export const FORMATS = ['idx', 'csv', 'libsvm'] as const;
export const INITS = ['auto', 'xavier', 'he'] as const;
export const OVERWRITE = ['fail', 'overwrite', 'version'] as const;
export const NORMALIZE = ['none', 'byte'] as const;
/** system: NodeManagers run `node` from their PATH; ship: horn ships the client's Node.js binary. */
export const RUNTIMES = ['system', 'ship'] as const;
/**
 * Consistency across groups of workers (docs/distributed.md): bsp, one update per clock from all
 * groups (synchronous SGD); ssp, a group may run at most `staleness` clocks ahead of the slowest
 * (Petuum's stale-synchronous parallel); asp, no waiting (Downpour).
 */
export const CONSISTENCY = ['bsp', 'ssp', 'asp'] as const;
/** How parameters and gradients travel: fp32, or fp16 (half the bytes). */
export const WIRE = ['fp32', 'fp16'] as const;

const path = str({ nonEmpty: true, expected: 'a non-empty path' });

/**
 * IDX data comes as a pair of files; CSV and LibSVM as a path or a list of paths, each a file, a
 * directory of part files or a glob (hidden files such as _SUCCESS are skipped, as Hadoop does).
 */
const dataFiles = byKind(
  'a path or a list of paths (csv, libsvm: files, directories or globs) or a mapping {images, labels} (idx)',
  path,
  obj({ images: required(path), labels: required(path) }),
  list(path, { minItems: 1 }),
);

const resources = obj({
  memoryMb: required(int({ min: 128 })),
  vcores: required(int({ min: 1 })),
});

const isFormat = (f: string) => (s: Record<string, unknown>) => s['format'] === f;

const input = obj(
  {
    format: required(oneOf(FORMATS)),
    /** Paths for `horn submit`: HDFS paths, relative ones resolved against /user/<user>. */
    train: required(dataFiles),
    test: optional(dataFiles),
    /** Paths for `horn train --local`, relative to the job file; when absent, train/test are used as local paths. */
    local: optional(obj({ train: required(dataFiles), test: optional(dataFiles) })),
    normalize: required(oneOf(NORMALIZE)),
    maxMalformed: required(int({ min: 0 })),
    csv: requiredWhen(
      obj({
        delimiter: required(str({ check: (s) => (s.length === 1 && s !== '\n' && s !== '\r' ? undefined : 'a single character other than a newline') })),
        labelColumn: required(int()),
        header: required(bool()),
      }),
      isFormat('csv'),
      'when format is csv',
    ),
    libsvm: requiredWhen(
      obj({
        features: required(int({ min: 1 })),
        indexBase: required(int({ min: 0, max: 1 })),
      }),
      isFormat('libsvm'),
      'when format is libsvm',
    ),
  },
  (v, fail) => {
    const wantsPair = v.format === 'idx';
    const check = (field: string, files: unknown) => {
      if (files === undefined) return;
      const isPair = typeof files === 'object' && !Array.isArray(files);
      if (wantsPair && !isPair) fail(field, 'a mapping {images, labels} for format idx', Array.isArray(files) ? 'a list of paths' : 'a single path');
      if (!wantsPair && isPair) fail(field, `a path or a list of paths for format ${v.format}`, 'a mapping {images, labels}');
    };
    check('train', v.train);
    check('test', v.test);
    check('local.train', v.local?.train);
    check('local.test', v.local?.test);
  },
);

const layer = obj({
  size: required(int({ min: 1 })),
  activation: required(oneOf(ACTIVATIONS)),
  dropout: optional(num({ min: 0, max: 1, maxExclusive: true })),
  /** A user-written neuron class (see the engine's neuron API); the file is relative to the job file. */
  neuron: optional(obj({ file: required(path), class: required(str({ nonEmpty: true })) })),
});

const model = obj(
  {
    inputSize: required(int({ min: 1 })),
    layers: required(list(layer, { minItems: 1 })),
    cost: required(oneOf(COSTS)),
    init: required(oneOf(INITS)),
    seed: required(int({ min: 0, max: 0xffffffff })),
  },
  (v, fail) => {
    const last = v.layers[v.layers.length - 1]!;
    const lastPath = `layers[${v.layers.length - 1}].activation`;
    if (v.cost === 'cross-entropy' && last.activation !== 'softmax' && last.activation !== 'sigmoid') {
      fail(lastPath, 'softmax or sigmoid on the output layer with cost cross-entropy', last.activation);
    }
    v.layers.forEach((l, i) => {
      if (l.activation === 'softmax' && i !== v.layers.length - 1) fail(`layers[${i}].activation`, 'softmax only on the output layer', 'softmax on a hidden layer');
    });
    if (last.dropout !== undefined && last.dropout > 0) fail(`layers[${v.layers.length - 1}].dropout`, 'no dropout on the output layer', String(last.dropout));
  },
);

const usesMomentum = (s: Record<string, unknown>) => s['type'] === 'momentum' || s['type'] === 'nesterov';
const usesAdam = (s: Record<string, unknown>) => s['type'] === 'adam';

const optimizer = obj({
  type: required(oneOf(OPTIMIZERS)),
  learningRate: required(num({ min: 0, minExclusive: true })),
  momentum: requiredWhen(num({ min: 0, max: 1, maxExclusive: true }), usesMomentum, 'to optimizers momentum and nesterov'),
  beta1: requiredWhen(num({ min: 0, max: 1, maxExclusive: true }), usesAdam, 'to optimizer adam'),
  beta2: requiredWhen(num({ min: 0, max: 1, maxExclusive: true }), usesAdam, 'to optimizer adam'),
  epsilon: requiredWhen(num({ min: 0, minExclusive: true }), usesAdam, 'to optimizer adam'),
});

const schedule = obj({
  type: required(oneOf(SCHEDULES)),
  /** step: multiply the rate by `gamma` every `stepEpochs` epochs. */
  stepEpochs: requiredWhen(int({ min: 1 }), (s) => s['type'] === 'step', 'to schedule step'),
  gamma: requiredWhen(num({ min: 0, max: 1, minExclusive: true }), (s) => s['type'] === 'step', 'to schedule step'),
  /** cosine: anneal from the optimizer's rate to `minLearningRate` over all epochs. */
  minLearningRate: requiredWhen(num({ min: 0 }), (s) => s['type'] === 'cosine', 'to schedule cosine'),
  warmupEpochs: required(int({ min: 0 })),
});

const training = obj(
  {
    optimizer: required(optimizer),
    schedule: required(schedule),
    /** Per worker: a group of m workers steps on m × batchSize samples. */
    batchSize: required(int({ min: 1, max: 65536 })),
    epochs: required(int({ min: 1 })),
    weightDecay: required(num({ min: 0 })),
    consistency: required(oneOf(CONSISTENCY)),
    /** ssp: how many clocks a group may run ahead of the slowest group. */
    staleness: requiredWhen(int({ min: 0 }), (t) => t['consistency'] === 'ssp', 'to consistency ssp'),
    wire: required(oneOf(WIRE)),
    /**
     * Consistent checkpoints every this many epochs (0: none), the newest `keep` kept, under
     * /user/<you>/.horn/checkpoints/<job name>/<appId>/: a lost server rolls the job back to the last
     * one, and a restarted ApplicationMaster resumes from it.
     */
    checkpoint: required(obj({ everyEpochs: required(int({ min: 0 })), keep: required(int({ min: 1 })) })),
    /** Start from this horn model (its architecture must match model), e.g. yesterday's: HDFS for submit, local for train --local. */
    initFrom: optional(path),
    /**
     * Evaluation after epochs, for the curves: on the test set, or on `holdout` (a fraction) of the
     * training data kept out of training; everyEpochs 0 turns it off.
     */
    validation: required(
      obj({
        everyEpochs: required(int({ min: 0 })),
        holdout: required(num({ min: 0, max: 0.5, maxExclusive: true })),
      }),
    ),
  },
  (v, fail) => {
    if (v.schedule.warmupEpochs >= v.epochs) fail('schedule.warmupEpochs', `fewer warm-up epochs than epochs (${v.epochs})`, String(v.schedule.warmupEpochs));
    if (v.schedule.type === 'cosine' && v.schedule.minLearningRate! > v.optimizer.learningRate) {
      fail('schedule.minLearningRate', `at most optimizer.learningRate (${v.optimizer.learningRate})`, String(v.schedule.minLearningRate));
    }
  },
);

const cluster = obj(
  {
    runtime: required(oneOf(RUNTIMES)),
    /** The ApplicationMaster's bounds: the job fails, with diagnostics, when one runs out. */
    timeouts: required(
      obj({
        allocationSeconds: required(int({ min: 1 })),
        connectSeconds: required(int({ min: 1 })),
        silenceSeconds: required(int({ min: 1 })),
      }),
    ),
    /** How long a worker's ask stays on its split's hosts before YARN may place it elsewhere. */
    localityWaitSeconds: required(int({ min: 0 })),
    /** How many times one worker (one server) may be replaced after it failed before the job fails. */
    maxRestarts: required(obj({ worker: required(int({ min: 0 })), server: required(int({ min: 0 })) })),
    /** Nodes where containers of the job failed this many times are blacklisted for the job. */
    nodeFailuresBeforeBlacklist: required(int({ min: 1 })),
    am: required(resources),
    worker: required(resources),
    workers: required(int({ min: 1 })),
    groups: required(int({ min: 1 })),
    parameterServers: required(
      obj({
        count: required(int({ min: 0 })),
        memoryMb: required(int({ min: 128 })),
        vcores: required(int({ min: 1 })),
      }),
    ),
  },
  (v, fail) => {
    if (v.groups > v.workers) fail('groups', `at most workers (${v.workers})`, String(v.groups));
    else if (v.workers % v.groups !== 0) fail('groups', `a divisor of workers (${v.workers}) so groups are equal`, String(v.groups));
  },
);

const output = obj({
  model: required(
    str({
      nonEmpty: true,
      expected: 'a non-empty path',
      check: (s) => {
        const bad = unknownPlaceholders(s);
        return bad.length ? `a path whose placeholders are among ${OUTPUT_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')} (unknown: ${bad.join(', ')})` : undefined;
      },
    }),
  ),
  overwrite: required(oneOf(OVERWRITE)),
  /** Also write the scalars as TensorBoard event files in <model>.tensorboard/ (src/protocol/history.ts). */
  tensorboard: required(bool()),
  /**
   * After a successful run this file is replaced atomically (written beside it, renamed over it) by
   * one line of JSON pointing at the new model, for serving systems: {"model", "applicationId",
   * "testAccuracy", "finishedAt"}.
   */
  latest: optional(path),
});

export const jobSchema = obj({
  name: required(str({ check: (s) => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(s) ? undefined : 'a name of letters, digits, ".", "_" or "-" (at most 128, starting with a letter or digit)') })),
  queue: required(str({ nonEmpty: true })),
  tags: required(list(str({ check: (s) => (s.length > 0 && s.length <= 100 && !s.includes(',') ? undefined : 'a tag of 1 to 100 characters without commas') }))),
  priority: required(int({ min: 0 })),
  maxAttempts: required(int({ min: 1, max: 10 })),
  input: required(input),
  model: required(model),
  training: required(training),
  cluster: required(cluster),
  output: required(output),
}, (v, fail) => {
  const c = v.cluster;
  const t = v.training;
  const servers = c.parameterServers.count;
  if (c.groups > 1 && servers === 0) {
    fail('cluster.groups', 'one group without parameter servers: groups meet only through the servers (set cluster.parameterServers.count ≥ 1)', `${c.groups} groups and 0 servers`);
  }
  if (t.consistency !== 'bsp' && c.groups === 1) {
    fail('training.consistency', 'bsp with one group: ssp and asp differ from bsp only across groups (set cluster.groups > 1 with parameter servers)', `${t.consistency} with cluster.groups 1`);
  }
  if (t.wire === 'fp16' && c.workers === 1 && servers === 0) {
    fail('training.wire', 'fp32 when nothing travels: fp16 needs cluster.workers > 1 or parameter servers', 'fp16 with one worker and no servers');
  }
  const sizes = [v.model.inputSize, ...v.model.layers.map((l) => l.size)];
  const parameters = v.model.layers.reduce((n, l, i) => n + (sizes[i]! + 1) * l.size, 0);
  if (servers > parameters) fail('cluster.parameterServers.count', `at most the model's ${parameters} parameters`, String(servers));
});


/** A fully defaulted, validated job: what `loadJobFile` returns and what is staged for the AM. */
export type JobSpec = Infer<typeof jobSchema>;
export type InputSpec = JobSpec['input'];
export type DataFiles = InputSpec['train'];
export type LayerSpec = JobSpec['model']['layers'][number];
export type ModelSpec = JobSpec['model'];
export type TrainingSpec = JobSpec['training'];
export type OptimizerSpec = TrainingSpec['optimizer'];
export type ScheduleSpec = TrainingSpec['schedule'];
export type ClusterSpec = JobSpec['cluster'];
export type OutputSpec = JobSpec['output'];
