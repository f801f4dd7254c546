import v8 from 'node:v8';
import simdModuleBytes from '../../../build/kernels.wasm';
import relaxedModuleBytes from '../../../build/kernels-relaxed.wasm';
import { KernelBackendUnavailableError, KernelConfigError } from './errors';
import { TypeScriptKernels } from './typescript';
import type { KernelBackendName, Kernels } from './types';
import { WasmKernels } from './wasm';
import { webAssembly } from './webassembly';

export type { Kernels, KernelBackendName, ElementwiseActivation } from './types';
export { ReferenceKernels } from './reference';
export { TypeScriptKernels } from './typescript';
export { WasmKernels } from './wasm';
export { KernelError, KernelArgumentError, KernelBackendUnavailableError, KernelConfigError, KernelMemoryExhaustedError } from './errors';

/** Linear memory of a WebAssembly backend unless HORN_KERNEL_MEMORY_MB or `memoryBytes` says otherwise; untouched pages cost no RAM. */
export const DEFAULT_KERNEL_MEMORY_BYTES = 1024 * 1024 * 1024;

const BACKENDS: readonly KernelBackendName[] = ['wasm-relaxed-simd', 'wasm-simd', 'typescript'];

/** A 32-bit WebAssembly memory holds at most 65,535 pages of 64 KiB. */
const MAX_MEMORY_BYTES = 65535 * 65536;

export interface LoadKernelsOptions {
  /** A backend to use instead of the best available one; default: env HORN_KERNELS, else 'auto'. */
  backend?: KernelBackendName | 'auto';
  /** Size of the WebAssembly backends' memory; it never grows. Default: env HORN_KERNEL_MEMORY_MB, else 1 GiB (address space only: pages cost memory once touched). */
  memoryBytes?: number;
  /** Where HORN_KERNELS and HORN_KERNEL_MEMORY_MB are read; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The fastest kernels this runtime supports, or the backend forced by HORN_KERNELS / `options.backend`. */
export async function loadKernels(options: LoadKernelsOptions = {}): Promise<Kernels> {
  const env = options.env ?? process.env;
  const requested = options.backend !== undefined ? parseBackend(options.backend, 'loadKernels({ backend })') : parseBackend(env.HORN_KERNELS, 'HORN_KERNELS');
  const memoryBytes = options.memoryBytes ?? parseMemoryMegabytes(env.HORN_KERNEL_MEMORY_MB) ?? DEFAULT_KERNEL_MEMORY_BYTES;
  if (!Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes > MAX_MEMORY_BYTES) {
    throw new KernelConfigError('loadKernels({ memoryBytes })', String(memoryBytes), `an integer number of bytes from 1 to ${MAX_MEMORY_BYTES}`);
  }
  const backend = requested === 'auto' ? bestSupportedBackend() : requested;
  if (backend === 'typescript') return new TypeScriptKernels();
  if (!backendSupported(backend)) {
    const reason = backend === 'wasm-relaxed-simd'
      ? 'WebAssembly relaxed SIMD does not validate (Node 20 needs V8 flag --experimental-wasm-relaxed-simd, which horn sets at run time; it had no effect here)'
      : 'WebAssembly SIMD128 does not validate in this runtime';
    throw new KernelBackendUnavailableError(backend, reason);
  }
  return WasmKernels.create(backend, backend === 'wasm-relaxed-simd' ? relaxedModuleBytes : simdModuleBytes, memoryBytes);
}

/** Every backend this runtime can run, fastest first. */
export function supportedKernelBackends(): KernelBackendName[] {
  return BACKENDS.filter(backendSupported);
}

function bestSupportedBackend(): KernelBackendName {
  return supportedKernelBackends()[0] ?? 'typescript';
}

function backendSupported(backend: KernelBackendName): boolean {
  if (backend === 'typescript') return true;
  if (!webAssembly) return false;
  if (backend === 'wasm-simd') return webAssembly.validate(simdModuleBytes);
  return relaxedSimdEnabled();
}

let relaxedSimdVerdict: boolean | undefined;

/**
 * Whether relaxed SIMD validates, enabling it first where it is behind a flag. Node 20's V8
 * (11.3) ships relaxed SIMD disabled, and `v8.setFlagsFromString('--experimental-wasm-relaxed-simd')`
 * at run time enables it for modules compiled afterwards (verified on Node 20.20), so the
 * runtime need not be started with the flag. Newer runtimes validate without it.
 */
export function relaxedSimdEnabled(): boolean {
  if (relaxedSimdVerdict !== undefined) return relaxedSimdVerdict;
  const wasm = webAssembly;
  relaxedSimdVerdict = wasm
    ? enableBehindFlag(() => wasm.validate(relaxedModuleBytes), (flag) => v8.setFlagsFromString(flag), '--experimental-wasm-relaxed-simd')
    : false;
  return relaxedSimdVerdict;
}

/** `supported()`, or else set `flag` and ask again; a runtime that rejects the flag is unsupported. */
export function enableBehindFlag(supported: () => boolean, setFlag: (flag: string) => void, flag: string): boolean {
  if (supported()) return true;
  try {
    setFlag(flag);
  } catch {
    return false;
  }
  return supported();
}

function parseBackend(value: string | undefined, source: string): KernelBackendName | 'auto' {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if ((BACKENDS as readonly string[]).includes(value)) return value as KernelBackendName;
  throw new KernelConfigError(source, value, `one of auto, ${BACKENDS.join(', ')}`);
}

function parseMemoryMegabytes(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const mb = Number(value);
  if (!Number.isInteger(mb) || mb <= 0 || mb > 4095) {
    throw new KernelConfigError('HORN_KERNEL_MEMORY_MB', value, 'an integer number of MiB from 1 to 4095');
  }
  return mb * 1024 * 1024;
}
