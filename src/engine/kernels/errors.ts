// Typed failures of the kernel layer; each carries the values needed to act on it.

export class KernelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The kernels' linear memory cannot satisfy an allocation (it never grows: views would detach). */
export class KernelMemoryExhaustedError extends KernelError {
  constructor(
    readonly requestedBytes: number,
    readonly freeBytes: number,
    readonly capacityBytes: number,
  ) {
    super(
      `kernel memory exhausted: need ${requestedBytes} bytes, ${freeBytes} of ${capacityBytes} free ` +
        `(raise HORN_KERNEL_MEMORY_MB or loadKernels({ memoryBytes }), or free() unused arrays)`,
    );
  }
}

/** An array argument that the kernels cannot address or that is too short for the shape given. */
export class KernelArgumentError extends KernelError {
  constructor(
    readonly operation: string,
    readonly argument: string,
    readonly detail: string,
  ) {
    super(`${operation}: argument ${argument}: ${detail}`);
  }
}

/** A backend was requested (HORN_KERNELS or an option) that this runtime cannot run. */
export class KernelBackendUnavailableError extends KernelError {
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    super(`kernel backend ${JSON.stringify(backend)} is unavailable: ${reason}`);
  }
}

/** A kernel setting in the environment has a value horn cannot use. */
export class KernelConfigError extends KernelError {
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`${variable}=${JSON.stringify(value)}: expected ${expected}`);
  }
}
