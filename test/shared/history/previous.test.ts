import {
  type LatestRun,
  previousReport,
  type ReportHistory,
  scopeWarning,
} from '../../../shared/history/previous';
import type { AuditReport } from '../../../shared/report/model';
import { reportChanges, sampleReport } from '../../fixtures/report-fixture';

const LAST_WEEK: AuditReport = { ...sampleReport(), runId: 'run-1', generatedAt: '2025-11-17T00:05:12.000Z' };
const THIS_WEEK: AuditReport = { ...sampleReport(), runId: 'run-2', generatedAt: '2025-11-24T00:05:07.000Z' };

/** A report store in memory: reports by key, a latest pointer naming one of them. */
function store(
  reports: readonly AuditReport[],
  latestRunId?: string,
  options: { noReportKey?: boolean } = {},
) {
  const keyOf = (r: Pick<AuditReport, 'runId' | 'generatedAt'>) =>
    `reports/${r.generatedAt.slice(0, 10)}/${r.runId}/`;
  const byKey = new Map(reports.map((r) => [`${keyOf(r)}report.json`, r]));
  const reads: string[] = [];
  const history: ReportHistory = {
    readLatest: async () => {
      const latest = reports.find((r) => r.runId === latestRunId);
      if (latest === undefined) return undefined;
      const run: LatestRun = {
        runId: latest.runId,
        ...(options.noReportKey ? {} : { reportKey: `${keyOf(latest)}report.json` }),
      };
      return run;
    },
    readReport: async (key) => {
      reads.push(key);
      const report = byKey.get(key);
      if (report === undefined) throw new Error(`cannot read ${key}: not a report`);
      return report;
    },
    runPrefix: keyOf,
  };
  return { history, reads };
}

describe('previousReport', () => {
  it('finds nothing on a first run', async () => {
    // Prepare
    const { history } = store([]);

    // Act
    const found = await previousReport(history, THIS_WEEK);

    // Assess
    expect(found).toEqual({ warnings: [] });
  });

  it('reads the report the latest pointer names', async () => {
    // Prepare
    const { history } = store([LAST_WEEK], 'run-1');

    // Act
    const found = await previousReport(history, THIS_WEEK);

    // Assess
    expect(found.previous?.runId).toBe('run-1');
    expect(found.warnings).toEqual([]);
  });

  it('compares a retried run with what its first attempt was compared with', async () => {
    // Prepare: the first attempt of run-2 stored its report (compared with run-1) and moved the pointer.
    const stored: AuditReport = {
      ...THIS_WEEK,
      changes: reportChanges({ previousRunId: 'run-1', previousGeneratedAt: LAST_WEEK.generatedAt }),
    };
    const { history } = store([LAST_WEEK, stored], 'run-2');

    // Act
    const found = await previousReport(history, THIS_WEEK);

    // Assess
    expect(found.previous?.runId).toBe('run-1');
  });

  it('takes a retried first run as a first run', async () => {
    // Prepare
    const { history } = store([THIS_WEEK], 'run-2');

    // Act
    const found = await previousReport(history, THIS_WEEK);

    // Assess
    expect(found).toEqual({ warnings: [] });
  });

  it('warns and compares as a first run when the previous report cannot be read', async () => {
    // Prepare
    const { history } = store([LAST_WEEK], 'run-1');
    const broken: ReportHistory = {
      ...history,
      readReport: async (key) => {
        throw Object.assign(new Error(`cannot read s3://b/${key}: not JSON`), { name: 'S3ReportReadError' });
      },
    };

    // Act
    const found = await previousReport(broken, THIS_WEEK);

    // Assess
    expect(found.previous).toBeUndefined();
    expect(found.warnings).toEqual([
      {
        code: 'previous-report-unreadable',
        message:
          'the previous report could not be read (S3ReportReadError: cannot read s3://b/reports/2025-11-17/run-1/report.json: not JSON): compared as a first run',
      },
    ]);
  });

  it('warns when the previous run stored no report.json', async () => {
    // Prepare
    const { history } = store([LAST_WEEK], 'run-1', { noReportKey: true });

    // Act
    const found = await previousReport(history, THIS_WEEK);

    // Assess
    expect(found.warnings.map((w) => w.code)).toEqual(['previous-report-unreadable']);
  });
});

describe('scopeWarning', () => {
  it('says nothing when the scope is the same, in any order', () => {
    // Prepare
    const reordered = {
      ...THIS_WEEK,
      scope: { ...THIS_WEEK.scope, vpcIds: [...THIS_WEEK.scope.vpcIds].reverse() },
    };

    // Act
    const warning = scopeWarning(LAST_WEEK, reordered);

    // Assess
    expect(warning).toBeUndefined();
  });

  it('names what differs when the scope changed', () => {
    // Prepare
    const previous = { ...LAST_WEEK, scope: { vpcIds: ['vpc-1'], sgIds: [], ports: ['22'] } };
    const current = { ...THIS_WEEK, scope: { vpcIds: [], sgIds: [], ports: ['22'] } };

    // Act
    const warning = scopeWarning(previous, current);

    // Assess
    expect(warning).toEqual({
      code: 'previous-scope-differs',
      message:
        'the previous report (run run-1) audited VPCs vpc-1 (now all): compared anyway, so findings outside the common scope show as new or resolved',
    });
  });
});
