/**
 * Jest globalSetup: the run gets its own temporary directory (TMPDIR, inherited by the workers
 * and whatever they start), so what a test leaves behind is seen by temp-dir-teardown.cjs instead
 * of piling up in the system temp directory.
 */
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

module.exports = function setupTempDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-audit-jest-'));
  process.env.SG_AUDIT_JEST_TMPDIR = dir;
  process.env.SG_AUDIT_JEST_PREVIOUS_TMPDIR = process.env.TMPDIR ?? '';
  process.env.TMPDIR = dir;
};
