import { ReferenceKernels } from './reference';
import type { Kernels } from './types';

export type { Kernels, KernelBackendName, ElementwiseActivation } from './types';

/** The fastest kernels this runtime supports. */
export async function loadKernels(): Promise<Kernels> {
  return new ReferenceKernels();
}
