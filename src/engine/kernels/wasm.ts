import { Arena } from './arena';
import { MemoryKernels, OFFSET_KERNEL_FUNCTIONS, type OffsetKernelFunctions } from './memory';
import type { KernelBackendName } from './types';
import { webAssembly } from './webassembly';

// Kernels backed by the AssemblyScript module in ./assembly/kernels.ts. The module imports a
// fixed-size memory that never grows (growing would detach every view handed out); the
// allocator starts above the module's static data.

const PAGE_BYTES = 65536;

export type WasmBackendName = Extract<KernelBackendName, 'wasm-relaxed-simd' | 'wasm-simd'>;

export const WasmKernels = {
  /** Compiles `bytes` and gives it a memory of `memoryBytes` (rounded up to 64 KiB pages) that never grows. One thread. */
  async create(backend: WasmBackendName, bytes: Uint8Array, memoryBytes: number): Promise<MemoryKernels> {
    if (!webAssembly) throw new Error('this runtime has no WebAssembly');
    const module = await webAssembly.compile(bytes);
    const pages = Math.ceil(memoryBytes / PAGE_BYTES);
    const memory = new webAssembly.Memory({ initial: pages, maximum: pages });
    const instance = await webAssembly.instantiate(module, {
      env: {
        memory,
        abort(): never {
          throw new Error(`kernel module ${backend} aborted`);
        },
      },
    });
    const exports = instance.exports;
    for (const name of [...OFFSET_KERNEL_FUNCTIONS, 'heapBase']) {
      if (typeof exports[name] !== 'function') throw new Error(`kernel module ${backend} lacks export ${name}`);
    }
    const heapBase = (exports.heapBase as () => number)();
    return new MemoryKernels(backend, 1, exports as unknown as OffsetKernelFunctions, memory.buffer, new Arena(heapBase, pages * PAGE_BYTES));
  },
};
