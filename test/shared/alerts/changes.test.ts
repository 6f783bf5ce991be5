import { actionableBySeverity, alertableChanges, decideAlert } from '../../../shared/alerts/changes';
import { reviewReport } from '../../../shared/history/review';
import type { AuditReport } from '../../../shared/report/model';
import { parseSuppressions } from '../../../shared/suppressions/suppressions';
import { SG_APP, sampleReport } from '../../fixtures/report-fixture';

const SSH_FINDING = `sensitive-port-world:${SG_APP}/ingress/tcp/22-22/0.0.0.0/0`;
const EGRESS_FINDING = `egress-all-open:${SG_APP}/egress/-1/all/0.0.0.0/0`;
const NOW = new Date('2025-11-24T00:05:07.000Z');

/** A later run of the sample: another run id and time. */
function nextRun(report: AuditReport): AuditReport {
  return { ...report, runId: '2025-11-24T000507Z-1b2c3d', generatedAt: NOW.toISOString() };
}

function withoutFinding(report: AuditReport, id: string): AuditReport {
  return { ...report, findings: report.findings.filter((f) => f.id !== id) };
}

function suppressing(id: string, expires: string) {
  const text = [
    'version: 1',
    'suppressions:',
    `  - id: ${id}`,
    '    owner: platform-team',
    '    reason: bastion SSH by design',
    `    expires: ${expires}`,
    '    match:',
    `      sgId: ${SG_APP}`,
    '      check: sensitive-port-world',
  ].join('\n');
  return parseSuppressions(text, 'suppressions.yaml');
}

describe('alertableChanges', () => {
  it('is undefined when the report was not compared', () => {
    // Prepare / Act
    const changes = alertableChanges(sampleReport());

    // Assess
    expect(changes).toBeUndefined();
  });

  it('counts every finding as new on a first run', () => {
    // Prepare
    const { report } = reviewReport(sampleReport(), { compare: true, now: NOW });

    // Act
    const changes = alertableChanges(report);

    // Assess
    expect(changes).toEqual({
      firstRun: true,
      worsened: true,
      newFindings: report.findings.length,
      worseFindings: 0,
      resurfacedFindings: 0,
      resolvedFindings: 0,
    });
  });

  it('reports no change when the same findings come back', () => {
    // Prepare
    const { report } = reviewReport(nextRun(sampleReport()), {
      previous: sampleReport(),
      compare: true,
      now: NOW,
    });

    // Act
    const changes = alertableChanges(report);

    // Assess
    expect(changes).toMatchObject({ firstRun: false, worsened: false, newFindings: 0, worseFindings: 0 });
  });

  it('counts a new finding and a resolved one', () => {
    // Prepare
    const previous = withoutFinding(sampleReport(), SSH_FINDING);
    const current = withoutFinding(nextRun(sampleReport()), EGRESS_FINDING);
    const { report } = reviewReport(current, { previous, compare: true, now: NOW });

    // Act
    const changes = alertableChanges(report);

    // Assess
    expect(changes).toMatchObject({ worsened: true, newFindings: 1, resolvedFindings: 1 });
  });

  it('leaves out a resolved finding that was an accepted risk at the previous run', () => {
    // Prepare: last week's bastion SSH finding was accepted; it is gone this week.
    const suppressions = suppressing('bastion-ssh', '2030-01-01');
    const previous = reviewReport(sampleReport(), { compare: false, suppressions, now: NOW }).report;
    const current = withoutFinding(withoutFinding(nextRun(sampleReport()), SSH_FINDING), EGRESS_FINDING);
    const { report } = reviewReport(current, { previous, compare: true, suppressions, now: NOW });

    // Act
    const changes = alertableChanges(report);

    // Assess: both are resolved in the report; only the egress one counts for the alert.
    expect(report.changes?.resolvedFindings.map((f) => f.id).sort()).toEqual(
      [SSH_FINDING, EGRESS_FINDING].sort(),
    );
    expect(changes).toMatchObject({ worsened: false, newFindings: 0, resolvedFindings: 1 });
  });

  it('counts a raised severity as worse but not a lowered one', () => {
    // Prepare
    const base = sampleReport();
    const previous = {
      ...base,
      findings: base.findings.map((f) =>
        f.id === SSH_FINDING
          ? { ...f, severity: 'low' as const }
          : f.id === EGRESS_FINDING
            ? { ...f, severity: 'critical' as const }
            : f,
      ),
    };
    const { report } = reviewReport(nextRun(sampleReport()), { previous, compare: true, now: NOW });

    // Act
    const changes = alertableChanges(report);

    // Assess
    expect(changes).toMatchObject({ worsened: true, newFindings: 0, worseFindings: 1 });
  });

  it('leaves out a new finding that an active suppression covers, though the diff counts it', () => {
    // Prepare
    const previous = withoutFinding(sampleReport(), SSH_FINDING);
    const { report } = reviewReport(nextRun(sampleReport()), {
      previous,
      compare: true,
      suppressions: suppressing('bastion-ssh', '2026-12-31'),
      now: NOW,
    });

    // Act
    const changes = alertableChanges(report);

    // Assess
    expect(report.changes?.worsened).toBe(true);
    expect(changes).toMatchObject({ worsened: false, newFindings: 0 });
  });

  it('counts a finding whose suppression expired since the previous run, once', () => {
    // Prepare: the suppression held through 2025-11-20; the previous run was on the 17th.
    const suppressions = suppressing('bastion-ssh', '2025-11-20');
    // The previous run applied the same file on its own date: the SSH finding was accepted then.
    const previous = reviewReport(sampleReport(), {
      compare: false,
      suppressions,
      now: new Date(sampleReport().generatedAt),
    }).report;
    const first = reviewReport(nextRun(sampleReport()), {
      previous,
      compare: true,
      suppressions,
      now: NOW,
    }).report;
    const weekAfter = {
      ...sampleReport(),
      runId: 'r-3',
      generatedAt: '2025-12-01T00:05:00.000Z',
    };
    const second = reviewReport(weekAfter, {
      previous: first,
      compare: true,
      suppressions,
      now: new Date('2025-12-01T00:05:00.000Z'),
    }).report;

    // Act
    const [atExpiry, weekLater] = [alertableChanges(first), alertableChanges(second)];

    // Assess
    expect(atExpiry).toMatchObject({ worsened: true, resurfacedFindings: 1 });
    expect(weekLater).toMatchObject({ worsened: false, resurfacedFindings: 0 });
  });
  it('counts a finding whose acceptance was deleted from the file since the previous run', () => {
    // Prepare: accepted last week; this week the entry is gone from the file.
    const accepted = suppressing('bastion-ssh', '2026-12-31');
    const previous = reviewReport(sampleReport(), {
      compare: false,
      suppressions: accepted,
      now: new Date(sampleReport().generatedAt),
    }).report;
    const current = reviewReport(nextRun(sampleReport()), {
      previous,
      compare: true,
      suppressions: parseSuppressions('version: 1\nsuppressions: []\n', 'suppressions.yaml'),
      now: NOW,
    }).report;

    // Act
    const changes = alertableChanges(current);

    // Assess
    expect(changes).toMatchObject({ worsened: true, newFindings: 0, resurfacedFindings: 1 });
    expect(current.changes?.changedFindings).toEqual([
      expect.objectContaining({ id: SSH_FINDING, changes: ['acceptance'] }),
    ]);
  });

  it('counts a finding that resurfaces with a raised severity once, as resurfaced, as the e-mail does', () => {
    // Prepare: accepted last week at a lower severity; this week the entry is gone and it is worse.
    const previous = reviewReport(sampleReport(), {
      compare: false,
      suppressions: suppressing('bastion-ssh', '2026-12-31'),
      now: new Date(sampleReport().generatedAt),
    }).report;
    const lowered: AuditReport = {
      ...previous,
      findings: previous.findings.map((f) => (f.id === SSH_FINDING ? { ...f, severity: 'low' } : f)),
    };
    const current = reviewReport(nextRun(sampleReport()), {
      previous: lowered,
      compare: true,
      now: NOW,
    }).report;

    // Act
    const changes = alertableChanges(current);

    // Assess
    expect(current.changes?.changedFindings).toEqual([
      expect.objectContaining({
        id: SSH_FINDING,
        previousSeverity: 'low',
        changes: ['severity', 'acceptance'],
      }),
    ]);
    expect(changes).toMatchObject({
      worsened: true,
      newFindings: 0,
      worseFindings: 0,
      resurfacedFindings: 1,
    });
  });
});

describe('actionableBySeverity', () => {
  it('counts findings by severity without the actively suppressed ones', () => {
    // Prepare
    const { report } = reviewReport(sampleReport(), {
      compare: false,
      suppressions: suppressing('bastion-ssh', '2026-12-31'),
      now: NOW,
    });
    const ssh = report.findings.find((f) => f.id === SSH_FINDING);

    // Act
    const counts = actionableBySeverity(report);

    // Assess
    expect(ssh?.suppression?.status).toBe('active');
    const all = report.summary.findingsBySeverity;
    expect(counts).toEqual({ ...all, [ssh?.severity ?? 'info']: all[ssh?.severity ?? 'info'] - 1 });
  });
});

describe('decideAlert', () => {
  const unchanged = () =>
    reviewReport(nextRun(sampleReport()), { previous: sampleReport(), compare: true, now: NOW }).report;

  it('always sends with ALERT_ON always, even when nothing changed', () => {
    // Prepare / Act
    const decision = decideAlert(unchanged(), { alertOn: 'always', noChangeDigest: false });

    // Assess
    expect(decision).toMatchObject({ send: true, digest: false });
  });

  it('sends the first run and a report that was not compared', () => {
    // Prepare
    const first = reviewReport(sampleReport(), { compare: true, now: NOW }).report;

    // Act
    const decisions = [first, sampleReport()].map((r) =>
      decideAlert(r, { alertOn: 'changes', noChangeDigest: false }),
    );

    // Assess
    expect(decisions).toEqual([
      { send: true, digest: false, reason: 'first run: no previous report' },
      { send: true, digest: false, reason: 'the report was not compared with a previous one' },
    ]);
  });

  it('skips an unchanged run, or sends the digest when asked', () => {
    // Prepare
    const report = unchanged();

    // Act
    const skipped = decideAlert(report, { alertOn: 'changes', noChangeDigest: false });
    const digest = decideAlert(report, { alertOn: 'changes', noChangeDigest: true });

    // Assess
    expect(skipped).toEqual({
      send: false,
      reason: 'nothing new or worse since run 2025-11-17T000512Z-7f3a9c (suppressed findings excluded)',
    });
    expect(digest).toMatchObject({ send: true, digest: true });
  });

  it('sends when a finding is new, saying how many', () => {
    // Prepare
    const { report } = reviewReport(nextRun(sampleReport()), {
      previous: withoutFinding(sampleReport(), SSH_FINDING),
      compare: true,
      now: NOW,
    });

    // Act
    const decision = decideAlert(report, { alertOn: 'changes', noChangeDigest: true });

    // Assess
    expect(decision).toEqual({
      send: true,
      digest: false,
      reason: 'findings 1 new, 0 worse, 0 with an expired suppression',
    });
  });
});
