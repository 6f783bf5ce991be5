import { OrgRollup } from '../../../shared/org/rollup';
import { orgReportSchema } from '../../../shared/org/schema';
import { stackTables, withTargetColumns } from '../../../shared/org/tables';
import { FINDINGS_COLUMNS, findingsTable } from '../../../shared/render/csv';
import { changedReport } from '../../fixtures/changes-fixture';
import { sampleReport } from '../../fixtures/report-fixture';
import { DEV, orgRun, PROD, reportOf, TARGETS, TOOL } from './org-fixtures';

describe('withTargetColumns', () => {
  it('prepends account_id and region to a table without them', () => {
    // Prepare: a target table of an older findings.csv, without the columns.
    const full = findingsTable(sampleReport());
    const kept = full.columns
      .map((_, i) => i)
      .filter((i) => !['account_id', 'region'].includes(full.columns[i] ?? ''));
    const table = {
      ...full,
      columns: kept.map((i) => full.columns[i] as string),
      rows: full.rows.map((row) => kept.map((i) => row[i])),
    };

    // Act
    const withTarget = withTargetColumns(table, TARGETS.prodEu);

    // Assess
    expect(withTarget.columns).toEqual(['account_id', 'region', ...table.columns]);
    expect(withTarget.rows).toHaveLength(table.rows.length);
    for (const [i, row] of withTarget.rows.entries())
      expect(row).toEqual([PROD, 'eu-west-1', ...(table.rows[i] ?? [])]);
  });

  it('moves the columns a findings.csv already carries to the front', () => {
    // Prepare
    const table = findingsTable(sampleReport());

    // Act
    const withTarget = withTargetColumns(table, TARGETS.prodEu);

    // Assess
    expect(withTarget.columns).toEqual([
      'account_id',
      'region',
      ...FINDINGS_COLUMNS.filter((c) => c !== 'account_id' && c !== 'region'),
    ]);
    for (const [i, row] of withTarget.rows.entries()) {
      expect(row.slice(0, 2)).toEqual([PROD, 'eu-west-1']);
      expect(row.slice(2)).toEqual(
        table.rows[i]?.filter((_, k) => table.columns[k] !== 'account_id' && table.columns[k] !== 'region'),
      );
    }
  });

  it('sets the columns a table already has to the target it was audited as', () => {
    // Prepare: a target table that already carries the columns (e.g. a newer findings.csv).
    const table = {
      fileName: 'findings.csv' as const,
      sheetName: 'Findings' as const,
      columns: ['account_id', 'region', 'sg_id'],
      rows: [
        ['', undefined, 'sg-1'],
        ['999999999999', 'ap-south-1', 'sg-2'],
      ],
    };

    // Act
    const withTarget = withTargetColumns(table, TARGETS.devEu);

    // Assess
    expect(withTarget.columns).toEqual(['account_id', 'region', 'sg_id']);
    expect(withTarget.rows).toEqual([
      [DEV, 'eu-west-1', 'sg-1'],
      [DEV, 'eu-west-1', 'sg-2'],
    ]);
  });
});

describe('stackTables', () => {
  it('stacks rows under the union of the columns, in first-seen order', () => {
    const a = {
      fileName: 'findings.csv' as const,
      sheetName: 'Findings' as const,
      columns: ['x', 'y'],
      rows: [[1, 2]],
    };
    const b = { ...a, columns: ['y', 'z'], rows: [[3, 4]] };
    expect(stackTables([a, b], a)).toMatchObject({
      columns: ['x', 'y', 'z'],
      rows: [
        [1, 2, undefined],
        [undefined, 3, 4],
      ],
    });
    expect(stackTables([], a)).toMatchObject({ columns: ['x', 'y'], rows: [] });
  });
});

describe('OrgRollup', () => {
  it('summarises each target, counts gaps and totals, sorted by account and region', () => {
    // Act
    const { report } = orgRun();

    // Assess
    expect(report.targets.map((t) => [t.accountId, t.region, t.status])).toEqual([
      [PROD, 'eu-west-1', 'audited'],
      [PROD, 'us-east-1', 'audited'],
      [DEV, 'eu-west-1', 'audited'],
      [DEV, 'us-east-1', 'gap'],
    ]);
    expect(report.totals).toMatchObject({ targets: 4, audited: 3, gaps: 1, accounts: 2, regions: 2 });
    const sample = sampleReport().summary;
    expect(report.totals.findingsBySeverity.critical).toBe(3 * sample.findingsBySeverity.critical);
    expect(report.totals.networkInterfaces).toBe(3 * sample.networkInterfaces);
    const gap = report.targets.find((t) => t.status === 'gap');
    expect(gap).toMatchObject({
      accountId: DEV,
      region: 'us-east-1',
      accountName: 'dev',
      gap: { kind: 'role-unavailable', step: 'Discover', error: { name: 'AccessDenied' } },
    });
    const prod = report.targets.find((t) => t.accountId === PROD && t.region === 'eu-west-1');
    expect(prod).toMatchObject({ status: 'audited', audit: { reportPath: `${PROD}/eu-west-1/report.html` } });
  });

  it("stacks every audited target's findings rows with its account_id and region", () => {
    // Act
    const { tables } = orgRun();

    // Assess
    const [findings] = tables;
    expect(findings?.fileName).toBe('findings.csv');
    expect(findings?.columns.slice(0, 3)).toEqual(['account_id', 'region', 'sg_id']);
    const perTarget = findingsTable(changedReport()).rows.length;
    expect(findings?.rows.filter((r) => r[0] === PROD && r[1] === 'eu-west-1')).toHaveLength(perTarget);
    expect(findings?.rows.some((r) => r[0] === DEV && r[1] === 'us-east-1')).toBe(false);
  });

  it('leads with the new and worse findings of targets compared with their previous report', () => {
    // Act
    const { report } = orgRun();

    // Assess: only prod/eu-west-1 was compared with a previous report that had other findings.
    expect(report.leadingFindings.length).toBeGreaterThan(0);
    expect(report.leadingFindings.every((f) => f.accountId === PROD && f.region === 'eu-west-1')).toBe(true);
    expect(report.leadingFindings.map((f) => f.change)).toContain('new');
    expect(report.topFindings.length).toBeGreaterThan(0);
    expect(report.topFindings[0]?.severity).toBe('critical');
  });

  it('bounds the worst findings it names', () => {
    const rollup = new OrgRollup({ runId: 'r', generatedAt: new Date(), tool: TOOL, topFindings: 3 });
    for (const target of Object.values(TARGETS)) rollup.addAudit(target, reportOf(sampleReport(), target));
    expect(rollup.finish().report.topFindings).toHaveLength(3);
  });

  it('compares with the previous organization report: new gaps, resolved gaps, targets added and removed', () => {
    // Prepare: last week dev/eu-west-1 was a gap, dev/us-east-1 audited, prod/us-east-1 absent, one more target.
    const lastWeek = orgRun(undefined, 'org-run-1').report;
    const previous = {
      ...lastWeek,
      targets: [
        ...lastWeek.targets.flatMap((t) => {
          if (t.accountId === PROD && t.region === 'us-east-1') return [];
          if (t.accountId === DEV && t.region === 'eu-west-1')
            return [
              {
                ...TARGETS.devEu,
                status: 'gap' as const,
                gap: { kind: 'failed' as const, error: { name: 'E', message: 'm' } },
              },
            ];
          if (t.accountId === DEV && t.region === 'us-east-1' && t.status === 'gap') {
            const audited = lastWeek.targets.find((x) => x.status === 'audited');
            return audited?.status === 'audited'
              ? [{ ...TARGETS.devUs, status: 'audited' as const, audit: audited.audit }]
              : [];
          }
          return [t];
        }),
        {
          accountId: '333333333333',
          region: 'eu-west-1',
          status: 'gap' as const,
          gap: { kind: 'failed' as const, error: { name: 'E', message: 'm' } },
        },
      ],
    };

    // Act
    const { report } = orgRun(previous);

    // Assess
    const labels = (targets: readonly { accountId: string; region: string }[]) =>
      targets.map((t) => `${t.accountId}/${t.region}`);
    expect(report.changes).toMatchObject({ firstRun: false, previousRunId: 'org-run-1', worsened: true });
    expect(labels(report.changes?.newGaps ?? [])).toEqual([`${DEV}/us-east-1`]);
    expect(labels(report.changes?.resolvedGaps ?? [])).toEqual([`${DEV}/eu-west-1`]);
    expect(labels(report.changes?.newTargets ?? [])).toEqual([`${PROD}/us-east-1`]);
    expect(labels(report.changes?.removedTargets ?? [])).toEqual(['333333333333/eu-west-1']);
    expect(labels(report.changes?.worsenedTargets ?? [])).toEqual([`${PROD}/eu-west-1`]);
    expect(report.changes?.newFindings).toBeGreaterThan(0);
  });

  it('is a first run without a previous organization report', () => {
    expect(orgRun().report.changes).toMatchObject({ firstRun: true, worsened: true, newTargets: [] });
  });

  it('writes a report the schema reads back', () => {
    const { report } = orgRun(orgRun(undefined, 'org-run-1').report);
    const parsed = orgReportSchema.safeParse(JSON.parse(JSON.stringify(report)));
    expect(parsed.error).toBeUndefined();
    expect(parsed.data).toEqual(JSON.parse(JSON.stringify(report)));
  });
});
