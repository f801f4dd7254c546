// User neuron files as the containers get them: transpiled to CommonJS on the edge node (containers
// have no TypeScript compiler) and renamed to staged names, for YARN staging and local mode alike.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { HornError } from '../../common/errors';
import { toCommonJs } from '../../engine';
import { resolveLocalPath, type JobSpec } from '../../job';
import { RESOURCE } from '../../protocol';

export interface UserFile {
  readonly jobName: string;
  readonly stagedName: string;
  readonly bytes: Buffer;
}

/**
 * User neuron files, as CommonJS: containers have no TypeScript compiler, so TypeScript and ES
 * modules are transpiled here, on the edge node.
 */
export function readUserFiles(spec: JobSpec, baseDir: string): UserFile[] {
  const names = [...new Set(spec.model.layers.flatMap((l) => (l.neuron ? [l.neuron.file] : [])))];
  return names.map((jobName, i) => {
    const path = resolveLocalPath(baseDir, jobName);
    if (!existsSync(path)) throw new HornError(`neuron file ${jobName} (${path}) does not exist`, 'input', { field: 'model.layers[].neuron.file', file: path });
    const code = toCommonJs(path, readFileSync(path, 'utf8'));
    return { jobName, stagedName: `${RESOURCE.userCode}-${i}-${basename(path).replace(/\.[cm]?[jt]s$/, '')}.js`, bytes: Buffer.from(code) };
  });
}

/** The job as staged: neuron files renamed to their staged CommonJS copies. */
export function withStagedNeurons(spec: JobSpec, files: readonly UserFile[]): JobSpec {
  const staged = new Map(files.map((f) => [f.jobName, f.stagedName]));
  return { ...spec, model: { ...spec.model, layers: spec.model.layers.map((l) => (l.neuron ? { ...l, neuron: { ...l.neuron, file: staged.get(l.neuron.file) ?? l.neuron.file } } : l)) } };
}

