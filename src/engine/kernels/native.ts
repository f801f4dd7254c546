import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Arena } from './arena';
import { MemoryKernels, type OffsetKernelFunctions } from './memory';

// The native kernels: a Node-API addon built from ../../../native by scripts/build-native with
// the system C compiler (AVX2 and AVX-512 FMA micro-kernels and a thread pool). It is optional:
// where it is missing or cannot be loaded (no compiler at set-up, another CPU or libc), the
// status says why and loadKernels falls back to WebAssembly.

/** The addon's file name: in the build output (dist/), and in every container's working directory. */
export const NATIVE_KERNELS_FILE = 'horn-kernels.node';

/** The call convention this loader speaks; the addon reports its own (HORN_NATIVE_ABI in addon.c). */
export const NATIVE_ABI = 3;

export type NativeIsa = 'avx512' | 'avx2';
export type NativeBackendName = `native-${NativeIsa}`;

declare const nativeHandle: unique symbol;
/** The addon's kernel set and thread pool (a Node-API external). */
type NativeHandle = { readonly [nativeHandle]: true };

type NativeFunctionName = Exclude<keyof OffsetKernelFunctions, 'gemmScratchFloats'>;
type WithHandle<F> = F extends (...args: infer A) => infer R ? (handle: NativeHandle, ...args: A) => R : never;

interface NativeAddon extends Readonly<{ [K in NativeFunctionName]: WithHandle<OffsetKernelFunctions[K]> }> {
  readonly abi: number;
  cpu(): { avx2: boolean; avx512: boolean; f16c?: boolean };
  /** Absent from an addon built before them; callable only where cpu().f16c. */
  readonly halvesEncode?: (values: Float32Array, out: Uint16Array) => void;
  readonly halvesDecode?: (halves: Uint16Array, out: Float32Array, accumulate: boolean) => void;
  create(memoryBytes: number, threads: number, isa: NativeIsa): [NativeHandle, ArrayBuffer];
}

const NATIVE_FUNCTIONS: readonly NativeFunctionName[] = [
  'gemm', 'loadRows', 'addRowVector', 'sumRows', 'activate', 'activateBackward', 'softmaxCrossEntropy', 'multiply', 'dropout', 'axpy', 'scale', 'sgdStep', 'adamStep',
];

export type NativeStatus =
  | { readonly available: true; readonly path: string; readonly isas: readonly NativeIsa[]; readonly addon: NativeAddon }
  | { readonly available: false; readonly reason: string };

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where the addon is looked for, in order: HORN_NATIVE_KERNELS (a path; `off` disables the
 * native kernels), beside this code (the bundles in dist/), in dist/ of the checkout this code
 * runs from (tests, benchmarks), and the working directory (YARN containers: the ApplicationMaster
 * localizes the addon there, while the runtime bundle's own directory is the NodeManager's cache).
 */
export function nativeKernelsCandidates(env: Env = process.env, cwd = process.cwd()): string[] {
  const forced = env.HORN_NATIVE_KERNELS;
  if (forced !== undefined && forced !== '') return forced === 'off' ? [] : [resolve(cwd, forced)];
  const out = [join(__dirname, NATIVE_KERNELS_FILE)];
  for (let dir = __dirname, up = 0; up < 4; up++, dir = dirname(dir)) out.push(join(dir, 'dist', NATIVE_KERNELS_FILE));
  out.push(join(cwd, NATIVE_KERNELS_FILE));
  return [...new Set(out)];
}

/** The addon file horn would load, if there is one (the client ships it to containers). */
export function findNativeKernelsFile(env: Env = process.env, cwd = process.cwd()): string | undefined {
  return nativeKernelsCandidates(env, cwd).find((p) => existsSync(p));
}

const statusByPath = new Map<string, NativeStatus>();

/** Whether the native kernels can run here, and if not, why (checked once per addon path). */
export function nativeKernelsStatus(env: Env = process.env, cwd = process.cwd()): NativeStatus {
  if (env.HORN_NATIVE_KERNELS === 'off') return { available: false, reason: 'they are disabled (HORN_NATIVE_KERNELS=off)' };
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { available: false, reason: `they are built for Linux on x86-64, and this is ${process.platform} on ${process.arch}` };
  }
  const path = findNativeKernelsFile(env, cwd);
  if (!path) {
    return { available: false, reason: `${NATIVE_KERNELS_FILE} was not found (looked in ${nativeKernelsCandidates(env, cwd).join(', ')}); scripts/build-native builds it with the system C compiler` };
  }
  let status = statusByPath.get(path);
  if (!status) {
    status = loadAddon(path);
    statusByPath.set(path, status);
  }
  return status;
}

function loadAddon(path: string): NativeStatus {
  const module = { exports: {} as Partial<NativeAddon> };
  try {
    process.dlopen(module, path);
  } catch (error) {
    return { available: false, reason: `${path} could not be loaded: ${(error as Error).message}` };
  }
  const addon = module.exports;
  if (addon.abi !== NATIVE_ABI) return { available: false, reason: `${path} speaks call convention ${String(addon.abi)}, this horn ${NATIVE_ABI} (rebuild it: scripts/build-native)` };
  const missing = [...NATIVE_FUNCTIONS, 'cpu', 'create'].filter((name) => typeof addon[name as keyof NativeAddon] !== 'function');
  if (missing.length > 0) return { available: false, reason: `${path} lacks ${missing.join(', ')}` };
  const complete = addon as NativeAddon;
  const cpu = complete.cpu();
  const isas: NativeIsa[] = [...(cpu.avx512 ? ['avx512' as const] : []), ...(cpu.avx2 ? ['avx2' as const] : [])];
  if (isas.length === 0) return { available: false, reason: 'this CPU lacks AVX2 with FMA, which they need' };
  return { available: true, path, isas, addon: complete };
}

/** Native kernels on `threads` threads (the calling thread is one of them) over a memory of `memoryBytes`. */
export function createNativeKernels(addon: NativeAddon, isa: NativeIsa, memoryBytes: number, threads: number): MemoryKernels {
  const [handle, buffer] = addon.create(memoryBytes, threads, isa);
  const bound: Record<string, unknown> = { gemmScratchFloats: () => 0 };
  for (const name of NATIVE_FUNCTIONS) bound[name] = (addon[name] as (...args: unknown[]) => unknown).bind(null, handle);
  // The handle must live as long as the memory: the kernels object holds both.
  return new MemoryKernels(`native-${isa}`, threads, bound as unknown as OffsetKernelFunctions, buffer, new Arena(0, buffer.byteLength));
}

/** fp32 ↔ fp16 conversions of whole arrays (the wire's fp16 encoding), shaped as src/wire/tensors.ts HalfConversions. */
export interface NativeHalfConversions {
  readonly name: 'native-f16c';
  encode(values: Float32Array, out: Uint16Array): void;
  decode(halves: Uint16Array, out: Float32Array, accumulate: boolean): void;
}

/** The addon's F16C conversions, where the addon loads and the CPU has F16C; else undefined (the JavaScript ones serve). */
export function nativeHalfConversions(env: Env = process.env, cwd = process.cwd()): NativeHalfConversions | undefined {
  const status = nativeKernelsStatus(env, cwd);
  if (!status.available) return undefined;
  const { addon } = status;
  const encode = addon.halvesEncode;
  const decode = addon.halvesDecode;
  if (!encode || !decode || !addon.cpu().f16c) return undefined;
  return { name: 'native-f16c', encode, decode };
}
