/**
 * End-to-end tests: `npm run test:e2e`. They need programs npm does not install — Chromium,
 * moto_server (a real AWS API emulator, run on loopback) and cfn-lint — and say so first when one
 * is missing (test/support/e2e-prerequisites.ts).
 */
const base = require('./jest.config.cjs');

module.exports = {
  ...base,
  testMatch: ['**/test/e2e/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 180000,
  maxWorkers: 1,
  globalSetup: '<rootDir>/test/support/e2e-prerequisites.ts',
};
