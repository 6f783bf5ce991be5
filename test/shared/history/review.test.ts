import { reviewReport } from '../../../shared/history/review';
import type { Finding } from '../../../shared/model/analysis';
import type { AuditReport } from '../../../shared/report/model';
import { sampleReport } from '../../fixtures/report-fixture';

const WEEK_1 = '2025-11-03T00:05:00.000Z';
const WEEK_2 = '2025-11-10T00:05:00.000Z';
const WEEK_3 = '2025-11-17T00:05:00.000Z';
const NOW = new Date('2025-11-17T00:06:00.000Z');

/** The sample report as a run at `generatedAt` would write it, with only the findings kept. */
function runAt(generatedAt: string, keep: (f: Finding) => boolean = () => true): AuditReport {
  const report = sampleReport();
  return { ...report, runId: `run-${generatedAt}`, generatedAt, findings: report.findings.filter(keep) };
}

function firstReported(report: AuditReport): Map<string, string | undefined> {
  return new Map(report.findings.map((f) => [f.id, f.firstReportedAt]));
}

describe('reviewReport', () => {
  it('dates every finding of a first compared run at that run', () => {
    // Prepare
    const fresh = runAt(WEEK_1);

    // Act
    const { report } = reviewReport(fresh, { compare: true, now: NOW });

    // Assess
    expect(report.findings.length).toBeGreaterThan(0);
    expect(new Set(firstReported(report).values())).toEqual(new Set([WEEK_1]));
  });

  it('carries the first-reported time forward while a finding stays, week after week', () => {
    // Prepare
    const week1 = reviewReport(runAt(WEEK_1), { compare: true, now: NOW }).report;
    const week2 = reviewReport(runAt(WEEK_2), { previous: week1, compare: true, now: NOW }).report;

    // Act
    const week3 = reviewReport(runAt(WEEK_3), { previous: week2, compare: true, now: NOW }).report;

    // Assess
    expect(week3.findings.length).toBe(week1.findings.length);
    expect(new Set(firstReported(week3).values())).toEqual(new Set([WEEK_1]));
  });

  it('dates a finding new this run at this run and one that went away and came back afresh', () => {
    // Prepare
    const [gone, ...rest] = sampleReport().findings;
    if (gone === undefined || rest.length === 0) throw new Error('fixture needs two findings');
    const week1 = reviewReport(runAt(WEEK_1), { compare: true, now: NOW }).report;
    const week2 = reviewReport(
      runAt(WEEK_2, (f) => f.id !== gone.id),
      { previous: week1, compare: true, now: NOW },
    ).report;

    // Act
    const week3 = reviewReport(runAt(WEEK_3), { previous: week2, compare: true, now: NOW }).report;

    // Assess
    const dates = firstReported(week3);
    expect(dates.get(gone.id)).toBe(WEEK_3);
    for (const f of rest) expect(dates.get(f.id)).toBe(WEEK_1);
    expect(week3.changes?.newFindingIds).toEqual([gone.id]);
  });

  it("takes a previous report's generatedAt for its findings when that report predates the field", () => {
    // Prepare
    const older = runAt(WEEK_2);
    expect(older.findings.every((f) => f.firstReportedAt === undefined)).toBe(true);

    // Act
    const { report } = reviewReport(runAt(WEEK_3), { previous: older, compare: true, now: NOW });

    // Assess
    expect(new Set(firstReported(report).values())).toEqual(new Set([WEEK_2]));
  });

  it('keeps the first-reported time of a resolved finding in the changes section', () => {
    // Prepare
    const [gone] = sampleReport().findings;
    if (gone === undefined) throw new Error('fixture needs a finding');
    const week1 = reviewReport(runAt(WEEK_1), { compare: true, now: NOW }).report;
    const week2 = reviewReport(runAt(WEEK_2), { previous: week1, compare: true, now: NOW }).report;

    // Act
    const week3 = reviewReport(
      runAt(WEEK_3, (f) => f.id !== gone.id),
      { previous: week2, compare: true, now: NOW },
    ).report;

    // Assess
    expect(week3.changes?.resolvedFindings.map((f) => [f.id, f.firstReportedAt])).toEqual([
      [gone.id, WEEK_1],
    ]);
  });

  it('leaves findings undated when the run is not compared', () => {
    // Prepare
    const fresh = runAt(WEEK_1);

    // Act
    const { report, diff } = reviewReport(fresh, { compare: false, now: NOW });

    // Assess
    expect(diff).toBeUndefined();
    expect(report.findings.every((f) => f.firstReportedAt === undefined)).toBe(true);
  });
});
