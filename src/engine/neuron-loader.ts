// Loads a user neuron class from a .js/.cjs/.ts file. TypeScript is transpiled with esbuild's
// transformSync (no type check) to CommonJS and evaluated in this realm, so the class extends the
// engine's own Neuron. Inside the file, `import { Neuron } from 'horn'` (or a relative import of
// this repository's src/engine) resolves to the engine.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { NeuronLoadError } from './errors';
import * as neuronApi from './neuron';
import { isNeuronClass, type NeuronClass } from './neuron';

const ENGINE_SPECIFIER = /^(horn|horn\/neuron|@horn\/engine)$|(^|\/)src\/engine(\/index|\/neuron)?(\.[cm]?[jt]s)?$/;

/**
 * `file` is resolved against `baseDir` (default: the current directory). `exportName` picks a
 * named export; without it the default export, or the only exported Neuron subclass, is used.
 */
export function loadNeuronClass(file: string, exportName?: string, baseDir = process.cwd()): NeuronClass {
  const path = resolve(baseDir, file);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    throw new NeuronLoadError(path, exportName, (err as Error).message);
  }
  const code = toCommonJs(path, source, exportName);
  const module = { exports: {} as Record<string, unknown> };
  const nodeRequire = createRequire(path);
  const requireShim = (id: string): unknown => (ENGINE_SPECIFIER.test(id) ? neuronApi : nodeRequire(id));
  try {
    // Evaluated with the Function constructor (not vm) so classes share this realm's Neuron.
    const run = new Function('module', 'exports', 'require', '__filename', `${code}\n//# sourceURL=${path}`);
    run(module, module.exports, requireShim, path);
  } catch (err) {
    throw new NeuronLoadError(path, exportName, `evaluating the module failed: ${(err as Error).message}`);
  }
  return pickExport(path, module.exports, exportName);
}

/**
 * The neuron file as CommonJS: TypeScript and ES modules are transpiled (which needs esbuild, so
 * `horn submit` does it on the edge node before staging), CommonJS is returned as it is.
 */
export function toCommonJs(path: string, source: string, exportName?: string): string {
  if (/\.[cm]?ts$/.test(path) || /\.mjs$/.test(path) || /^\s*(import|export)\s/m.test(source)) return transpile(path, source, exportName);
  return source;
}

function transpile(path: string, source: string, exportName: string | undefined): string {
  const esbuild = findEsbuild(path, exportName);
  try {
    return esbuild.transformSync(source, { loader: /\.[cm]?ts$/.test(path) ? 'ts' : 'js', format: 'cjs', target: 'node20', sourcefile: path }).code;
  } catch (err) {
    throw new NeuronLoadError(path, exportName, `transpiling failed: ${(err as Error).message}`);
  }
}

type Esbuild = typeof import('esbuild');

// esbuild is a build tool with a native binary: it cannot be bundled into dist/*.js, so it is
// required at run time (from the working directory, then from the user's file) and only when a
// file actually needs transpiling.
function findEsbuild(path: string, exportName: string | undefined): Esbuild {
  for (const from of [resolve(process.cwd(), 'package.json'), path]) {
    try {
      return createRequire(from)('esbuild') as Esbuild;
    } catch {
      // try the next location
    }
  }
  throw new NeuronLoadError(path, exportName, "transpiling TypeScript/ES modules needs the 'esbuild' package; install it or give a CommonJS .js file");
}

function pickExport(path: string, exports: Record<string, unknown>, exportName: string | undefined): NeuronClass {
  if (exportName !== undefined) {
    const value = exports[exportName];
    if (!isNeuronClass(value)) throw new NeuronLoadError(path, exportName, value === undefined ? 'no such export' : 'the export is not a class extending Neuron');
    return value;
  }
  if (isNeuronClass(exports.default)) return exports.default;
  const candidates = Object.values(exports).filter(isNeuronClass);
  if (candidates.length === 1) return candidates[0];
  throw new NeuronLoadError(path, undefined, candidates.length === 0 ? 'the file exports no class extending Neuron' : `it exports ${candidates.length} Neuron classes; name one with 'export'`);
}
