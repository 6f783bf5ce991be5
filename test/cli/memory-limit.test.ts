import {
  DUCKDB_BYTES_PER_THREAD,
  duckDbSettings,
  memoryBytes,
} from '../../adapters/local/duckdb/flow-source';
import { offlineMemory } from '../../cli/audit-command';
import { main } from '../../cli/main';

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

  it('gives DuckDB half of the limit, with the threads that half holds (at least one)', () => {
    // Prepare / Act
    const { total, duckdb } = offlineMemory('1GiB');
    // Assess
    expect(total).toBe(2 ** 30);
    expect(duckdb).toBe(2 ** 29);
    expect(duckDbSettings(duckdb).memoryLimit).toBe(`${2 ** 29}B`);
    expect(duckDbSettings(DUCKDB_BYTES_PER_THREAD - 1).threads).toBe(1);
    expect(duckDbSettings(DUCKDB_BYTES_PER_THREAD * 64).threads).toBeGreaterThanOrEqual(1);
    expect(duckDbSettings('8GiB', 3).threads).toBe(3);
  });

  it('fails the audit with exit 1 naming the option when the size is not one', async () => {
    // Prepare
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
    // Act
    const code = await main(
      ['audit', '--input', 'examples/sample-account', '--memory-limit', 'lots', '-q'],
      io,
    );
    // Assess
    expect(code).toBe(1);
    expect(err).toMatch(/--memory-limit: not a memory size: 'lots'/);
  });
});
