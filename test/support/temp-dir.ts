/**
 * Each jest run gets its own temporary directory (TMPDIR, inherited by the workers and whatever
 * they start): what a test leaves behind is found when the run ends, and the run fails naming it,
 * instead of piling up in the system temp directory. Each test removes the folders it creates
 * (afterAll/afterEach); the directory itself is removed either way.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const RUN_DIR = 'SG_AUDIT_JEST_TMPDIR';
const PREVIOUS = 'SG_AUDIT_JEST_PREVIOUS_TMPDIR';

/** Caches, not leftovers: npm's module compile cache (CDK bundles the functions with `npx esbuild`). */
const CACHES: ReadonlySet<string> = new Set(['node-compile-cache']);

/** globalSetup: a fresh TMPDIR for the run. */
export function setupTempDir(): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-audit-jest-'));
  process.env[RUN_DIR] = dir;
  process.env[PREVIOUS] = process.env.TMPDIR ?? '';
  process.env.TMPDIR = dir;
}

/**
 * globalTeardown: removes the run's TMPDIR.
 *
 * @throws Error naming what the tests left in it.
 */
export function teardownTempDir(): void {
  const dir = process.env[RUN_DIR];
  if (dir === undefined) return;
  const previous = process.env[PREVIOUS];
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
}
