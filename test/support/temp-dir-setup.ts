/** Jest globalSetup of the unit suite: the run's own TMPDIR (temp-dir.ts). */
export { setupTempDir as default } from './temp-dir';
