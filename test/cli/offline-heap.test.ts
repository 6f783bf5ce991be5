import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collectGarbage } from '../../cli/js-heap';
import { main } from '../../cli/main';

jest.mock('../../cli/js-heap', () => ({
  ...jest.requireActual('../../cli/js-heap'),
  collectGarbage: jest.fn(),
}));

describe('offline audit: the JavaScript heap', () => {
  it("is given back once, as DuckDB's aggregation starts", async () => {
    // Prepare: the collection marked in the progress lines.
    const out = mkdtempSync(path.join(tmpdir(), 'sg-audit-heap-'));
    const lines: string[] = [];
    const marked = jest.mocked(collectGarbage).mockImplementation(() => {
      lines.push('<collectGarbage>');
    });
    const io = {
      version: 't',
      stdout: { write: () => true },
      stderr: {
        write: (text: string) => {
          lines.push(...text.split('\n').filter((line) => line !== ''));
          return true;
        },
      },
    };
    try {
      // Act
      const code = await main(['audit', '--input', 'examples/sample-account', '--out', out], io);
      // Assess
      expect(code).not.toBe(1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    expect(marked).toHaveBeenCalledTimes(1);
    const at = lines.indexOf('<collectGarbage>');
    expect(lines[at - 1]).toMatch(/flow logs: aggregating/);
    expect(lines.slice(at + 1).some((line) => /flow aggregates: \d+ rows from \d+ records/.test(line))).toBe(
      true,
    );
  });
});
