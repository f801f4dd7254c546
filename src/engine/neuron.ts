// The neuron-centric API (Apache Horn's idea): a layer can be computed neuron by neuron by a user
// class. Differences from Horn, on purpose:
//  - a neuron reports *gradients* (`push`), never weight updates with the learning rate and
//    momentum baked in, so any optimizer (Adam, a parameter server) applies them;
//  - the bias is an explicit parameter of each neuron, not a hidden extra neuron;
//  - the neuron sees its own output and inputs, so derivatives are taken of the right thing;
//  - dropout is applied by the framework (correctly scaled, off at inference), not by neurons;
//  - protocol mistakes (no feedforward, wrong number of pushes) raise a typed error.
import { NeuronProtocolError } from './errors';

/** What a neuron receives in forward: one message per input of the previous layer. */
export interface ForwardMessage {
  /** The output of input neuron i (after its dropout). */
  readonly input: number;
  /** The weight of the connection from input neuron i to this neuron. */
  readonly weight: number;
}

/**
 * What a neuron receives in backward: one message per neuron j of the next layer, carrying that
 * neuron's delta (∂loss/∂ its pre-activation) and the weight from this neuron to it (scaled by
 * this neuron's dropout mask while training). In the output layer there is a single message
 * whose delta is ∂loss/∂output and whose weight is 1.
 */
export interface BackwardMessage {
  readonly delta: number;
  readonly weight: number;
}

const STATE = Symbol('neuronState');

interface NeuronState {
  layer: number;
  index: number;
  bias: number;
  output: number;
  inputs: Float32Array;
  /** The layer's weight matrix (inputSize × size); this neuron's column is `index`. */
  weights: Float32Array;
  size: number;
  training: boolean;
  fed: boolean;
  delta: number;
  propagated: boolean;
  pushed: Float64Array;
  pushCount: number;
  biasGradient: number;
  biasPushed: boolean;
}

/**
 * Base class of user neurons. Subclasses implement `forward` and `backward`; the framework calls
 * them once per sample, reusing one object per neuron. Messages are only valid during the call.
 */
export abstract class Neuron {
  /** @internal */
  readonly [STATE]: NeuronState = {
    layer: 0, index: 0, bias: 0, output: 0, inputs: new Float32Array(0), weights: new Float32Array(0), size: 0, training: false,
    fed: false, delta: 0, propagated: false, pushed: new Float64Array(0), pushCount: 0, biasGradient: 0, biasPushed: false,
  };

  /** Compute this neuron's output from its inputs and call `feedforward(output)`. */
  abstract forward(messages: readonly ForwardMessage[]): void;
  /** Compute this neuron's delta, call `backpropagate(delta)`, and optionally `push` gradients. */
  abstract backward(messages: readonly BackwardMessage[]): void;

  /** Index of this neuron's layer (0 = first hidden layer). */
  get layerIndex(): number { return this[STATE].layer; }
  /** Index of this neuron within its layer. */
  get index(): number { return this[STATE].index; }
  /** This neuron's bias. */
  get bias(): number { return this[STATE].bias; }
  /** This neuron's output for the current sample (set by feedforward; available in backward). */
  get output(): number { return this[STATE].output; }
  /** The current sample's inputs to this neuron (same order as the messages). Read only. */
  get inputs(): Float32Array { return this[STATE].inputs; }
  /** The weight from input `i` to this neuron (also in backward, where messages carry outgoing weights). */
  incomingWeight(i: number): number {
    const s = this[STATE];
    return s.weights[i * s.size + s.index];
  }
  /** True while training, false at inference. */
  get isTraining(): boolean { return this[STATE].training; }

  /** Σ input·weight + bias: the usual pre-activation. */
  protected weightedSum(messages: readonly ForwardMessage[]): number {
    let sum = this[STATE].bias;
    for (const m of messages) sum += m.input * m.weight;
    return sum;
  }

  /** Σ delta·weight over backward messages: ∂loss/∂ this neuron's output. */
  protected incomingError(messages: readonly BackwardMessage[]): number {
    let sum = 0;
    for (const m of messages) sum += m.delta * m.weight;
    return sum;
  }

  /** Set this neuron's output for the current sample. */
  protected feedforward(output: number): void {
    const s = this[STATE];
    s.output = output;
    s.fed = true;
  }

  /** Set this neuron's delta: ∂loss/∂(its weighted sum). It is sent to the previous layer. */
  protected backpropagate(delta: number): void {
    const s = this[STATE];
    s.delta = delta;
    s.propagated = true;
  }

  /**
   * Report ∂loss/∂w for the next incoming weight (in message order). If a neuron pushes nothing,
   * the framework uses delta·input, the gradient of a weighted-sum neuron.
   */
  protected push(gradient: number): void {
    const s = this[STATE];
    if (s.pushCount >= s.pushed.length) throw new NeuronProtocolError(this.constructor.name, s.layer, s.index, `pushed more than ${s.pushed.length} weight gradients`);
    s.pushed[s.pushCount++] = gradient;
  }

  /** Report ∂loss/∂bias; defaults to delta when not called. */
  protected pushBias(gradient: number): void {
    const s = this[STATE];
    s.biasGradient = gradient;
    s.biasPushed = true;
  }
}

/** A concrete user neuron class; constructed with no arguments, one instance per neuron. */
export type NeuronClass = new () => Neuron;

export function isNeuronClass(value: unknown): value is NeuronClass {
  return typeof value === 'function' && value.prototype instanceof Neuron;
}

/** The per-layer buffers a NeuronLayerRunner reads and writes (row-major, `rows` samples). */
export interface NeuronLayerBuffers {
  /** rows × inputSize */
  x: Float32Array;
  /** inputSize × size (column j = neuron j's incoming weights) */
  weights: Float32Array;
  bias: Float32Array;
  /** rows × size: outputs */
  out: Float32Array;
}

/** Next-layer information that backward messages are built from. */
export type Downstream =
  | { kind: 'loss'; /** rows × size: ∂loss/∂output */ dOut: Float32Array }
  | { kind: 'layer'; /** rows × nextSize */ dZ: Float32Array; /** size × nextSize */ weights: Float32Array; nextSize: number; /** rows × size or null */ mask: Float32Array | null };

/** Runs one layer of user neurons sample by sample. */
export class NeuronLayerRunner {
  private readonly neurons: Neuron[];
  private readonly forwardMessages: { input: number; weight: number }[];
  private backwardMessages: { delta: number; weight: number }[] = [];

  constructor(readonly neuronClass: NeuronClass, readonly layer: number, readonly inputSize: number, readonly size: number) {
    this.neurons = [];
    for (let j = 0; j < size; j++) {
      const n = new neuronClass();
      if (!(n instanceof Neuron)) throw new NeuronProtocolError(neuronClass.name, layer, j, 'the class does not extend Neuron');
      n[STATE].layer = layer;
      n[STATE].index = j;
      n[STATE].pushed = new Float64Array(inputSize);
      n[STATE].size = size;
      this.neurons.push(n);
    }
    this.forwardMessages = Array.from({ length: inputSize }, () => ({ input: 0, weight: 0 }));
  }

  forward(b: NeuronLayerBuffers, rows: number, training: boolean): void {
    const { inputSize, size } = this;
    const msgs = this.forwardMessages;
    for (let r = 0; r < rows; r++) {
      const inputs = b.x.subarray(r * inputSize, (r + 1) * inputSize);
      for (let j = 0; j < size; j++) {
        const n = this.neurons[j];
        const s = n[STATE];
        for (let i = 0; i < inputSize; i++) {
          msgs[i].input = inputs[i];
          msgs[i].weight = b.weights[i * size + j];
        }
        s.bias = b.bias[j];
        s.inputs = inputs;
        s.weights = b.weights;
        s.training = training;
        s.fed = false;
        n.forward(msgs);
        if (!s.fed) throw new NeuronProtocolError(n.constructor.name, this.layer, j, 'forward() did not call feedforward()');
        if (!Number.isFinite(s.output)) throw new NeuronProtocolError(n.constructor.name, this.layer, j, `forward() produced ${s.output}`);
        b.out[r * size + j] = s.output;
      }
    }
  }

  /** Writes dZ (rows × size), and the weight and bias gradients (overwritten, summed over rows). */
  backward(b: NeuronLayerBuffers, rows: number, down: Downstream, dZ: Float32Array, dW: Float32Array, dB: Float32Array): void {
    const { inputSize, size } = this;
    const fanOut = down.kind === 'loss' ? 1 : down.nextSize;
    if (this.backwardMessages.length !== fanOut) this.backwardMessages = Array.from({ length: fanOut }, () => ({ delta: 0, weight: 0 }));
    const msgs = this.backwardMessages;
    dW.fill(0, 0, inputSize * size);
    dB.fill(0, 0, size);
    for (let r = 0; r < rows; r++) {
      const inputs = b.x.subarray(r * inputSize, (r + 1) * inputSize);
      for (let j = 0; j < size; j++) {
        if (down.kind === 'loss') {
          msgs[0].delta = down.dOut[r * size + j];
          msgs[0].weight = 1;
        } else {
          const keep = down.mask ? down.mask[r * size + j] : 1;
          for (let k = 0; k < fanOut; k++) {
            msgs[k].delta = down.dZ[r * fanOut + k];
            msgs[k].weight = down.weights[j * fanOut + k] * keep;
          }
        }
        const n = this.neurons[j];
        const s = n[STATE];
        s.bias = b.bias[j];
        s.inputs = inputs;
        s.weights = b.weights;
        s.output = b.out[r * size + j];
        s.training = true;
        s.propagated = false;
        s.pushCount = 0;
        s.biasPushed = false;
        n.backward(msgs);
        if (!s.propagated) throw new NeuronProtocolError(n.constructor.name, this.layer, j, 'backward() did not call backpropagate()');
        if (s.pushCount !== 0 && s.pushCount !== inputSize) throw new NeuronProtocolError(n.constructor.name, this.layer, j, `pushed ${s.pushCount} weight gradients; expected 0 or ${inputSize}`);
        const delta = s.delta;
        dZ[r * size + j] = delta;
        if (s.pushCount === 0) for (let i = 0; i < inputSize; i++) dW[i * size + j] += delta * inputs[i];
        else for (let i = 0; i < inputSize; i++) dW[i * size + j] += s.pushed[i];
        dB[j] += s.biasPushed ? s.biasGradient : delta;
      }
    }
  }
}
