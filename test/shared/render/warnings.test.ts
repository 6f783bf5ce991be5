import { renderConsoleSummary } from '../../../shared/render/console';
import { renderHtml } from '../../../shared/render/html';
import { distinctWarnings } from '../../../shared/render/warnings';
import type { AuditReport } from '../../../shared/report/model';
import { sampleReport } from '../../fixtures/report-fixture';

describe('distinctWarnings', () => {
  it('states each warning once, the malformed lines as samples of one malformed-records warning', () => {
    // Prepare: the fixture carries each malformed line as a warning of its own.
    const report = sampleReport();
    const lines = report.flowSources.flatMap((s) => s.malformedSamples);

    // Act
    const warnings = distinctWarnings(report);

    // Assess
    const codes = warnings.map((w) => w.code);
    expect(codes).toEqual(['malformed-records', 'skipdata', 'no-flow-log', 'window-incomplete']);
    expect(warnings[0]?.samples?.map((s) => `${s.file}:${s.line}`)).toEqual(
      lines.map((m) => `${m.file}:${m.line}`),
    );
  });

  it('folds the old malformed-record spelling and drops repeated warnings', () => {
    // Prepare
    const report: Pick<AuditReport, 'warnings'> = {
      warnings: [
        { code: 'malformed-records', message: '2 lines could not be parsed' },
        { code: 'malformed-record', message: 'bad port', file: 'a.log', line: 3 },
        { code: 'flow-source', message: 'Athena scanned 1 GB' },
        { code: 'malformed-record', message: 'bad port', file: 'a.log', line: 3 },
        { code: 'flow-source', message: 'Athena scanned 1 GB' },
      ],
    };

    // Act
    const warnings = distinctWarnings(report);

    // Assess
    expect(warnings).toEqual([
      {
        code: 'malformed-records',
        message: '2 lines could not be parsed',
        samples: [{ file: 'a.log', line: 3, reason: 'bad port' }],
      },
      { code: 'flow-source', message: 'Athena scanned 1 GB' },
    ]);
  });

  it('gives the console, report.html and the list the same count', () => {
    // Prepare
    const report = sampleReport();
    const count = distinctWarnings(report).length;

    // Act
    const consoleText = renderConsoleSummary(report);
    const page = renderHtml(report);

    // Assess
    expect(consoleText).toContain(`warnings: ${count} (see the report)`);
    expect(page).toContain(`<h2>Warnings (${count})</h2>`);
    const section = page.split('<section id="warnings"')[1]?.split('</section>')[0] ?? '';
    expect(section.match(/<li><span class="(tag|badge sev-medium)">/g)).toHaveLength(count);
  });
});
