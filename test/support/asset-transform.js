// Jest counterpart of the esbuild loaders in scripts/build.mjs: `.proto` and `.txt` files import
// as their text, `.wasm` files as their bytes, so tests run the same module graph as the bundles.
'use strict';
module.exports = {
  process(sourceText, sourcePath) {
    if (sourcePath.endsWith('.wasm')) {
      const b64 = require('fs').readFileSync(sourcePath).toString('base64');
      return { code: `module.exports = { __esModule: true, default: new Uint8Array(Buffer.from(${JSON.stringify(b64)}, 'base64')) };` };
    }
    return { code: `module.exports = { __esModule: true, default: ${JSON.stringify(sourceText)} };` };
  },
  getCacheKey(sourceText, sourcePath) {
    const crypto = require('crypto');
    const content = sourcePath.endsWith('.wasm') ? require('fs').readFileSync(sourcePath) : sourceText;
    return crypto.createHash('sha1').update(sourcePath).update(content).digest('hex');
  },
};
