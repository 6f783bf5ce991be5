/**
 * Jest globalTeardown: removes the run's temporary directory (temp-dir-setup.cjs) and fails the
 * run when a test left anything in it — each test removes the folders it creates (afterAll/afterEach).
 */
const { readdirSync, rmSync } = require('node:fs');

/** Caches, not leftovers: npm's module compile cache (CDK bundles the functions with `npx esbuild`). */
const CACHES = new Set(['node-compile-cache']);

module.exports = function teardownTempDir() {
  const dir = process.env.SG_AUDIT_JEST_TMPDIR;
  if (!dir) return;
  const previous = process.env.SG_AUDIT_JEST_PREVIOUS_TMPDIR;
  if (previous) process.env.TMPDIR = previous;
  else delete process.env.TMPDIR;
  const left = readdirSync(dir).filter((name) => !CACHES.has(name));
  rmSync(dir, { recursive: true, force: true });
  if (left.length > 0) {
    throw new Error(
      `tests left ${left.length} entries in the temporary directory (removed now): ${left.sort().join(', ')}; ` +
        'remove what a test creates in its afterAll/afterEach',
    );
  }
};
