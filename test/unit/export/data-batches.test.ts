import { memoryFiles } from '../../../src/data';
import { FeatureCountMismatchError, openDataBatches, type DataOptions } from '../../../src/engine-export/data-batches';

// Records to predict on carry no labels (horn predict): the readers take them in every format.
async function all(options: DataOptions, inputSize: number, files: Record<string, Uint8Array>, classes?: number) {
  const rows: Array<{ features: number[]; label: number }> = [];
  for await (const b of openDataBatches(options, inputSize, memoryFiles(files, 3), classes)) {
    for (let r = 0; r < b.rows; r++) rows.push({ features: Array.from(b.features.subarray(r * inputSize, (r + 1) * inputSize)), label: b.labels[r]! });
  }
  return rows;
}
const text = (s: string) => new TextEncoder().encode(s);
const common = { batchSize: 2, normalize: 'none' as const };

test('CSV without a label column: every field is a feature', async () => {
  const rows = await all({ ...common, file: 'a.csv', format: 'csv', labelled: false, labelColumn: 0 }, 2, { 'a.csv': text('1,2\n3,4\n5,6\n') });
  expect(rows).toEqual([{ features: [1, 2], label: NaN }, { features: [3, 4], label: NaN }, { features: [5, 6], label: NaN }]);
});

test('LibSVM with and without labels on its lines', async () => {
  const rows = await all({ ...common, file: 'a.svm', format: 'libsvm', labelled: false }, 3, { 'a.svm': text('2:1 3:2\n7 1:5\n') });
  expect(rows).toEqual([{ features: [0, 1, 2], label: NaN }, { features: [5, 0, 0], label: NaN }]);
});

test('IDX images without a labels file; labelled IDX checks the feature count from the headers', async () => {
  const images = Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 30, 40);
  const labels = Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 2, 7, 9);
  const rows = await all({ ...common, file: 'i', format: 'idx', labelled: false }, 2, { i: images });
  expect(rows).toEqual([{ features: [10, 20], label: NaN }, { features: [30, 40], label: NaN }]);
  const labelled = await all({ ...common, file: 'i', format: 'idx', labelled: true, labelsFile: 'l' }, 2, { i: images, l: labels }, 10);
  expect(labelled.map((r) => r.label)).toEqual([7, 9]);
  await expect(all({ ...common, file: 'i', format: 'idx', labelled: true, labelsFile: 'l' }, 3, { i: images, l: labels }, 5)).rejects.toThrow(new FeatureCountMismatchError('i', 3, 2));
  await expect(all({ ...common, file: 'i', format: 'idx', labelled: false }, 3, { i: images })).rejects.toThrow('i: records have 2 features, the model takes 3');
});
