import {
  DUCKDB_BYTES_PER_THREAD,
  duckDbSettings,
  memoryBytes,
} from '../../adapters/local/duckdb/flow-source';
import { offlineMemory } from '../../cli/audit-command';
import { main } from '../../cli/main';

/** `sg-audit audit` of the sample with these options: its exit code and stderr. */
async function audit(options: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const io = {
    version: 't',
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
});
