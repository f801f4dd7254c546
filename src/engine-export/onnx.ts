// Writes a dense feed-forward network as an ONNX model: one Gemm per layer (Y = X·W + b, W
// stored inputSize×outputSize exactly as horn keeps it, so no transpose) followed by the layer's
// activation operator. The encoding goes through protobufjs with horn's own onnx.proto subset.
import protobuf from 'protobufjs';
import onnxProtoSource from './onnx.proto';
import { DEFAULT_LEAKY_RELU_ALPHA, type DenseActivation, type DenseLayerDescription, validateDenseLayers } from './dense-layers';

/** IR version 7 is the one that introduced opset 13; every ONNX runtime from 1.6 on reads it. */
export const ONNX_IR_VERSION = 7;
/** Opset 13: Softmax normalises over one axis (axis = -1), Gemm accepts a 1-D bias. */
export const ONNX_OPSET_VERSION = 13;
export const ONNX_INPUT_NAME = 'input';
/** Name of the symbolic batch dimension of the input and output. */
export const ONNX_BATCH_DIM = 'batch';

// TensorProto.DataType.FLOAT and AttributeProto.AttributeType values of the ONNX specification.
const ONNX_FLOAT = 1;
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;

// Plain-object views of the messages, with the .proto field names (parsed with keepCase).
export interface OnnxAttribute { name: string; type: number; f?: number; i?: number }
export interface OnnxNode { name: string; op_type: string; input: string[]; output: string[]; attribute: OnnxAttribute[] }
export interface OnnxTensor { name: string; data_type: number; dims: number[]; raw_data?: Uint8Array; float_data?: number[] }
export interface OnnxDimension { dim_value?: number; dim_param?: string }
export interface OnnxValueInfo { name: string; type: { tensor_type: { elem_type: number; shape: { dim: OnnxDimension[] } } } }
export interface OnnxGraph { name: string; node: OnnxNode[]; initializer: OnnxTensor[]; input: OnnxValueInfo[]; output: OnnxValueInfo[]; doc_string?: string }
export interface OnnxModel {
  ir_version: number;
  opset_import: Array<{ domain: string; version: number }>;
  producer_name: string;
  producer_version: string;
  model_version?: number;
  doc_string?: string;
  graph: OnnxGraph;
  metadata_props: Array<{ key: string; value: string }>;
}

export interface OnnxExportOptions {
  /** Name of the graph output; defaults to `probabilities` after a softmax layer, else `output`. */
  outputName?: string;
  graphName?: string;
  producerVersion?: string;
  docString?: string;
  /** Free key/value pairs stored in ModelProto.metadata_props (e.g. the source model file). */
  metadata?: Readonly<Record<string, string>>;
}

/** Bytes that are not an ONNX model horn can read back; carries the underlying decoder message. */
export class OnnxDecodeError extends Error {
  constructor(readonly byteLength: number, detail: string) {
    super(`not a readable ONNX model (${byteLength} bytes): ${detail}`);
    this.name = 'OnnxDecodeError';
  }
}

let modelType: protobuf.Type | undefined;
function onnxModelType(): protobuf.Type {
  // keepCase keeps the specification's snake_case names, so the objects read like onnx.proto.
  modelType ??= protobuf.parse(onnxProtoSource, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** Little-endian IEEE 754 bytes, as TensorProto.raw_data requires on every host. */
function float32LittleEndian(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return bytes;
}

function floatTensor(name: string, dims: number[], values: Float32Array): OnnxTensor {
  return { name, data_type: ONNX_FLOAT, dims, raw_data: float32LittleEndian(values) };
}

function floatMatrixValue(name: string, columns: number): OnnxValueInfo {
  return {
    name,
    type: { tensor_type: { elem_type: ONNX_FLOAT, shape: { dim: [{ dim_param: ONNX_BATCH_DIM }, { dim_value: columns }] } } },
  };
}

/** The activation node that follows a Gemm, or undefined for identity. */
function activationNode(activation: DenseActivation, alpha: number | undefined, name: string, input: string, output: string): OnnxNode | undefined {
  const node = (opType: string, attribute: OnnxAttribute[] = []): OnnxNode => ({ name, op_type: opType, input: [input], output: [output], attribute });
  switch (activation) {
    case 'identity':
      return undefined;
    case 'relu':
      return node('Relu');
    case 'leakyRelu':
      return node('LeakyRelu', [{ name: 'alpha', type: ATTRIBUTE_FLOAT, f: alpha ?? DEFAULT_LEAKY_RELU_ALPHA }]);
    case 'sigmoid':
      return node('Sigmoid');
    case 'tanh':
      return node('Tanh');
    case 'softmax':
      return node('Softmax', [{ name: 'axis', type: ATTRIBUTE_INT, i: -1 }]);
  }
}

/** The ONNX model (as a plain object) for a validated chain of dense layers. */
export function buildOnnxModel(layers: readonly DenseLayerDescription[], options: OnnxExportOptions = {}): OnnxModel {
  validateDenseLayers(layers);
  const last = layers[layers.length - 1];
  const outputName = options.outputName ?? (last.activation === 'softmax' ? 'probabilities' : 'output');
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  let current = ONNX_INPUT_NAME;
  layers.forEach((layer, index) => {
    const prefix = `dense${index}`;
    const isLast = index === layers.length - 1;
    const weightName = `${prefix}.weight`;
    const biasName = `${prefix}.bias`;
    initializers.push(floatTensor(weightName, [layer.inputSize, layer.outputSize], layer.weights));
    initializers.push(floatTensor(biasName, [layer.outputSize], layer.bias));
    const hasActivation = layer.activation !== 'identity';
    const linearName = isLast && !hasActivation ? outputName : `${prefix}.linear`;
    nodes.push({ name: `${prefix}.gemm`, op_type: 'Gemm', input: [current, weightName, biasName], output: [linearName], attribute: [] });
    current = linearName;
    const activatedName = isLast ? outputName : `${prefix}.${layer.activation}`;
    const act = activationNode(layer.activation, layer.alpha, `${prefix}.${layer.activation}`, linearName, activatedName);
    if (act) {
      nodes.push(act);
      current = activatedName;
    }
  });
  return {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET_VERSION }],
    producer_name: 'horn',
    producer_version: options.producerVersion ?? '',
    ...(options.docString !== undefined ? { doc_string: options.docString } : {}),
    graph: {
      name: options.graphName ?? 'horn_dense',
      node: nodes,
      initializer: initializers,
      input: [floatMatrixValue(ONNX_INPUT_NAME, layers[0].inputSize)],
      output: [floatMatrixValue(outputName, last.outputSize)],
    },
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

/** Serialises an ONNX model object to the protobuf bytes of a `.onnx` file. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const type = onnxModelType();
  const problem = type.verify(model);
  // A failure here is a bug in buildOnnxModel, not in user input: layers are validated before.
  if (problem) throw new Error(`internal: ONNX model does not match onnx.proto: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Dense layers → `.onnx` file bytes. */
export function exportDenseLayersToOnnx(layers: readonly DenseLayerDescription[], options: OnnxExportOptions = {}): Uint8Array {
  return encodeOnnxModel(buildOnnxModel(layers, options));
}

/** Reads `.onnx` bytes back into the plain-object view (int64 as numbers); fields outside horn's subset are dropped. */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  const type = onnxModelType();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (err) {
    throw new OnnxDecodeError(bytes.length, err instanceof Error ? err.message : String(err));
  }
  const object = type.toObject(message, { longs: Number, bytes: Uint8Array, arrays: true, defaults: false, oneofs: false });
  return object as OnnxModel;
}

/** Float values of an initializer, whichever of raw_data / float_data it was stored in. */
export function tensorFloats(tensor: OnnxTensor): Float32Array {
  if (tensor.raw_data && tensor.raw_data.length > 0) {
    const view = new DataView(tensor.raw_data.buffer, tensor.raw_data.byteOffset, tensor.raw_data.byteLength);
    const out = new Float32Array(tensor.raw_data.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  return Float32Array.from(tensor.float_data ?? []);
}
