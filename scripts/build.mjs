// Builds what horn ships: the `horn` command (dist/horn.js), the runtime bundle that the
// ApplicationMaster and containers run on NodeManagers (dist/horn-runtime.js, no node_modules
// needed), and the WebAssembly kernels they embed.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'build'), { recursive: true });

// WebAssembly kernels: one plain-SIMD module and one that uses relaxed-SIMD fused multiply-add;
// the loader picks the best one the runtime validates. The source branches on asc's built-in
// ASC_FEATURE_RELAXED_SIMD, so enabling the feature is what switches the multiply-adds to FMA.
// Shrink level 1 stops binaryen from inlining functions that contain loops: inlined into gemm,
// a register tile's loop ran out of vector registers in V8 and spilled (3× slower).
const kernelSource = join(root, 'src/engine/kernels/assembly/kernels.ts');
if (existsSync(kernelSource)) {
  const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');
  const common = [kernelSource, '--runtime', 'stub', '--optimizeLevel', '3', '--shrinkLevel', '1', '--noAssert', '--importMemory', '--enable', 'simd'];
  execFileSync(process.execPath, [asc, ...common, '-o', join(root, 'build/kernels.wasm')], { stdio: 'inherit' });
  execFileSync(process.execPath, [asc, ...common, '--enable', 'relaxed-simd', '-o', join(root, 'build/kernels-relaxed.wasm')], { stdio: 'inherit' });
}

// The training page's browser script (with uPlot) and styles, minified; the runtime bundle embeds
// them as text (build/web/*.txt) so the ApplicationMaster serves them and inlines them into
// report.html without any file beside it.
const pageSource = join(root, 'src/appmaster/web/browser');
if (existsSync(pageSource)) {
  mkdirSync(join(root, 'build/web'), { recursive: true });
  const web = { bundle: true, minify: true, write: false, logLevel: 'warning', legalComments: 'none' };
  const script = await build({ ...web, entryPoints: [join(pageSource, 'page.ts')], platform: 'browser', format: 'iife', target: ['chrome100', 'firefox100', 'safari15'] });
  const style = await build({ ...web, entryPoints: [join(pageSource, 'page.css')] });
  writeFileSync(join(root, 'build/web/page.js.txt'), script.outputFiles[0].text);
  writeFileSync(join(root, 'build/web/page.css.txt'), style.outputFiles[0].text);
}

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  logLevel: 'warning',
  // Error classes are named by their class (HornError uses new.target.name): keep the names.
  keepNames: true,
  loader: { '.proto': 'text', '.wasm': 'binary', '.txt': 'text' },
  // pino's optional transports are resolved at run time; horn logs to stdout/stderr only.
  external: ['pino-pretty'],
};
const entries = [
  { in: 'src/client/main.ts', out: 'dist/horn.js' },
  { in: 'src/runtime.ts', out: 'dist/horn-runtime.js' },
];
for (const e of entries) {
  if (!existsSync(join(root, e.in))) continue;
  await build({ ...shared, entryPoints: [join(root, e.in)], outfile: join(root, e.out) });
}
console.log('build: ok');
