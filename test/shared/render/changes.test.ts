import { reviewReport } from '../../../shared/history/review';
import {
  changeOverview,
  leadingChangeText,
  leadingFindings,
  previousRunLabel,
  suppressionCounts,
} from '../../../shared/render/changes';
import { readableTime } from '../../../shared/render/format';
import { parseSuppressions } from '../../../shared/suppressions/suppressions';
import {
  ALL_TRAFFIC_FINDING,
  changedReport,
  DEFAULT_FINDING,
  EGRESS_FINDING,
  firstRunReport,
  PG_FINDING,
  PREVIOUS_GENERATED_AT,
  PREVIOUS_RUN_ID,
  previousReport,
  RESOLVED_FINDING,
  resurfacedReport,
  SSH_FINDING,
  SUPPRESSIONS_YAML,
  VERDICT_RULE,
} from '../../fixtures/changes-fixture';
import { SG_APP, SG_WEB, sampleReport } from '../../fixtures/report-fixture';

describe('changeOverview', () => {
  it('is undefined when the report was not compared', () => {
    // Act
    const overview = changeOverview(sampleReport());

    // Assess
    expect(overview).toBeUndefined();
  });

  it('splits new, worse (severity raised), other changed and resolved findings', () => {
    // Prepare
    const report = changedReport();

    // Act
    const overview = changeOverview(report);

    // Assess
    expect(overview?.firstRun).toBe(false);
    expect(overview?.previousRunId).toBe(PREVIOUS_RUN_ID);
    expect(overview?.previousGeneratedAt).toBe(PREVIOUS_GENERATED_AT);
    expect(overview?.newFindings.map((f) => f.id)).toEqual([SSH_FINDING]);
    expect(
      overview?.worseFindings.map((w) => [w.finding.id, w.finding.severity, w.previousSeverity]),
    ).toEqual([[PG_FINDING, 'medium', 'low']]);
    expect(overview?.changedFindings.map((c) => [c.finding.id, c.previousSeverity, c.changes])).toEqual([
      [DEFAULT_FINDING, 'high', ['severity']],
    ]);
    expect(overview?.resolvedFindings.map((f) => f.id)).toEqual([RESOLVED_FINDING]);
    expect(overview?.ruleVerdictChanges.map((c) => c.ruleId)).toEqual([VERDICT_RULE]);
    expect(overview?.counts).toEqual({
      new: 1,
      worse: 1,
      resurfaced: 0,
      resolved: 1,
      changed: 1,
      unchanged: 8,
      verdictChanges: 1,
      newSecurityGroups: 0,
      removedSecurityGroups: 0,
      renamedSecurityGroups: 1,
      newEnis: 0,
      removedEnis: 1,
    });
  });

  it('lists new findings worst first whatever the report order', () => {
    // Prepare: last week had only the info findings, so every other finding is new.
    const current = sampleReport();
    const previous = { ...sampleReport(), findings: current.findings.filter((f) => f.severity === 'info') };
    const report = reviewReport(
      { ...current, findings: [...current.findings].reverse() },
      {
        previous,
        compare: true,
        now: new Date('2025-11-17T00:00:00Z'),
      },
    ).report;

    // Act
    const overview = changeOverview(report);

    // Assess
    expect(overview?.newFindings.map((f) => f.severity)).toEqual([
      'critical',
      'critical',
      'high',
      'medium',
      'medium',
      'low',
      'low',
      'low',
    ]);
  });

  it('keeps actively suppressed findings unless asked for actionable ones only', () => {
    // Prepare: the new SSH finding is an accepted risk.
    const suppressions = parseSuppressions(
      `version: 1
suppressions:
  - id: ssh
    owner: ops
    reason: bastion
    expires: 2030-01-01
    match: { sgId: ${SG_APP}, check: sensitive-port-world }
`,
      'suppressions.yaml',
    );
    const report = reviewReport(sampleReport(), {
      previous: previousReport(),
      compare: true,
      suppressions,
      now: new Date('2025-11-17T00:00:00Z'),
    }).report;

    // Act
    const all = changeOverview(report);
    const actionable = changeOverview(report, { actionableOnly: true });

    // Assess
    expect(all?.counts.new).toBe(1);
    expect(all?.newFindings[0]?.suppression?.status).toBe('active');
    expect(actionable?.counts.new).toBe(0);
    expect(actionable?.counts.worse).toBe(1);
  });

  it('leaves a resolved finding that was an accepted risk last week out of the actionable lists', () => {
    // Prepare: last week's run accepted the 8000-8999 range finding that is now gone.
    const report = changedReport(
      sampleReport(),
      `${SUPPRESSIONS_YAML}  - id: web-range
    owner: web-team
    reason: Partner callbacks, reviewed quarterly.
    expires: 2030-01-01
    match:
      sgId: ${SG_WEB}
      check: world-port-range
`,
    );

    // Act
    const all = changeOverview(report);
    const actionable = changeOverview(report, { actionableOnly: true });

    // Assess
    expect(all?.resolvedFindings.map((f) => [f.id, f.suppression?.status])).toEqual([
      [RESOLVED_FINDING, 'active'],
    ]);
    expect(actionable?.resolvedFindings).toEqual([]);
    expect(actionable?.counts.resolved).toBe(0);
    expect(actionable?.counts.new).toBe(all?.counts.new);
  });

  it('says first run and lists nothing as new when there was no previous report', () => {
    // Act
    const overview = changeOverview(firstRunReport());

    // Assess
    expect(overview?.firstRun).toBe(true);
    expect(overview?.previousGeneratedAt).toBeUndefined();
    expect(overview?.counts.resolved).toBe(0);
  });
});

describe('suppressionCounts', () => {
  it('counts active and expired suppressions', () => {
    // Prepare
    const report = changedReport();

    // Act
    const counts = suppressionCounts(report.findings);

    // Assess
    expect(counts).toEqual({ active: 1, expired: 1 });
    expect(report.findings.find((f) => f.id === ALL_TRAFFIC_FINDING)?.suppression?.status).toBe('active');
    expect(report.findings.find((f) => f.id === EGRESS_FINDING)?.suppression?.status).toBe('expired');
  });

  it('counts nothing on findings without suppressions', () => {
    // Act
    const counts = suppressionCounts(sampleReport().findings);

    // Assess
    expect(counts).toEqual({ active: 0, expired: 0 });
  });
});

describe('previousRunLabel', () => {
  it('names the previous run by its time, else its id, else generically', () => {
    // Act
    const byTime = previousRunLabel({ previousGeneratedAt: PREVIOUS_GENERATED_AT }, readableTime);
    const byId = previousRunLabel({ previousRunId: PREVIOUS_RUN_ID }, readableTime);
    const neither = previousRunLabel({}, readableTime);

    // Assess
    expect(byTime).toBe('2025-11-10 00:05 UTC');
    expect(byId).toBe(`run ${PREVIOUS_RUN_ID}`);
    expect(neither).toBe('the previous run');
  });
});

describe('leadingFindings', () => {
  it('leads with new, then worse, then findings whose acceptance ended since the previous run', () => {
    // Prepare
    const overview = changeOverview(resurfacedReport());
    if (overview === undefined) throw new Error('expected changes');

    // Act
    const lead = leadingFindings(overview);

    // Assess
    expect(lead.map((l) => [l.change, l.finding.id, leadingChangeText(l)])).toEqual([
      ['new', SSH_FINDING, 'new'],
      ['worse', PG_FINDING, 'worse, was low'],
      ['resurfaced', EGRESS_FINDING, 'no longer accepted'],
    ]);
    expect(overview.counts.resurfaced).toBe(1);
  });

  it('does not lead with a suppression that had already expired at the previous run', () => {
    // Prepare: the egress suppression expired on 2025-11-01, before last week's run.
    const overview = changeOverview(changedReport());
    if (overview === undefined) throw new Error('expected changes');

    // Act
    const lead = leadingFindings(overview);

    // Assess
    expect(lead.map((l) => l.change)).toEqual(['new', 'worse']);
  });
});

describe('changeOverview (acceptances)', () => {
  it('lists a finding whose acceptance expired since last week as resurfaced, not as changed', () => {
    // Act
    const overview = changeOverview(resurfacedReport());

    // Assess
    expect(overview?.resurfacedFindings.map((f) => f.id)).toEqual([EGRESS_FINDING]);
    expect(overview?.changedFindings.map((c) => c.finding.id)).not.toContain(EGRESS_FINDING);
  });

  it('does not resurface a finding whose acceptance had already expired last week', () => {
    // Act
    const overview = changeOverview(changedReport());

    // Assess
    expect(overview?.resurfacedFindings).toEqual([]);
  });
});
