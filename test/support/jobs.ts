// Small MNIST job files for tests: one hidden ReLU layer and a softmax, on the given IDX files.

export interface IdxFiles {
  readonly images: string;
  readonly labels: string;
}

export function mnistJob(o: { name: string; train: IdxFiles; test?: IdxFiles; hidden: number; epochs: number; output: string; onYarn?: boolean }): string {
  const idx = (f: IdxFiles) => `{ images: ${f.images}, labels: ${f.labels} }`;
  return [
    `name: ${o.name}`,
    'input:',
    '  format: idx',
    '  normalize: byte',
    `  train: ${idx(o.train)}`,
    ...(o.test ? [`  test: ${idx(o.test)}`] : []),
    'model:',
    '  inputSize: 784',
    '  layers:',
    `    - { size: ${o.hidden}, activation: relu }`,
    '    - { size: 10, activation: softmax }',
    'training:',
    `  epochs: ${o.epochs}`,
    ...(o.onYarn === false ? [] : ['cluster:', '  am: { memoryMb: 512, vcores: 1 }', '  worker: { memoryMb: 1024, vcores: 1 }']),
    'output:',
    `  model: "${o.output}"`,
    '',
  ].join('\n');
}
