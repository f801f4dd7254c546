// Typed errors of the engine. Each carries the context a user needs to fix the input.

import { HornError } from '../common/errors';

export { StateMismatchError } from '../common/errors';

/** The model spec (or a hyper-parameter) is invalid; `field` is a dotted path such as `layers[2].dropout`. */
export class ModelSpecError extends HornError {
  constructor(readonly field: string, readonly value: unknown, reason: string) {
    super(`invalid model spec: ${field} = ${safeJson(value)}: ${reason}`, 'input');
  }
}

/** A model file is malformed; `offset` is the byte offset where reading failed. */
export class ModelFormatError extends HornError {
  constructor(readonly source: string, readonly offset: number, reason: string) {
    super(`${source}: malformed model file at byte ${offset}: ${reason}`, 'input');
  }
}

/** A batch does not fit the model (wrong length, count or width). */
export class BatchShapeError extends Error {
  constructor(readonly field: string, readonly expected: number, readonly actual: number) {
    super(`batch ${field}: expected ${expected} values, got ${actual}`);
    this.name = 'BatchShapeError';
  }
}

/** A user neuron class could not be loaded from its file. */
export class NeuronLoadError extends HornError {
  constructor(readonly file: string, readonly exportName: string | undefined, reason: string) {
    super(`cannot load neuron${exportName ? ` '${exportName}'` : ''} from ${file}: ${reason}`, 'input');
  }
}

/** A user neuron broke the forward/backward protocol (e.g. never called feedforward). */
export class NeuronProtocolError extends Error {
  constructor(readonly neuronClass: string, readonly layer: number, readonly neuron: number, reason: string) {
    super(`neuron ${neuronClass} (layer ${layer}, neuron ${neuron}): ${reason}`);
    this.name = 'NeuronProtocolError';
  }
}

function safeJson(value: unknown): string {
  if (typeof value === 'function') return `[class ${(value as { name?: string }).name ?? '?'}]`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

