import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../cli/main';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'sg-audit.mjs');

/** bin/sg-audit.mjs as a user runs it: its exit status, stdout and stderr. */
function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    timeout: 120_000,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** main() in this process: the exit code the command itself returns. */
async function inProcess(args: string[]): Promise<number> {
  const sink = { write: () => true };
  return main(args, { version: 't', stdout: sink, stderr: sink });
}

let out = '';
beforeAll(() => {
  out = mkdtempSync(path.join(tmpdir(), 'sg-audit-launcher-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bin/sg-audit.mjs', () => {
  it('runs the command in a watched child and passes its output and exit code on', async () => {
    // Prepare
    const missing = [
      'audit',
      '--input',
      path.join(out, 'no-such-export'),
      '--out',
      path.join(out, 'r'),
      '-q',
    ];
    // Act
    const version = run(['--version']);
    const failed = run(missing);
    // Assess
    expect(version).toMatchObject({ status: 0, signal: null });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(failed.status).toBe(await inProcess(missing));
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain('no-such-export');
  });

  it("says what to do when V8 runs out of heap, instead of leaving only V8's dump", () => {
    // Act: the sample's audit under a heap ceiling far below what it needs.
    const starved = run(
      ['audit', '--input', 'examples/sample-account', '--out', path.join(out, 'starved'), '-q'],
      {
        NODE_OPTIONS: '--max-old-space-size=32',
      },
    );
    // Assess
    expect(starved.status).toBe(134);
    expect(starved.stderr).toContain('heap out of memory');
    expect(starved.stderr).toContain('sg-audit: Node.js aborted the run (SIGABRT)');
    expect(starved.stderr).toMatch(/heap ceiling, \d+ MiB here/);
    expect(starved.stderr).toContain('NODE_OPTIONS=--max-old-space-size=8192');
  });

  it('says when the audit went above --memory-limit, and still writes the report', () => {
    // Act: the sample's audit, whose process alone takes more than 200 MiB (DuckDB gets 100).
    const over = run([
      'audit',
      '--input',
      'examples/sample-account',
      '--out',
      path.join(out, 'over'),
      '--memory-limit',
      '200MiB',
      '-q',
    ]);
    const within = run([
      'audit',
      '--input',
      'examples/sample-account',
      '--out',
      path.join(out, 'within'),
      '-q',
    ]);
    // Assess
    expect(over.status).toBe(0);
    expect(over.stderr).toMatch(/memory peaked at \d+ MiB, above --memory-limit \(200 MiB\)/);
    expect(existsSync(path.join(out, 'over', 'report.json'))).toBe(true);
    expect(within.status).toBe(0);
    expect(within.stderr).not.toContain('--memory-limit');
  });
});
