import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DUCKDB_BYTES_PER_THREAD,
  duckDbSettings,
  memoryBytes,
} from '../../adapters/local/duckdb/flow-source';
import { memoryLimitWarning, offlineMemory } from '../../cli/audit-command';
import { main } from '../../cli/main';

/** `sg-audit audit` of the sample with these options: its exit code and stderr. */
async function audit(
  options: string[],
  peakMemoryBytes?: () => number,
): Promise<{ code: number; err: string }> {
  let err = '';
  const io = {
    version: 't',
    ...(peakMemoryBytes !== undefined ? { peakMemoryBytes } : {}),
    stdout: { write: () => true },
    stderr: {
      write: (s: string) => {
        err += s;
        return true;
      },
    },
  };
  const code = await main(['audit', '--input', 'examples/sample-account', ...options, '-q'], io);
  return { code, err };
}

describe('--memory-limit', () => {
  it('reads sizes in bytes, decimal and binary units', () => {
    // Prepare / Act / Assess
    expect(memoryBytes('1GiB')).toBe(2 ** 30);
    expect(memoryBytes('512MB')).toBe(512e6);
    expect(memoryBytes('384 MiB')).toBe(384 * 2 ** 20);
    expect(memoryBytes('1.5GB')).toBe(1.5e9);
    expect(memoryBytes(4096)).toBe(4096);
    expect(() => memoryBytes('lots')).toThrow(RangeError);
    expect(() => memoryBytes('0MB')).toThrow(RangeError);
  });

  it('gives DuckDB a fixed working memory per thread, whatever the limit, and half of a limit too small for it', () => {
    // Prepare / Act
    const standard = offlineMemory('1GiB');
    const large = offlineMemory('64GiB');
    const twoThreads = offlineMemory('1GiB', 2);
    const small = offlineMemory('256MiB', 2);
    // Assess: the same working memory under 1 GiB and 64 GiB, so memory does not follow the input's size
    expect(standard).toEqual({
      total: 2 ** 30,
      duckdb: DUCKDB_BYTES_PER_THREAD,
      maxDuckdb: 2 ** 29,
      threads: 1,
    });
    expect(large.duckdb).toBe(DUCKDB_BYTES_PER_THREAD);
    expect(twoThreads).toEqual({
      total: 2 ** 30,
      duckdb: 2 * DUCKDB_BYTES_PER_THREAD,
      maxDuckdb: 2 ** 29,
      threads: 2,
    });
    expect(small).toEqual({ total: 2 ** 28, duckdb: 2 ** 27, maxDuckdb: 2 ** 27, threads: 1 });
    expect(duckDbSettings(standard.duckdb, standard.threads)).toEqual({
      memoryLimit: `${DUCKDB_BYTES_PER_THREAD}B`,
      threads: 1,
    });
    expect(duckDbSettings(DUCKDB_BYTES_PER_THREAD - 1).threads).toBe(1);
    expect(duckDbSettings(DUCKDB_BYTES_PER_THREAD * 64).threads).toBeGreaterThanOrEqual(1);
    expect(duckDbSettings('8GiB', 3).threads).toBe(3);
  });

  it('refuses a thread count that is not a positive integer, naming the option', () => {
    // Prepare / Act / Assess
    expect(() => offlineMemory('1GiB', 1.5)).toThrow(/--threads must be a positive integer, got 1.5/);
    expect(() => offlineMemory('1GiB', 0)).toThrow(/--threads/);
    expect(() => offlineMemory('lots')).toThrow(/--memory-limit: not a memory size/);
  });

  it('fails the audit with exit 1 naming the option when the size is not one', async () => {
    // Prepare / Act
    const { code, err } = await audit(['--memory-limit', 'lots']);
    // Assess
    expect(code).toBe(1);
    expect(err).toMatch(/--memory-limit: not a memory size: 'lots'/);
  });

  it('fails the audit with exit 1 naming --threads when it is not a whole number', async () => {
    // Prepare / Act
    const { code, err } = await audit(['--threads', '1.5']);
    // Assess
    expect(code).toBe(1);
    expect(err).toMatch(/--threads must be a positive integer, got 1.5/);
  });

  it('words the warning of a run above the limit with both figures, and has none at or below it', () => {
    // Prepare / Act
    const above = memoryLimitWarning(1.5 * 2 ** 30, 2 ** 30);
    // Assess
    expect(above).toMatch(
      /^warning: this audit's memory peaked at 1536 MiB, above --memory-limit \(1024 MiB\)/,
    );
    expect(above).toContain('one entry per distinct peer and service port');
    expect(above).toContain('README, Memory');
    expect(memoryLimitWarning(2 ** 30, 2 ** 30)).toBeUndefined();
    expect(memoryLimitWarning(2 ** 29, 2 ** 30)).toBeUndefined();
  });

  it("warns after an offline audit whose process peaked above the limit, from the io's peak", async () => {
    // Prepare
    const out = mkdtempSync(path.join(tmpdir(), 'sg-audit-peak-'));
    try {
      // Act
      const above = await audit(
        ['--out', path.join(out, 'a'), '--memory-limit', '512MiB'],
        () => 513 * 2 ** 20,
      );
      const within = await audit(
        ['--out', path.join(out, 'b'), '--memory-limit', '512MiB'],
        () => 512 * 2 ** 20,
      );
      const unmeasured = await audit(['--out', path.join(out, 'c'), '--memory-limit', '512MiB']);
      // Assess
      expect(above.code).toBe(0);
      expect(above.err).toContain('peaked at 513 MiB, above --memory-limit (512 MiB)');
      expect(within.code).toBe(0);
      expect(within.err).not.toContain('--memory-limit');
      expect(unmeasured.err).not.toContain('--memory-limit');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
