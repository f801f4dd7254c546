#!/usr/bin/env node
'use strict';
// The `horn` command runs from the bundle that `npm run build` writes.
const path = require('path');
const bundle = path.join(__dirname, '..', 'dist', 'horn.js');
if (!require('fs').existsSync(bundle)) {
  process.stderr.write(`horn: ${bundle} is missing; run \`npm run build\` in ${path.dirname(__dirname)} first\n`);
  process.exit(4);
}
require(bundle);
