// The horn model file (docs/model-format.md): magic, version, a JSON header, raw little-endian
// float32 parameters and a CRC-32. Parsing is pure (bytes in, typed errors out); only
// saveModel/readModelFile touch the file system.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { ModelFormatError, ModelSpecError } from './errors';
import { jsonErrorIndex } from './json-position';
import { loadKernels } from './kernels';
import type { Kernels } from './kernels/types';
import { Model } from './model';
import { isNeuronClass, type NeuronClass } from './neuron';
import { validateModelSpec, type LayerSpec, type ModelSpec } from './spec';

export const MODEL_MAGIC = 'HORNMDL\0';
export const MODEL_FORMAT_VERSION = 1;
const PREAMBLE = 16;

/** How a user neuron is recorded: its load location, or only its class name (then pass it in `neurons`). */
export type SavedNeuronReference = { module: string; export?: string } | { class: string };

export type SavedLayerSpec = Omit<LayerSpec, 'neuron'> & { neuron?: SavedNeuronReference };
export type SavedModelSpec = Omit<ModelSpec, 'layers'> & { layers: SavedLayerSpec[] };

export interface ModelFileHeader {
  spec: SavedModelSpec;
  parameterCount: number;
  /** Float offsets of each layer's weights (inputSize × size) and bias in the parameter block. */
  layout: { inputSize: number; size: number; weights: number; bias: number }[];
  metadata: Record<string, unknown>;
}

export interface ParsedModelFile {
  version: number;
  header: ModelFileHeader;
  parameters: Float32Array;
}

export interface LoadModelOptions {
  kernels?: Kernels;
  /** Classes for layers saved as `{ class: name }`. */
  neurons?: Record<string, NeuronClass>;
  /** Directory that `{ module }` neuron references are resolved against. */
  baseDir?: string;
}

/** The whole file as bytes. */
export function serializeModel(model: Model): Uint8Array {
  const header: ModelFileHeader = {
    spec: { ...model.spec, layers: model.spec.layers.map(saveLayerSpec) },
    parameterCount: model.parameterCount,
    layout: Array.from({ length: model.layerCount }, (_, i) => {
      const p = model.layerParameters(i);
      return { inputSize: p.inputSize, size: p.outputSize, weights: p.offset, bias: p.offset + p.inputSize * p.outputSize };
    }),
    metadata: model.metadata,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const paramsAt = align4(PREAMBLE + json.length);
  const total = paramsAt + model.parameterCount * 4 + 4;
  const out = Buffer.alloc(total, 0x20);
  out.write(MODEL_MAGIC, 0, 'latin1');
  out.writeUInt32LE(MODEL_FORMAT_VERSION, 8);
  out.writeUInt32LE(json.length, 12);
  json.copy(out, PREAMBLE);
  const params = model.parameters();
  for (let i = 0; i < params.length; i++) out.writeFloatLE(params[i], paramsAt + 4 * i);
  out.writeUInt32LE(crc32(out.subarray(0, total - 4)), total - 4);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * Write the model to a path (atomically: a temporary file renamed into place, so readers never
 * see half a model) or to a stream (written, not ended).
 */
export async function saveModel(model: Model, target: string | Writable): Promise<void> {
  const bytes = serializeModel(model);
  if (typeof target === 'string') {
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, target);
    return;
  }
  await new Promise<void>((resolveWrite, reject) => {
    target.write(bytes, (err) => (err ? reject(err) : resolveWrite()));
  });
}

/** Checks the file and returns its parts; throws ModelFormatError(source, offset, reason). */
export function parseModelFile(bytes: Uint8Array, source: string): ParsedModelFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (offset: number, reason: string): never => {
    throw new ModelFormatError(source, offset, reason);
  };
  if (buf.length < PREAMBLE) fail(buf.length, `file is ${buf.length} bytes; a model file starts with a ${PREAMBLE}-byte preamble`);
  if (buf.toString('latin1', 0, 8) !== MODEL_MAGIC) fail(0, `bad magic ${JSON.stringify(buf.toString('latin1', 0, 8))}; not a horn model file`);
  const version = buf.readUInt32LE(8);
  if (version !== MODEL_FORMAT_VERSION) fail(8, `format version ${version} is not supported (this horn reads version ${MODEL_FORMAT_VERSION})`);
  const headerLength = buf.readUInt32LE(12);
  if (PREAMBLE + headerLength > buf.length) fail(12, `header length ${headerLength} runs past the end of the ${buf.length}-byte file`);
  const text = buf.toString('utf8', PREAMBLE, PREAMBLE + headerLength);
  let header: ModelFileHeader;
  try {
    header = JSON.parse(text) as ModelFileHeader;
  } catch (err) {
    const at = Math.max(0, jsonErrorIndex(text));
    return fail(PREAMBLE + Buffer.byteLength(text.slice(0, at)), `header is not valid JSON: ${(err as Error).message}`);
  }
  checkHeader(header, (field, reason) => fail(PREAMBLE, `header field ${field}: ${reason}`));
  const paramsAt = align4(PREAMBLE + headerLength);
  const expected = paramsAt + header.parameterCount * 4 + 4;
  if (buf.length !== expected) {
    fail(Math.min(buf.length, expected - 4), `file is ${buf.length} bytes; header promises ${header.parameterCount} parameters at byte ${paramsAt}, i.e. ${expected} bytes`);
  }
  const stored = buf.readUInt32LE(expected - 4);
  const actual = crc32(buf.subarray(0, expected - 4));
  if (stored !== actual) fail(expected - 4, `CRC-32 mismatch (stored ${hex(stored)}, computed ${hex(actual)}); the file is corrupt`);
  const parameters = new Float32Array(header.parameterCount);
  for (let i = 0; i < parameters.length; i++) {
    const v = buf.readFloatLE(paramsAt + 4 * i);
    if (!Number.isFinite(v)) fail(paramsAt + 4 * i, `parameter ${i} is ${v}`);
    parameters[i] = v;
  }
  return { version, header, parameters };
}

/** Build a Model from model-file bytes. `sourceName` (a path or URL) appears in errors. */
export async function loadModel(bytes: Uint8Array, sourceName: string, options: LoadModelOptions = {}): Promise<Model> {
  const parsed = parseModelFile(bytes, sourceName);
  const kernels = options.kernels ?? (await loadKernels());
  return modelFromParsed(parsed, sourceName, kernels, options);
}

/** Read and load a model file from the local file system. */
export async function readModelFile(path: string, options: LoadModelOptions = {}): Promise<Model> {
  return loadModel(await readFile(path), path, options);
}

export function modelFromParsed(parsed: ParsedModelFile, source: string, kernels: Kernels, options: LoadModelOptions = {}): Model {
  const { spec: saved, metadata } = parsed.header;
  const spec: ModelSpec = {
    ...saved,
    layers: saved.layers.map((l, i) => {
      const ref = l.neuron;
      if (ref === undefined || !('class' in ref)) return l as LayerSpec;
      const cls = options.neurons?.[ref.class];
      if (!isNeuronClass(cls)) throw new ModelFormatError(source, PREAMBLE, `layer ${i} uses neuron class '${ref.class}', which the file cannot carry; pass it in options.neurons`);
      return { ...l, neuron: cls };
    }),
  };
  let model: Model;
  try {
    model = new Model(spec, kernels, { baseDir: options.baseDir, metadata });
  } catch (err) {
    if (err instanceof ModelSpecError) throw new ModelFormatError(source, PREAMBLE, `header spec: ${err.message}`);
    throw err;
  }
  if (model.parameterCount !== parsed.parameters.length) throw new ModelFormatError(source, PREAMBLE, `spec needs ${model.parameterCount} parameters, file has ${parsed.parameters.length}`);
  model.setParameters(parsed.parameters);
  return model;
}

function saveLayerSpec(l: LayerSpec): SavedLayerSpec {
  if (l.neuron === undefined) return { ...l, neuron: undefined };
  if (typeof l.neuron === 'function') return { ...l, neuron: { class: l.neuron.name } };
  return { ...l, neuron: { ...l.neuron } };
}

function checkHeader(h: ModelFileHeader, fail: (field: string, reason: string) => never): void {
  if (typeof h !== 'object' || h === null) fail('(root)', 'must be an object');
  if (typeof h.spec !== 'object' || h.spec === null) fail('spec', 'missing');
  if (!Number.isInteger(h.parameterCount) || h.parameterCount < 0) fail('parameterCount', `must be a non-negative integer, got ${JSON.stringify(h.parameterCount)}`);
  if (typeof h.metadata !== 'object' || h.metadata === null) fail('metadata', 'must be an object');
  // Validate the architecture without user classes (a { class } reference stands in as a module).
  const probe: ModelSpec = {
    ...h.spec,
    layers: Array.isArray(h.spec.layers) ? h.spec.layers.map((l) => (l?.neuron && 'class' in l.neuron ? { ...l, neuron: { module: String(l.neuron.class) } } : (l as LayerSpec))) : h.spec.layers,
  };
  try {
    validateModelSpec(probe);
  } catch (err) {
    if (err instanceof ModelSpecError) fail(`spec.${err.field}`, err.message);
    throw err;
  }
  const sizes = [h.spec.inputSize, ...h.spec.layers.map((l) => l.size)];
  const count = h.spec.layers.reduce((t, l, i) => t + (sizes[i] + 1) * l.size, 0);
  if (count !== h.parameterCount) fail('parameterCount', `the layers need ${count} parameters, header says ${h.parameterCount}`);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as in zip and PNG). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
