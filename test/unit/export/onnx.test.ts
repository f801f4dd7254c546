/**
 * @jest-environment ./test/unit/export/ort-environment.js
 */
import * as ort from 'onnxruntime-node';
import { DENSE_ACTIVATIONS, type DenseActivation, type DenseLayerDescription, InvalidLayerDescriptionError } from '../../../src/engine-export/dense-layers';
import {
  buildOnnxModel,
  decodeOnnxModel,
  exportDenseLayersToOnnx,
  ONNX_INPUT_NAME,
  ONNX_IR_VERSION,
  ONNX_OPSET_VERSION,
  OnnxDecodeError,
  tensorFloats,
} from '../../../src/engine-export/onnx';
import { denseForward, randomArray, randomDenseLayers, seededRandom } from './dense-forward';

async function runOnnx(bytes: Uint8Array, input: Float32Array, rows: number, columns: number): Promise<{ name: string; data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = { [ONNX_INPUT_NAME]: new ort.Tensor('float32', input, [rows, columns]) };
    const results = await session.run(feeds);
    const name = session.outputNames[0];
    const tensor = results[name];
    return { name, data: tensor.data as Float32Array, dims: tensor.dims };
  } finally {
    await session.release();
  }
}

/**
 * Worst ratio of |actual − expected| to the allowed error rtol·|expected| + atol (≤ 1 passes).
 * The absolute term exists because onnxruntime computes Sigmoid through tanh, leaving an absolute
 * error of about one float32 ulp of 0.5 (~6e-8), so outputs near 0 cannot meet a purely
 * relative bound; 1e-6 is still far below anything a wrong weight, bias or operator produces.
 */
function worstToleranceRatio(actual: Float32Array, expected: Float64Array, rtol = 1e-5, atol = 1e-6): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (rtol * Math.abs(expected[i]) + atol));
  return worst;
}

describe('ONNX export of dense layers, checked in onnxruntime-node', () => {
  const shapes: Array<{ sizes: number[]; activations: DenseActivation[] }> = [
    { sizes: [1, 1], activations: ['identity'] },
    { sizes: [7, 13], activations: ['sigmoid'] },
    { sizes: [5, 9, 3], activations: ['relu', 'softmax'] },
    { sizes: [11, 6, 4, 2], activations: ['leakyRelu', 'tanh', 'identity'] },
    { sizes: [20, 17, 8, 10], activations: ['tanh', 'sigmoid', 'softmax'] },
    { sizes: [784, 32, 10], activations: ['relu', 'softmax'] },
  ];

  test.each(shapes.map((s, i) => [s.sizes.join('-'), s.activations.join('+'), i] as const))('%s with %s matches a plain forward pass', async (_sizes, _acts, index) => {
    const { sizes, activations } = shapes[index];
    const random = seededRandom(1000 + index);
    const layers = randomDenseLayers(random, sizes, activations);
    const rows = 9;
    const input = randomArray(random, rows * sizes[0], 2);
    const result = await runOnnx(exportDenseLayersToOnnx(layers), input, rows, sizes[0]);
    expect(result.dims).toEqual([rows, sizes[sizes.length - 1]]);
    expect(worstToleranceRatio(result.data, denseForward(layers, input, rows))).toBeLessThanOrEqual(1);
  });

  test.each(DENSE_ACTIVATIONS.map((a) => [a] as const))('every activation alone (%s), inputs spread over ±8', async (activation) => {
    const random = seededRandom(activation.length * 7919);
    const layers = randomDenseLayers(random, [6, 5], [activation], 0.2);
    const rows = 16;
    const input = randomArray(random, rows * 6, 8);
    const result = await runOnnx(exportDenseLayersToOnnx(layers), input, rows, 6);
    expect(worstToleranceRatio(result.data, denseForward(layers, input, rows))).toBeLessThanOrEqual(1);
  });

  test('leakyRelu uses the layer alpha, and 0.01 when none is given', async () => {
    const base: DenseLayerDescription = { inputSize: 1, outputSize: 1, weights: Float32Array.of(1), bias: Float32Array.of(0), activation: 'leakyRelu' };
    const withAlpha = await runOnnx(exportDenseLayersToOnnx([{ ...base, alpha: 0.25 }]), Float32Array.of(-4), 1, 1);
    const withoutAlpha = await runOnnx(exportDenseLayersToOnnx([base]), Float32Array.of(-4), 1, 1);
    expect(withAlpha.data[0]).toBeCloseTo(-1, 6);
    expect(withoutAlpha.data[0]).toBeCloseTo(-0.04, 6);
  });

  test('the batch dimension is symbolic: one model runs batches of 1 and 50', async () => {
    const random = seededRandom(7);
    const layers = randomDenseLayers(random, [4, 3], ['softmax']);
    const bytes = exportDenseLayersToOnnx(layers);
    for (const rows of [1, 50]) {
      const input = randomArray(random, rows * 4, 1);
      const result = await runOnnx(bytes, input, rows, 4);
      expect(result.dims).toEqual([rows, 3]);
      expect(worstToleranceRatio(result.data, denseForward(layers, input, rows))).toBeLessThanOrEqual(1);
    }
  });

  test('output is named probabilities after softmax, output otherwise, or as asked', async () => {
    const random = seededRandom(3);
    const soft = randomDenseLayers(random, [2, 2], ['softmax']);
    const plain = randomDenseLayers(random, [2, 2], ['tanh']);
    expect((await runOnnx(exportDenseLayersToOnnx(soft), new Float32Array(2), 1, 2)).name).toBe('probabilities');
    expect((await runOnnx(exportDenseLayersToOnnx(plain), new Float32Array(2), 1, 2)).name).toBe('output');
    expect((await runOnnx(exportDenseLayersToOnnx(plain, { outputName: 'scores' }), new Float32Array(2), 1, 2)).name).toBe('scores');
  });
});

describe('ONNX model structure', () => {
  test('header, graph and weights survive an encode/decode round trip', () => {
    const random = seededRandom(11);
    const layers = randomDenseLayers(random, [3, 4, 2], ['leakyRelu', 'softmax'], 0.3);
    const model = decodeOnnxModel(exportDenseLayersToOnnx(layers, { producerVersion: '0.1.0', metadata: { 'horn.source': 'm.horn' } }));
    expect(model.ir_version).toBe(ONNX_IR_VERSION);
    expect(model.opset_import).toEqual([{ domain: '', version: ONNX_OPSET_VERSION }]);
    expect(model.producer_name).toBe('horn');
    expect(model.producer_version).toBe('0.1.0');
    expect(model.metadata_props).toEqual([{ key: 'horn.source', value: 'm.horn' }]);
    expect(model.graph.node.map((n) => n.op_type)).toEqual(['Gemm', 'LeakyRelu', 'Gemm', 'Softmax']);
    expect(model.graph.node[1].attribute[0].name).toBe('alpha');
    expect(model.graph.node[1].attribute[0].f).toBeCloseTo(0.3, 6);
    expect(model.graph.node[3].attribute[0]).toMatchObject({ name: 'axis', i: -1 });
    expect(model.graph.input[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'batch' }, { dim_value: 3 }]);
    expect(model.graph.output[0].name).toBe('probabilities');
    const weight = model.graph.initializer.find((t) => t.name === 'dense0.weight');
    expect(weight?.dims).toEqual([3, 4]);
    expect(Array.from(tensorFloats(weight!))).toEqual(Array.from(layers[0].weights));
    expect(Array.from(tensorFloats(model.graph.initializer.find((t) => t.name === 'dense1.bias')!))).toEqual(Array.from(layers[1].bias));
  });

  test('identity last layer: the Gemm writes the graph output directly', () => {
    const model = buildOnnxModel(randomDenseLayers(seededRandom(1), [2, 2, 2], ['relu', 'identity']));
    expect(model.graph.node.map((n) => n.op_type)).toEqual(['Gemm', 'Relu', 'Gemm']);
    expect(model.graph.node[2].output).toEqual(['output']);
    expect(model.graph.node[2].input[0]).toBe(model.graph.node[1].output[0]);
  });

  test('invalid layer lists are refused with the layer, field and value', () => {
    const ok = randomDenseLayers(seededRandom(2), [3, 4, 2], ['relu', 'softmax']);
    expect(() => buildOnnxModel([])).toThrow(InvalidLayerDescriptionError);
    expect(() => buildOnnxModel([ok[0], { ...ok[1], inputSize: 5, weights: new Float32Array(10) }])).toThrow(/layer 1: inputSize = 5: must equal the previous layer's outputSize 4/);
    expect(() => buildOnnxModel([{ ...ok[0], weights: new Float32Array(3) }])).toThrow(/layer 0: weights.length = 3/);
    expect(() => buildOnnxModel([{ ...ok[0], bias: new Float32Array(1) }])).toThrow(/layer 0: bias.length = 1/);
    expect(() => buildOnnxModel([{ ...ok[0], activation: 'gelu' as DenseActivation }])).toThrow(/layer 0: activation = "gelu"/);
    const nanWeights = Float32Array.from(ok[0].weights);
    nanWeights[5] = NaN;
    expect(() => buildOnnxModel([{ ...ok[0], weights: nanWeights }])).toThrow(/layer 0: weights\[5\] = NaN: must be finite/);
  });

  test('garbage bytes are an OnnxDecodeError', () => {
    expect(() => decodeOnnxModel(Uint8Array.of(0x0a, 0xff, 0xff, 0xff))).toThrow(OnnxDecodeError);
  });
});
