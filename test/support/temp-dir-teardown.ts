/** Jest globalTeardown of both suites: fails the run when a test left something in its TMPDIR (temp-dir.ts). */
export { teardownTempDir as default } from './temp-dir';
