'use strict';
// Every temporary directory a test run makes (mkdtemp under os.tmpdir(), in jest and in the
// processes it starts) goes under one directory of the run, removed when the run ends: tests need
// not clean up after themselves one by one, and a failed run leaves nothing in /tmp either.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const ROOT_ENV = 'HORN_TEST_TEMP_ROOT';

module.exports.setup = () => {
  const root = mkdtempSync(join(tmpdir(), 'horn-tests-'));
  process.env[ROOT_ENV] = root;
  process.env.TMPDIR = root;
};

module.exports.teardown = () => {
  const root = process.env[ROOT_ENV];
  if (root) rmSync(root, { recursive: true, force: true });
};
