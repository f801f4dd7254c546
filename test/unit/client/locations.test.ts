import { hdfsPathOf, LocationError, parseLocation, sameLocation, siblingLocation } from '../../../src/client/locations';

// The path rule of eval/export/predict (issue 12, Build 1): HDFS as in job files, local with ./ or file:.
describe('parseLocation', () => {
  const cwd = '/home/me/work';
  test.each([
    ['/user/me/models/m', { fs: 'hdfs', path: '/user/me/models/m' }],
    ['models/m', { fs: 'hdfs', path: 'models/m' }],
    ['hdfs://master.test:8020/user/me/m', { fs: 'hdfs', path: '/user/me/m', authority: 'master.test:8020' }],
    ['hdfs:///user/me/m', { fs: 'hdfs', path: '/user/me/m' }],
    ['hdfs:/user/me/m', { fs: 'hdfs', path: '/user/me/m' }],
    ['./m.horn', { fs: 'local', path: '/home/me/work/m.horn' }],
    ['../data/t.csv', { fs: 'local', path: '/home/me/data/t.csv' }],
    ['file:m.horn', { fs: 'local', path: '/home/me/work/m.horn' }],
    ['file:/tmp/m.horn', { fs: 'local', path: '/tmp/m.horn' }],
    ['file:///tmp/a%20b.horn', { fs: 'local', path: '/tmp/a b.horn' }],
    ['file://localhost/tmp/m.horn', { fs: 'local', path: '/tmp/m.horn' }],
  ])('%s', (arg, expected) => {
    expect(parseLocation(arg, cwd)).toEqual({ ...expected, name: arg });
  });

  test('relative HDFS paths are under /user/<you>', () => {
    expect(hdfsPathOf(parseLocation('models/../m', cwd) as never, 'me')).toBe('/user/me/m');
    expect(hdfsPathOf(parseLocation('/abs', cwd) as never, 'me')).toBe('/abs');
  });

  test('what horn cannot read is refused, naming the argument', () => {
    expect(() => parseLocation('s3a://bucket/m')).toThrow(new LocationError('s3a://bucket/m', 'horn reads HDFS (hdfs://…, /path, relative/path) and local files (./path, file:path), not s3a: URIs'));
    expect(() => parseLocation('file://other/x')).toThrow(/a file: URI names the local host only, not other/);
    expect(() => parseLocation('')).toThrow(/an empty path/);
  });

  test('siblings keep the file system and the way the name was written', () => {
    expect(siblingLocation(parseLocation('./a/m.horn', cwd), 'm.onnx')).toEqual({ fs: 'local', path: '/home/me/work/a/m.onnx', name: './a/m.onnx' });
    expect(siblingLocation(parseLocation('m', cwd), 'm.onnx')).toEqual({ fs: 'hdfs', path: 'm.onnx', name: 'm.onnx' });
    expect(siblingLocation(parseLocation('hdfs://nn:8020/u/x/m', cwd), 'l')).toEqual({ fs: 'hdfs', path: '/u/x/l', authority: 'nn:8020', name: 'hdfs://nn:8020/u/x/l' });
    expect(sameLocation(parseLocation('m'), parseLocation('/user/me/m'), 'me')).toBe(true);
    expect(sameLocation(parseLocation('./m'), parseLocation('m'), 'me')).toBe(false);
  });
});
