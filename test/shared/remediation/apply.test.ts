import { applyPlan, type RunOptions, rollbackApplied } from '../../../shared/remediation/apply';
import type { AppliedRecord, RemediationPlan } from '../../../shared/remediation/model';
import { buildPlan } from '../../../shared/remediation/plan';
import { type RuleSpec, specKey } from '../../../shared/remediation/rule-spec';
import { MemoryTarget } from '../../../testkit/memory-target';
import { CREATED, remediationReport } from '../../fixtures/remediation-fixture';

async function fixture(): Promise<{ plan: RemediationPlan; target: MemoryTarget }> {
  const plan = buildPlan(await remediationReport(), { createdAt: CREATED, toolVersion: 'test', nacl: true });
  const groups = Object.fromEntries(plan.securityGroups.map((sg) => [sg.sgId, sg.expected.rules]));
  const acls = Object.fromEntries(plan.nacls.map((acl) => [acl.naclId, acl.expected.entries]));
  return { plan, target: new MemoryTarget(groups, acls) };
}

const OPTIONS: RunOptions = { dryRun: false, now: () => new Date('2026-11-18T01:00:00Z') };

function exact(rules: readonly RuleSpec[]): string[] {
  return rules.map((r) => `${specKey(r)} ${r.description ?? ''}`).sort();
}

describe('applyPlan', () => {
  it('makes every step after a DryRun of all of them, verifies each SG and records before and after', async () => {
    // Prepare
    const { plan, target } = await fixture();
    const records: AppliedRecord[] = [];
    // Act
    const outcome = await applyPlan(plan, target, { ...OPTIONS, onRecord: (r) => void records.push(r) });
    // Assess
    expect([outcome.failed, outcome.drifted, outcome.record.status]).toEqual([false, 0, 'complete']);
    const bastion = outcome.record.securityGroups.find((sg) => sg.sgId === 'sg-bastion');
    expect(bastion?.status).toBe('applied');
    expect(bastion?.after?.fingerprint).toBe(
      plan.securityGroups.find((s) => s.sgId === 'sg-bastion')?.afterFingerprint,
    );
    expect(exact(bastion?.before?.rules ?? [])).toEqual(exact(plan.securityGroups[0]?.expected.rules ?? []));
    expect(outcome.record.securityGroups.find((sg) => sg.sgId === 'sg-app')?.status).toBe('skipped');
    expect(outcome.record.nacls[0]?.status).toBe('applied');
    const firstReal = target.calls.findIndex((c) => !c.dryRun);
    expect(target.calls.slice(0, firstReal).every((c) => c.dryRun)).toBe(true);
    expect(target.calls.slice(firstReal).every((c) => !c.dryRun)).toBe(true);
    expect(firstReal).toBe(target.calls.length - firstReal);
    expect(records.length).toBeGreaterThan(2);
  });

  it('refuses an SG whose rules drifted, says what changed, and applies the others', async () => {
    // Prepare
    const { plan, target } = await fixture();
    target.setRules('sg-bastion', [
      ...target.rules('sg-bastion'),
      { direction: 'ingress', protocol: 'tcp', fromPort: 9000, toPort: 9000, peer: '0.0.0.0/0' },
    ]);
    // Act
    const outcome = await applyPlan(plan, target, OPTIONS);
    // Assess
    const bastion = outcome.record.securityGroups.find((sg) => sg.sgId === 'sg-bastion');
    expect(outcome.drifted).toBe(1);
    expect(bastion?.status).toBe('refused-drift');
    expect(bastion?.drift).toEqual({ added: ['ingress/tcp/9000-9000/0.0.0.0/0'], removed: [] });
    expect(bastion?.message).toMatch(
      /^rules changed since the plan was made \(\+ ingress\/tcp\/9000-9000\/0\.0\.0\.0\/0\): refused/,
    );
    expect(target.calls.filter((c) => c.sgId === 'sg-bastion')).toEqual([]);
    expect(outcome.record.nacls[0]?.status).toBe('applied');
  });

  it('changes nothing with dryRun, and says every step would be allowed', async () => {
    // Prepare
    const { plan, target } = await fixture();
    const before = exact(target.rules('sg-bastion'));
    // Act
    const outcome = await applyPlan(plan, target, { ...OPTIONS, dryRun: true });
    // Assess
    expect(exact(target.rules('sg-bastion'))).toEqual(before);
    expect(target.calls.every((c) => c.dryRun)).toBe(true);
    expect(outcome.record.securityGroups.find((sg) => sg.sgId === 'sg-bastion')?.status).toBe('dry-run');
  });

  it('changes nothing when a DryRun is refused', async () => {
    // Prepare
    const { plan, target } = await fixture();
    target.failOn = (call) => call.dryRun && call.naclId !== undefined;
    // Act
    const outcome = await applyPlan(plan, target, OPTIONS);
    // Assess
    expect(outcome.failed).toBe(true);
    expect(target.calls.every((c) => c.dryRun)).toBe(true);
    expect(outcome.record.stoppedAt).toEqual({
      target: 'acl-1',
      step: 1,
      of: expect.any(Number),
      error: 'DryRun: InjectedFailure: injected failure',
    });
  });

  it('stops at the failing step, says where, and leaves what it made consistent for a rollback', async () => {
    // Prepare
    const { plan, target } = await fixture();
    const original = exact(target.rules('sg-bastion'));
    target.failOn = (call) => !call.dryRun && call.sgId === 'sg-bastion' && call.step.action === 'revoke';
    // Act
    const outcome = await applyPlan(plan, target, OPTIONS);
    // Assess
    expect(outcome.failed).toBe(true);
    expect(outcome.record.stoppedAt).toEqual({
      target: 'sg-bastion',
      step: 4,
      of: 6,
      error: 'InjectedFailure: injected failure',
    });
    const bastion = outcome.record.securityGroups.find((sg) => sg.sgId === 'sg-bastion');
    expect([bastion?.status, bastion?.stepsDone]).toEqual(['failed', 3]);
    expect(bastion?.after?.rules).toHaveLength(6);
    expect(outcome.record.nacls[0]?.status).toBe('not-reached');
    // Act: the rollback of the partial apply
    target.failOn = () => false;
    const back = await rollbackApplied(outcome.record, target, OPTIONS);
    // Assess
    expect(back.failed).toBe(false);
    expect(exact(target.rules('sg-bastion'))).toEqual(original);
  });

  it('asks before the first change and changes nothing when declined', async () => {
    // Prepare
    const { plan, target } = await fixture();
    const asked: string[] = [];
    // Act
    const outcome = await applyPlan(plan, target, {
      ...OPTIONS,
      confirm: async (summary) => {
        asked.push(summary);
        return false;
      },
    });
    // Assess
    expect(outcome.declined).toBe(true);
    expect(asked[0]).toMatch(/^sg-bastion: 6 steps\nacl-1: \d+ steps\n\d+ changes in all$/);
    expect(target.calls.every((c) => c.dryRun)).toBe(true);
  });

  it('treats an SG already in the planned state as done (a second apply changes nothing)', async () => {
    // Prepare
    const { plan, target } = await fixture();
    await applyPlan(plan, target, OPTIONS);
    const calls = target.calls.length;
    // Act
    const again = await applyPlan(plan, target, OPTIONS);
    // Assess
    expect(again.drifted).toBe(0);
    expect(again.record.securityGroups.find((sg) => sg.sgId === 'sg-bastion')?.status).toBe(
      'verified-unchanged',
    );
    expect(target.calls.length).toBe(calls);
  });
});

describe('rollbackApplied', () => {
  it('restores the exact rules and descriptions, and the NACL entries at their numbers', async () => {
    // Prepare
    const { plan, target } = await fixture();
    const rules = exact(target.rules('sg-bastion'));
    const entries = target.entries('acl-1');
    const applied = await applyPlan(plan, target, OPTIONS);
    // Act
    const back = await rollbackApplied(applied.record, target, OPTIONS);
    // Assess
    expect([back.failed, back.drifted, back.record.operation]).toEqual([false, 0, 'rollback']);
    expect(exact(target.rules('sg-bastion'))).toEqual(rules);
    expect(target.entries('acl-1')).toEqual(entries);
  });

  it('refuses to roll back an SG changed since the apply', async () => {
    // Prepare
    const { plan, target } = await fixture();
    const applied = await applyPlan(plan, target, OPTIONS);
    target.setRules('sg-bastion', target.rules('sg-bastion').slice(1));
    // Act
    const back = await rollbackApplied(applied.record, target, OPTIONS);
    // Assess
    expect(back.drifted).toBe(1);
    expect(back.record.securityGroups.find((sg) => sg.sgId === 'sg-bastion')?.status).toBe('refused-drift');
  });
});
