#!/usr/bin/env bash
# Kernel benchmark: compiles the WebAssembly kernels if they are missing or stale, bundles
# bench/kernels.ts and runs it. Arguments go to the benchmark (--batch-seconds S, --rounds R, --budget-seconds S, --json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=src/engine/kernels/assembly/kernels.ts
if [ ! -f build/kernels.wasm ] || [ ! -f build/kernels-relaxed.wasm ] || [ "$src" -nt build/kernels.wasm ]; then
  node scripts/build.mjs
fi
npx esbuild bench/kernels.ts --bundle --platform=node --target=node20 --loader:.wasm=binary --log-level=warning --outfile=build/bench-kernels.js
node build/bench-kernels.js "$@"
