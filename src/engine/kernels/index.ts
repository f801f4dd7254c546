import v8 from 'node:v8';
import simdModuleBytes from '../../../build/kernels.wasm';
import relaxedModuleBytes from '../../../build/kernels-relaxed.wasm';
import { KernelBackendUnavailableError, KernelConfigError } from './errors';
import { createNativeKernels, nativeKernelsStatus, type NativeBackendName, type NativeIsa } from './native';
import { TypeScriptKernels } from './typescript';
import type { KernelBackendName, Kernels } from './types';
import { WasmKernels } from './wasm';
import { webAssembly } from './webassembly';

export type { Kernels, KernelBackendName, ElementwiseActivation } from './types';
export { ReferenceKernels } from './reference';
export { TypeScriptKernels } from './typescript';
export { WasmKernels } from './wasm';
export { MemoryKernels } from './memory';
export { NATIVE_KERNELS_FILE, findNativeKernelsFile, nativeHalfConversions, nativeKernelsCandidates, nativeKernelsStatus } from './native';
export type { NativeHalfConversions, NativeStatus } from './native';
export { KernelError, KernelArgumentError, KernelBackendUnavailableError, KernelConfigError, KernelMemoryExhaustedError } from './errors';

/** Memory of the WebAssembly and native backends unless HORN_KERNEL_MEMORY_MB or `memoryBytes` says otherwise; untouched pages cost no RAM. */
export const DEFAULT_KERNEL_MEMORY_BYTES = 1024 * 1024 * 1024;

/** Fastest first. */
const BACKENDS: readonly KernelBackendName[] = ['native-avx512', 'native-avx2', 'wasm-relaxed-simd', 'wasm-simd', 'typescript'];

/** A 32-bit WebAssembly memory holds at most 65,535 pages of 64 KiB. */
const MAX_MEMORY_BYTES = 65535 * 65536;

/** More threads than this is a mistake, not a machine. */
export const MAX_KERNEL_THREADS = 256;

export interface LoadKernelsOptions {
  /** A backend to use instead of the best available one; default: env HORN_KERNELS, else 'auto'. */
  backend?: KernelBackendName | 'auto';
  /** Size of the kernels' memory; it never grows. Default: env HORN_KERNEL_MEMORY_MB, else 1 GiB (address space only: pages cost memory once touched). */
  memoryBytes?: number;
  /**
   * Threads to split each kernel call over (default 1). The native backends use them; the
   * WebAssembly and TypeScript backends run on the calling thread alone (their `threads` is 1).
   */
  threads?: number;
  /** Where HORN_KERNELS, HORN_KERNEL_MEMORY_MB and HORN_NATIVE_KERNELS are read; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Told, once per message, when 'auto' cannot use the native kernels and why; default: a line on stderr. */
  notice?: (message: string) => void;
}

/** The fastest kernels this runtime supports, or the backend forced by HORN_KERNELS / `options.backend`. */
export async function loadKernels(options: LoadKernelsOptions = {}): Promise<Kernels> {
  const env = options.env ?? process.env;
  const requested = options.backend !== undefined ? parseBackend(options.backend, 'loadKernels({ backend })') : parseBackend(env.HORN_KERNELS, 'HORN_KERNELS');
  const memoryBytes = options.memoryBytes ?? parseMemoryMegabytes(env.HORN_KERNEL_MEMORY_MB) ?? DEFAULT_KERNEL_MEMORY_BYTES;
  if (!Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes > MAX_MEMORY_BYTES) {
    throw new KernelConfigError('loadKernels({ memoryBytes })', String(memoryBytes), `an integer number of bytes from 1 to ${MAX_MEMORY_BYTES}`);
  }
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_KERNEL_THREADS) {
    throw new KernelConfigError('loadKernels({ threads })', String(threads), `an integer from 1 to ${MAX_KERNEL_THREADS}`);
  }
  let backend: KernelBackendName;
  if (requested === 'auto') {
    backend = bestSupportedBackend(env);
    if (!isNative(backend)) {
      const status = nativeKernelsStatus(env);
      if (!status.available) say(options.notice ?? stderrNotice, `native kernels unavailable: ${status.reason}; using the ${backend} kernels on one thread`);
    }
  } else {
    backend = requested;
  }
  if (backend === 'typescript') return new TypeScriptKernels();
  if (isNative(backend)) {
    const status = nativeKernelsStatus(env);
    const isa = backend.slice('native-'.length) as NativeIsa;
    if (!status.available) throw new KernelBackendUnavailableError(backend, status.reason);
    if (!status.isas.includes(isa)) throw new KernelBackendUnavailableError(backend, `this CPU (or OS) does not run ${isa}; it runs ${status.isas.join(', ')}`);
    return createNativeKernels(status.addon, isa, memoryBytes, threads);
  }
  if (!backendSupported(backend, env)) {
    const reason = backend === 'wasm-relaxed-simd'
      ? 'WebAssembly relaxed SIMD does not validate (Node 20 needs V8 flag --experimental-wasm-relaxed-simd, which horn sets at run time; it had no effect here)'
      : 'WebAssembly SIMD128 does not validate in this runtime';
    throw new KernelBackendUnavailableError(backend, reason);
  }
  return WasmKernels.create(backend, backend === 'wasm-relaxed-simd' ? relaxedModuleBytes : simdModuleBytes, memoryBytes);
}

/** Every backend this runtime can run, fastest first. */
export function supportedKernelBackends(env: Readonly<Record<string, string | undefined>> = process.env): KernelBackendName[] {
  return BACKENDS.filter((b) => backendSupported(b, env));
}

/** "native-avx2 on 2 threads": what a log line or a result says about the kernels in use. */
export function describeKernels(kernels: Pick<Kernels, 'backend' | 'threads'>): string {
  return `${kernels.backend} on ${kernels.threads} thread${kernels.threads === 1 ? '' : 's'}`;
}

function isNative(backend: KernelBackendName): backend is NativeBackendName {
  return backend.startsWith('native-');
}

function bestSupportedBackend(env: Readonly<Record<string, string | undefined>>): KernelBackendName {
  return supportedKernelBackends(env)[0] ?? 'typescript';
}

function backendSupported(backend: KernelBackendName, env: Readonly<Record<string, string | undefined>>): boolean {
  if (backend === 'typescript') return true;
  if (isNative(backend)) {
    const status = nativeKernelsStatus(env);
    return status.available && status.isas.includes(backend.slice('native-'.length) as NativeIsa);
  }
  if (!webAssembly) return false;
  if (backend === 'wasm-simd') return webAssembly.validate(simdModuleBytes);
  return relaxedSimdEnabled();
}

const said = new WeakMap<(message: string) => void, Set<string>>();

/** Each message once per sink, so a process that loads kernels often says it once. */
function say(sink: (message: string) => void, message: string): void {
  let messages = said.get(sink);
  if (!messages) said.set(sink, (messages = new Set()));
  if (messages.has(message)) return;
  messages.add(message);
  sink(message);
}

function stderrNotice(message: string): void {
  process.stderr.write(`horn: ${message}\n`);
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
