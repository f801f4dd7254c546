import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeDistribution } from '../../../src/job/describe';
import { parseJobText } from '../../../src/job/load';

const root = join(__dirname, '../../..');
const defaults = { file: 'job-defaults.yaml', text: readFileSync(join(root, 'conf/job-defaults.yaml'), 'utf8') };
const base = `input:\n  format: csv\n  train: d.csv\nmodel:\n  inputSize: 4\n  layers:\n    - { size: 3, activation: softmax }\n`;

function errors(extra: string): string[] {
  const r = parseJobText({ file: 'job.yaml', text: base + extra }, defaults);
  return r.ok ? [] : r.errors.map((e) => `${e.field}: expected ${e.expected}, found ${e.found}`);
}

describe('workers, groups, servers and consistency: meaningful or refused naming the fields', () => {
  test('groups meet only through servers', () => {
    expect(errors('cluster: { workers: 4, groups: 2 }\n')).toEqual([
      'cluster.groups: expected one group without parameter servers: groups meet only through the servers (set cluster.parameterServers.count ≥ 1), found 2 groups and 0 servers',
    ]);
    expect(errors('cluster: { workers: 4, groups: 2, parameterServers: { count: 1 } }\n')).toEqual([]);
  });

  test('ssp and asp need more than one group; ssp needs a staleness, and only ssp takes one', () => {
    expect(errors('training: { consistency: asp }\n')[0]).toMatch(/^training\.consistency: expected bsp with one group/);
    const groups = 'cluster: { workers: 4, groups: 2, parameterServers: { count: 2 } }\n';
    expect(errors(`training: { consistency: ssp }\n${groups}`)[0]).toMatch(/^training\.staleness: expected a value/);
    expect(errors(`training: { consistency: ssp, staleness: 2 }\n${groups}`)).toEqual([]);
    expect(errors(`training: { consistency: bsp, staleness: 2 }\n${groups}`)[0]).toMatch(/^training\.staleness: expected no "staleness" here: it applies only to consistency ssp/);
    expect(errors(`training: { consistency: ssp, staleness: -1 }\n${groups}`)[0]).toMatch(/^training\.staleness/);
    expect(errors(`training: { consistency: nope }\n${groups}`)[0]).toMatch(/^training\.consistency/);
  });

  test('fp16 needs something to travel; servers are at most the parameters; groups divide workers', () => {
    expect(errors('training: { wire: fp16 }\n')[0]).toMatch(/^training\.wire: expected fp32 when nothing travels/);
    expect(errors('training: { wire: fp16 }\ncluster: { workers: 2 }\n')).toEqual([]);
    expect(errors('cluster: { parameterServers: { count: 16 } }\n')[0]).toBe("cluster.parameterServers.count: expected at most the model's 15 parameters, found 16");
    expect(errors('cluster: { workers: 4, groups: 3, parameterServers: { count: 1 } }\n')[0]).toMatch(/^cluster\.groups: expected a divisor of workers \(4\)/);
  });

  test('input may be a list of paths, directories or globs; an IDX pair is not a list', () => {
    expect(errors('').length).toBe(0);
    expect(parseJobText({ file: 'j.yaml', text: base.replace('train: d.csv', 'train: [parts/, "more/part-*"]') }, defaults).ok).toBe(true);
    const idx = `input:\n  format: idx\n  train: [a, b]\nmodel:\n  inputSize: 4\n  layers:\n    - { size: 3, activation: softmax }\n`;
    const r = parseJobText({ file: 'j.yaml', text: idx }, defaults);
    expect(r.ok ? [] : r.errors.map((e) => `${e.field}: ${e.expected}, ${e.found}`)).toEqual(['input.train: a mapping {images, labels} for format idx, a list of paths']);
  });

  test('horn validate says what the distributed settings mean', () => {
    const r = parseJobText({ file: 'j.yaml', text: `${base}training: { consistency: ssp, staleness: 3, batchSize: 32 }\ncluster: { workers: 6, groups: 3, parameterServers: { count: 2 } }\n` }, defaults);
    if (!r.ok) throw new Error('invalid');
    expect(describeDistribution(r.spec)).toBe(
      '6 workers in 3 groups of 2; a group all-reduces its gradients every step and steps on 2 × 32 = 64 samples; 2 parameter servers hold the model in 2 shards and apply the updates; ssp: each group\'s update is applied as it arrives, and a group may run at most 3 clocks ahead of the slowest',
    );
    const one = parseJobText({ file: 'j.yaml', text: base }, defaults);
    expect(one.ok && describeDistribution(one.spec)).toBeUndefined();
  });
});
