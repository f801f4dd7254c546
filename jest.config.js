'use strict';
const transform = {
  '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  '^.+\\.(proto|wasm|txt)$': '<rootDir>/test/support/asset-transform.js',
};
const common = { transform, moduleFileExtensions: ['ts', 'js', 'json', 'proto', 'wasm', 'txt'], testEnvironment: 'node' };
module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
  ],
};
