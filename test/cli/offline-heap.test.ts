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
  it("is given back as DuckDB's aggregation starts and before each per-peer analysis", async () => {
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
    // Once as the aggregation starts, then before the recommendations, the traffic review and the NACLs.
    const marks = lines.flatMap((line, i) => (line === '<collectGarbage>' ? [i] : []));
    expect(marked).toHaveBeenCalledTimes(4);
    expect(lines[(marks[0] ?? 0) - 1]).toMatch(/flow logs: aggregating/);
    const folded = lines.findIndex((line) => /connections: [\d,]+ in [\d,]+ groups/.test(line));
    const found = lines.findIndex((line) => /findings: \d+/.test(line));
    expect(marks.slice(1).every((i) => i > folded && i < found)).toBe(true);
    expect(folded).toBeGreaterThan(marks[0] ?? Number.POSITIVE_INFINITY);
  });
});
