/** Jest runs TypeScript through SWC (ts-jest does not support TypeScript 7); `tsc --noEmit` typechecks separately. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
        module: { type: 'commonjs' },
      },
    ],
  },
  testTimeout: 60000,
  // Each run's temporary folders in their own TMPDIR; the run fails if a test leaves one behind.
  globalSetup: '<rootDir>/test/support/temp-dir-setup.ts',
  globalTeardown: '<rootDir>/test/support/temp-dir-teardown.ts',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
