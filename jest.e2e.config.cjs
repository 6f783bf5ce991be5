/** End-to-end tests against moto_server (a real AWS API emulator on loopback): `npm run test:e2e`. */
const base = require('./jest.config.cjs');

module.exports = {
  ...base,
  testMatch: ['**/test/e2e/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 180000,
  maxWorkers: 1,
};
