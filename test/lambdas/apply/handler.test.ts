import type { SecurityGroupRule } from '@aws-sdk/client-ec2';
import { planOptedIn } from '../../../shared/remediation/approval';
import type { AppliedRecord, RemediationPlan } from '../../../shared/remediation/model';
import type { RuleSpec } from '../../../shared/remediation/rule-spec';
import { applySteps } from '../../../shared/remediation/simulate';
import { CREATED, remediationReport } from '../../fixtures/remediation-fixture';
import { handlerColdStart } from '../../support/handler-cold-start';

const PREFIX = 'reports/123456789012/ap-northeast-2/2026/11/17/run-1/';
const KMS = 'arn:aws:kms:ap-northeast-2:123456789012:key/0c1d2e3f-1111-2222-3333-444455556666';
const coldStart = handlerColdStart({ REPORT_BUCKET: 'sg-audit-reports', KMS_KEY_ID: KMS });

/** The fixture's plan of the bastion (opted in by tag). */
async function bastionPlan(): Promise<RemediationPlan> {
  const report = await remediationReport();
  const tagged = {
    ...report,
    securityGroups: report.securityGroups.map((sg) =>
      sg.id === 'sg-bastion' ? { ...sg, tags: { 'sg-audit:remediate': 'true' } } : sg,
    ),
  };
  return planOptedIn(tagged, {
    tag: { key: 'sg-audit:remediate', value: 'true' },
    include: ['narrow', 'remove'],
    createdAt: CREATED,
    toolVersion: 'test',
  }).plan;
}

/** A rule spec as DescribeSecurityGroupRules returns it. */
function sdkRule(spec: RuleSpec, index: number): SecurityGroupRule {
  return {
    GroupId: 'sg-bastion',
    SecurityGroupRuleId: spec.securityGroupRuleId ?? `sgr-${index}`,
    IsEgress: spec.direction === 'egress',
    IpProtocol: spec.protocol,
    FromPort: spec.fromPort ?? -1,
    ToPort: spec.toPort ?? -1,
    ...(spec.peer.includes(':') ? { CidrIpv6: spec.peer } : { CidrIpv4: spec.peer }),
    ...(spec.description ? { Description: spec.description } : {}),
  };
}

function awsError(name: string): Error {
  return Object.assign(new Error(name), { name, $metadata: {} });
}

/** The handler with S3 (plan.json stored, puts kept) and EC2 mocked: the SG reads `before`, then `after`. */
async function loadApply(plan: RemediationPlan, rules: { before: RuleSpec[]; after: RuleSpec[] }) {
  coldStart();
  const { mockClient } = await import('aws-sdk-client-mock');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const ec2Sdk = await import('@aws-sdk/client-ec2');
  const s3 = mockClient(s3Sdk.S3Client);
  const ec2 = mockClient(ec2Sdk.EC2Client);
  s3.on(s3Sdk.GetObjectCommand, { Key: `${PREFIX}plan.json` }).resolves({
    Body: { transformToString: async () => JSON.stringify(plan) } as never,
  });
  s3.on(s3Sdk.PutObjectCommand).resolves({});
  ec2.on(ec2Sdk.DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-bastion' }] });
  ec2
    .on(ec2Sdk.DescribeSecurityGroupRulesCommand)
    .resolvesOnce({ SecurityGroupRules: rules.before.map(sdkRule) })
    .resolves({ SecurityGroupRules: rules.after.map(sdkRule) });
  for (const command of [
    ec2Sdk.AuthorizeSecurityGroupIngressCommand,
    ec2Sdk.AuthorizeSecurityGroupEgressCommand,
    ec2Sdk.RevokeSecurityGroupIngressCommand,
    ec2Sdk.RevokeSecurityGroupEgressCommand,
  ] as const) {
    ec2.on(command as never, { DryRun: true }).rejects(awsError('DryRunOperation'));
    ec2.on(command as never, { DryRun: false }).resolves({ Return: true });
  }
  const { handler } = await import('../../../lambdas/apply/handler');
  const changes = () =>
    ec2.calls().flatMap((call) => {
      const name = (call.args[0] as { constructor: { name: string } }).constructor.name;
      const input = call.args[0].input as { DryRun?: boolean };
      return /^(Authorize|Revoke)/.test(name)
        ? [`${name.replace(/SecurityGroup|Command/g, '')}${input.DryRun ? ' (DryRun)' : ''}`]
        : [];
    });
  const records = () =>
    s3.commandCalls(s3Sdk.PutObjectCommand).map((c) => ({
      key: c.args[0].input.Key,
      sse: c.args[0].input.SSEKMSKeyId,
      record: JSON.parse(String(c.args[0].input.Body)) as AppliedRecord,
    }));
  return { handler, changes, records };
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('apply handler', () => {
  it('applies the approved plan: DryRun of every step first, adds before revokes, verified, the record beside the plan', async () => {
    // Prepare
    const plan = await bastionPlan();
    const sg = plan.securityGroups[0];
    if (sg === undefined) throw new Error('the fixture plans the bastion');
    const { handler, changes, records } = await loadApply(plan, {
      before: [...sg.expected.rules],
      after: applySteps(sg.expected.rules, sg.steps),
    });
    // Act
    const result = await handler({
      runId: 'run-1',
      planKey: `${PREFIX}plan.json`,
      approval: {
        approved: true,
        planId: plan.planId,
        by: 'arn:aws:iam::1:user/kim',
        at: '2026-11-18T01:00:00Z',
      },
    });
    // Assess
    expect(result).toMatchObject({ runId: 'run-1', status: 'complete', drifted: 0 });
    expect(result.appliedKey).toMatch(
      new RegExp(`^${PREFIX}applied-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ\\.json$`),
    );
    const made = changes();
    const dryRuns = made.filter((c) => c.endsWith('(DryRun)'));
    expect(dryRuns).toHaveLength(sg.steps.length);
    expect(made.slice(0, sg.steps.length)).toEqual(dryRuns);
    const real = made.slice(sg.steps.length);
    expect(real.lastIndexOf('AuthorizeIngress')).toBeLessThan(real.indexOf('RevokeIngress'));
    const last = records().at(-1);
    expect(last?.key).toBe(result.appliedKey);
    expect(last?.sse).toBe(KMS);
    expect(last?.record).toMatchObject({
      status: 'complete',
      securityGroups: [{ sgId: 'sg-bastion', status: 'applied' }],
    });
  });

  it('refuses a plan other than the one approved, before any EC2 call', async () => {
    // Prepare
    const plan = await bastionPlan();
    const { handler, changes, records } = await loadApply(plan, { before: [], after: [] });
    // Act / Assess
    await expect(
      handler({
        runId: 'run-1',
        planKey: `${PREFIX}plan.json`,
        approval: { approved: true, planId: 'sha256:another', at: '2026-11-18T01:00:00Z' },
      }),
    ).rejects.toMatchObject({ name: 'PlanNotApprovedError' });
    expect(changes()).toEqual([]);
    expect(records()).toEqual([]);
  });

  it('refuses an SG whose rules drifted since the plan, recording what changed, and changes nothing', async () => {
    // Prepare
    const plan = await bastionPlan();
    const sg = plan.securityGroups[0];
    if (sg === undefined) throw new Error('the fixture plans the bastion');
    const added: RuleSpec = {
      direction: 'ingress',
      protocol: 'tcp',
      fromPort: 8443,
      toPort: 8443,
      peer: '10.0.0.0/8',
    };
    const { handler, changes, records } = await loadApply(plan, {
      before: [...sg.expected.rules, added],
      after: [...sg.expected.rules, added],
    });
    // Act
    const result = await handler({
      runId: 'run-1',
      planKey: `${PREFIX}plan.json`,
      approval: { approved: true, planId: plan.planId, at: '2026-11-18T01:00:00Z' },
    });
    // Assess
    expect(result).toMatchObject({ status: 'complete', drifted: 1 });
    expect(changes()).toEqual([]);
    expect(records().at(-1)?.record.securityGroups[0]).toMatchObject({
      status: 'refused-drift',
      drift: { added: ['ingress/tcp/8443-8443/10.0.0.0/8'], removed: [] },
    });
  });

  it('names the bad field of an event', async () => {
    const { handler } = await loadApply(await bastionPlan(), { before: [], after: [] });
    await expect(handler({ runId: 'run-1', planKey: 'reports/x/report.json', approval: {} })).rejects.toThrow(
      /planKey: must be the key of a plan\.json/,
    );
  });
});
