// A user-defined neuron for horn's neuron-centric API: a logistic (sigmoid) unit written out
// by hand. Name it from a job file, e.g.
//
//   layers:
//     - size: 100
//       neuron: { module: examples/neurons/sigmoid-neuron.ts, export: SigmoidNeuron }
//
// horn calls forward() for every sample and every neuron of the layer, and backward() while
// training. Outside this repository, write `import { Neuron } from 'horn'` instead.
import { Neuron, type BackwardMessage, type ForwardMessage } from '../../src/engine/neuron';

export class SigmoidNeuron extends Neuron {
  forward(messages: readonly ForwardMessage[]): void {
    // One message per input: the input's value and this neuron's weight for it.
    let sum = this.bias;
    for (const m of messages) sum += m.input * m.weight;
    this.feedforward(1 / (1 + Math.exp(-sum)));
  }

  backward(messages: readonly BackwardMessage[]): void {
    // One message per neuron of the next layer: its delta and the weight from us to it.
    let error = 0;
    for (const m of messages) error += m.delta * m.weight;
    // The derivative is taken of our own output (Horn re-applied the sigmoid here, a bug).
    const delta = error * this.output * (1 - this.output);
    this.backpropagate(delta);
    // Gradients, not updates: the optimizer (SGD, momentum, Adam, a parameter server) applies
    // them. Pushing is optional for a weighted-sum neuron: without it horn uses delta × input.
    for (const input of this.inputs) this.push(delta * input);
    this.pushBias(delta);
  }
}
