import { expandInput, expandPattern, globToRegExp, type FileLister } from '../../../src/data/inputs';

/** A file tree in memory: paths ending in "/" are directories. */
function tree(paths: Record<string, number>): FileLister {
  const entries = new Map<string, { type: 'FILE' | 'DIRECTORY'; length: number }>();
  for (const [p, n] of Object.entries(paths)) {
    const parts = p.replace(/\/$/, '').split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) entries.set(`/${parts.slice(0, i).join('/')}`, { type: 'DIRECTORY', length: 0 });
    entries.set(`/${parts.join('/')}`, p.endsWith('/') ? { type: 'DIRECTORY', length: 0 } : { type: 'FILE', length: n });
  }
  entries.set('/', { type: 'DIRECTORY', length: 0 });
  return {
    async status(p) {
      return entries.get(p === '/' ? '/' : p.replace(/\/$/, ''));
    },
    async list(dir) {
      const prefix = dir === '/' ? '/' : `${dir}/`;
      return [...entries].filter(([p]) => p.startsWith(prefix) && p !== dir && !p.slice(prefix.length).includes('/')).map(([path, e]) => ({ path, ...e }));
    },
  };
}

describe('input files as Hadoop data is laid out', () => {
  const fs = tree({ '/d/part-00000': 10, '/d/part-00001': 20, '/d/_SUCCESS': 0, '/d/.part-00000.crc': 1, '/e/a.csv': 5, '/e/b.txt': 6, '/e/sub/c.csv': 7, '/f/': 0 });

  test('a directory gives its data files in order, skipping _ and . files', async () => {
    expect(await expandPattern('/d', fs)).toEqual([{ path: '/d/part-00000', length: 10 }, { path: '/d/part-00001', length: 20 }]);
  });

  test('globs in any component, Hadoop syntax; a list of patterns names each file once', async () => {
    expect((await expandPattern('/e/*.csv', fs)).map((f) => f.path)).toEqual(['/e/a.csv']);
    expect((await expandPattern('/{d,e}/{part-0000[1],b.txt}', fs)).map((f) => f.path)).toEqual(['/d/part-00001', '/e/b.txt']);
    expect((await expandPattern('/*/sub/*', fs)).map((f) => f.path)).toEqual(['/e/sub/c.csv']);
    const all = await expandInput({ format: 'csv', paths: ['/d', '/d/part-00001', '/e/a.csv'], csv: { delimiter: ',', labelColumn: 0, header: false } }, fs);
    expect(all.map((f) => f.path)).toEqual(['/d/part-00000', '/d/part-00001', '/e/a.csv']);
    expect(globToRegExp('part-[!1]?').test('part-02')).toBe(true);
    expect(globToRegExp('part-[!1]?').test('part-12')).toBe(false);
  });

  test('nothing to read is an input error naming the pattern; subdirectories are not silently skipped', async () => {
    await expect(expandPattern('/nope', fs)).rejects.toThrow('input /nope: does not exist');
    await expect(expandPattern('/d/*.csv', fs)).rejects.toThrow('input /d/*.csv: no files match');
    await expect(expandPattern('/f', fs)).rejects.toThrow('input /f: the directory holds no data files');
    await expect(expandPattern('/e', fs)).rejects.toThrow(/the directory \/e holds the directory \/e\/sub/);
    await expect(expandInput({ format: 'idx', images: '/d', labels: '/d/part-00000' }, fs)).rejects.toThrow(/is a directory; IDX data is a pair of files/);
  });
});
