// Jest runs each test file in its own VM realm, so the sandbox's Float32Array is not the one
// onnxruntime-node's native binding creates output tensors with, and onnxruntime-common's
// `instanceof` checks reject them. Tests that run ONNX models opt into this environment
// (docblock `@jest-environment`), which shares the host realm's binary-data constructors.
'use strict';
const { TestEnvironment } = require('jest-environment-node');

const SHARED_CONSTRUCTORS = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED_CONSTRUCTORS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxRuntimeEnvironment;
