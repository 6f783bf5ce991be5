import { composeRemediationEmail, composeRemediationSlack } from '../../../shared/alerts/remediation';
import { SLACK_MAX_BLOCKS } from '../../../shared/alerts/slack';
import {
  approvalAlertOf,
  approvalKey,
  approvalRecordOf,
  decidedRecord,
  deployedPlanFiles,
  planOptedIn,
  rejectionOf,
} from '../../../shared/remediation/approval';
import type { AuditReport } from '../../../shared/report/model';
import { CREATED, remediationReport } from '../../fixtures/remediation-fixture';

const TAG = { key: 'sg-audit:remediate', value: 'true' };

function tagged(report: AuditReport, ids: readonly string[]): AuditReport {
  return {
    ...report,
    account: { id: '123456789012', region: 'ap-northeast-2' },
    securityGroups: report.securityGroups.map((sg) =>
      ids.includes(sg.id) ? { ...sg, tags: { ...sg.tags, [TAG.key]: TAG.value } } : sg,
    ),
  };
}

const options = { tag: TAG, include: ['narrow', 'remove'] as const, createdAt: CREATED, toolVersion: 'test' };

describe('planOptedIn', () => {
  it('plans the SGs carrying the tag only, lists the others with proven changes, and no NACL', async () => {
    // Act
    const { plan, notOptedIn } = planOptedIn(tagged(await remediationReport(), ['sg-bastion']), options);
    // Assess
    expect(plan.securityGroups.map((sg) => [sg.sgId, sg.action])).toEqual([['sg-bastion', 'apply']]);
    expect(plan.nacls).toEqual([]);
    expect(notOptedIn.map((sg) => sg.sgId)).toEqual(['sg-app']);
  });

  it('plans nothing when no SG carries the tag with its value', async () => {
    const report = await remediationReport();
    const wrongValue = {
      ...report,
      securityGroups: report.securityGroups.map((sg) => ({ ...sg, tags: { [TAG.key]: 'yes' } })),
    };
    const { plan, notOptedIn } = planOptedIn(wrongValue, options);
    expect(plan.summary.toApply).toBe(0);
    expect(notOptedIn.map((sg) => sg.sgId).sort()).toEqual(['sg-app', 'sg-bastion']);
  });
});

describe('the approval record and its alerts', () => {
  async function record() {
    const { plan, notOptedIn } = planOptedIn(tagged(await remediationReport(), ['sg-bastion']), options);
    return approvalRecordOf({
      runId: 'run-1',
      plan,
      planLocation: 's3://reports/run-1/',
      notOptedIn,
      tag: TAG,
      taskToken: 'token-1',
      now: CREATED,
      timeoutSeconds: 72 * 3600,
    });
  }

  it('expires after the wait and drops the spent token once decided', async () => {
    const pending = await record();
    expect(pending.expiresAt).toBe('2026-11-21T00:00:00.000Z');
    const decided = decidedRecord(pending, 'approved', CREATED, { by: 'arn:aws:iam::1:user/kim' });
    expect(decided).toMatchObject({
      status: 'approved',
      decidedAt: CREATED.toISOString(),
      decision: { by: 'arn:aws:iam::1:user/kim' },
    });
    expect(decided.taskToken).toBeUndefined();
  });

  it('e-mails and posts the summary and the exact commands, never the token', async () => {
    const alert = approvalAlertOf(await record(), 'work-bucket');
    const email = composeRemediationEmail(alert);
    const slack = composeRemediationSlack(alert);
    const command = 'sg-audit approve --run run-1 --work-bucket work-bucket --region ap-northeast-2';
    expect(email.subject).toBe(
      'sg-audit 123456789012/ap-northeast-2: remediation plan awaits approval: 1 SG(s), 3 adds, 3 revokes',
    );
    expect(email.body).toContain(command);
    expect(email.body).toContain('Not opted in (proven changes, no tag; not planned): sg-app');
    expect(JSON.stringify(slack.blocks)).toContain(command);
    expect(slack.blocks.length).toBeLessThanOrEqual(SLACK_MAX_BLOCKS);
    expect(`${email.body}${JSON.stringify(slack)}`).not.toContain('token-1');
  });

  it('adds the SGs not opted in to plan.md and writes their list', async () => {
    const { plan, notOptedIn } = planOptedIn(tagged(await remediationReport(), ['sg-bastion']), options);
    const files = deployedPlanFiles(plan, notOptedIn, TAG);
    expect(files.find((f) => f.name === 'plan.md')?.body).toContain('## Not opted in');
    expect(JSON.parse(files.find((f) => f.name === 'not-opted-in.json')?.body ?? '[]')).toEqual(notOptedIn);
  });
});

describe('rejectionOf and approvalKey', () => {
  it("reads sg-audit reject's JSON cause, and any other text as the reason", () => {
    expect(rejectionOf('{"reason":"freeze","by":"arn:x"}')).toEqual({ reason: 'freeze', by: 'arn:x' });
    expect(rejectionOf('not now')).toEqual({ reason: 'not now' });
    expect(rejectionOf(undefined)).toEqual({});
  });

  it('never builds a key from a path', () => {
    expect(approvalKey('20251117T000512Z-7f3a9c')).toBe('approvals/20251117T000512Z-7f3a9c.json');
    expect(() => approvalKey('../runs/x')).toThrow('not a run id');
  });
});
