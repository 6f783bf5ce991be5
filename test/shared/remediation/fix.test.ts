import type { Finding } from '../../../shared/model/analysis';
import {
  authorizeCommand,
  fixLine,
  fixOfFinding,
  fixOfRule,
  recommendationAction,
  revokeCommand,
  withFixes,
} from '../../../shared/remediation/fix';
import type { AuditReport, ReportSecurityGroup } from '../../../shared/report/model';
import {
  findingOf,
  SG_APP,
  SG_BATCH,
  SG_DB,
  SG_DEFAULT,
  SG_WEB,
  sampleReport,
} from '../../fixtures/report-fixture';

function sgOf(report: AuditReport, id: string): ReportSecurityGroup {
  const sg = report.securityGroups.find((s) => s.id === id);
  if (sg === undefined) throw new Error(`no ${id}`);
  return sg;
}

describe('fixOfFinding', () => {
  it('replaces a used rule wider than its traffic: authorize the narrower entries, then revoke it', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const fix = fixOfFinding(findingOf(report, 'sensitive-port-world', SG_APP), report);

    // Assess
    expect(fix.action).toBe('replace');
    expect(fix.text).toBe(
      'Replace it with allow tcp port 22 from 198.51.100.0/24 (only 3 peers in 198.51.100.0/24 connected).',
    );
    expect(fix.commands).toEqual([
      `aws ec2 authorize-security-group-ingress --group-id ${SG_APP} --ip-permissions '[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"198.51.100.0/24","Description":"sg-audit 2025-11-17: 14 connections from 3 peers (summarised-/24)"}]}]' --region ap-northeast-2`,
      `aws ec2 revoke-security-group-ingress --group-id ${SG_APP} --ip-permissions '[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]' --region ap-northeast-2`,
    ]);
  });

  it('removes a rule proven unused, by its sgr- id when known', () => {
    // Prepare
    const report = sampleReport();
    const finding = report.findings.filter((f) => f.check === 'unused-rule')[0] as Finding;
    const withId: AuditReport = {
      ...report,
      securityGroups: report.securityGroups.map((sg) => ({
        ...sg,
        rules: sg.rules.map((r) => (r.id === finding.ruleId ? { ...r, securityGroupRuleId: 'sgr-0abc' } : r)),
      })),
    };

    // Act
    const fix = fixOfFinding(finding, withId);

    // Assess
    expect(fix).toEqual({
      action: 'remove',
      text: 'Remove the rule: no connection in 7 days with full flow-log coverage.',
      commands: [
        `aws ec2 revoke-security-group-ingress --group-id ${SG_APP} --security-group-rule-ids sgr-0abc --region ap-northeast-2`,
      ],
    });
  });

  it('gives no command for an SG that code manages: the change belongs in its code, as sg-audit plan says', () => {
    // Prepare
    const report = sampleReport();
    const owned: AuditReport = {
      ...report,
      securityGroups: report.securityGroups.map((sg) =>
        sg.id === SG_APP ? { ...sg, tags: { 'aws:cloudformation:stack-name': 'shop-web' } } : sg,
      ),
    };

    // Act
    const fix = fixOfFinding(findingOf(owned, 'sensitive-port-world', SG_APP), owned);

    // Assess
    expect(fix).toEqual({
      action: 'replace',
      text:
        'Replace it with allow tcp port 22 from 198.51.100.0/24 (only 3 peers in 198.51.100.0/24 connected). ' +
        'CloudFormation manages the SG (tag aws:cloudformation:stack-name=shop-web): make the change in its code (sg-audit plan writes it), not in the SG, which would drift.',
      commands: [],
    });
  });

  it('keeps what the plan keeps: an unused egress rule that also admits DNS to the VPC resolver, which flow logs never record', () => {
    // Prepare: the unused rule becomes egress udp 53 to the VPC (resolver at .2), still unused.
    const report = sampleReport();
    const finding = report.findings.filter((f) => f.check === 'unused-rule')[0] as Finding;
    const resolver: AuditReport = {
      ...report,
      securityGroups: report.securityGroups.map((sg) => ({
        ...sg,
        rules: sg.rules.map((r) =>
          r.id === finding.ruleId
            ? {
                ...r,
                direction: 'egress' as const,
                protocol: 'udp',
                fromPort: 53,
                toPort: 53,
                peer: '0.0.0.0/0',
              }
            : r,
        ),
      })),
    };

    // Act
    const fix = fixOfFinding(finding, resolver);

    // Assess
    expect(fix.action).toBe('keep');
    expect(fix.text).toMatch(
      /^Keep it for now: may carry traffic flow logs never record \(.*DNS.*\): kept as written\.$/,
    );
    expect(fix.commands).toEqual([]);
    // Without the plan, the rule alone reads as removable: the plan is what keeps it.
    const sg = resolver.securityGroups.find((s) =>
      s.rules.some((r) => r.id === finding.ruleId),
    ) as ReportSecurityGroup;
    const rule = sg.rules.find((r) => r.id === finding.ruleId);
    expect(rule && fixOfRule(rule, sg, resolver).action).toBe('remove');
  });

  it('proposes no change where use is not proven, and says what to restrict meanwhile', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const allTraffic = fixOfFinding(findingOf(report, 'all-traffic-open', SG_BATCH), report);
    const widePublic = fixOfFinding(findingOf(report, 'sensitive-port-wide-public', SG_DB), report);

    // Assess
    expect(allTraffic).toMatchObject({ action: 'prove', commands: [] });
    expect(allTraffic.text).toMatch(/^Prove its use before changing it: no flow log applies/);
    expect(allTraffic.text).toMatch(/Meanwhile name the protocols, ports and peers the resource serves\.$/);
    expect(widePublic).toMatchObject({ action: 'prove', commands: [] });
  });

  it('keeps what is expected and empties a default SG no ENI uses', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const web = fixOfFinding(findingOf(report, 'world-open-web', SG_WEB), report);
    const defaultSg = fixOfFinding(findingOf(report, 'default-sg-has-rules', SG_DEFAULT), report);

    // Assess
    expect(web).toEqual({
      action: 'keep',
      text: 'Keep it: public load balancer listener; traffic from 41,822 peers.',
      commands: [],
    });
    expect(defaultSg.action).toBe('empty-default-sg');
    expect(defaultSg.commands).toHaveLength(sgOf(report, SG_DEFAULT).rules.length);
    expect(defaultSg.commands[0]).toContain(`revoke-security-group-ingress --group-id ${SG_DEFAULT}`);
  });

  it('deletes an unused SG, and moves the ENIs of a default SG in use before emptying it (no command)', () => {
    // Prepare
    const report = sampleReport();
    const base = findingOf(report, 'default-sg-has-rules', SG_DEFAULT);
    const unusedSg: Finding = { ...base, id: 'unused-sg:x', check: 'unused-sg', sgId: SG_BATCH };
    const inUse: Finding = { ...base, id: 'default-sg-in-use:x', check: 'default-sg-in-use', sgId: SG_APP };

    // Act / Assess
    expect(fixOfFinding(unusedSg, report)).toMatchObject({
      action: 'delete-sg',
      commands: [`aws ec2 delete-security-group --group-id ${SG_BATCH} --region ap-northeast-2`],
    });
    expect(fixOfFinding(inUse, report)).toMatchObject({ action: 'empty-default-sg', commands: [] });
    expect(fixOfFinding(inUse, report).text).toContain('Attach purpose-made SGs to its 3 ENIs');
  });

  it('sets every finding of a report, one line for tables', () => {
    // Act
    const report = withFixes(sampleReport());

    // Assess
    expect(report.findings.every((f) => f.fix !== undefined && f.fix.text !== '')).toBe(true);
    expect(fixLine(report.findings.find((f) => f.check === 'unused-rule')?.fix)).toMatch(
      /^Remove the rule: .*\. Run: aws ec2 revoke-security-group-ingress /,
    );
    expect(fixLine(undefined)).toBe('');
  });
});

describe('fixOfRule and the commands', () => {
  it('revokes a rule of an SG nothing carries or references, whatever its evidence', () => {
    // Prepare
    const report = sampleReport();
    const sg = { ...sgOf(report, SG_BATCH), eniIds: [], referencedBy: [] };

    // Act
    const fix = fixOfRule(sg.rules[0] as ReportSecurityGroup['rules'][number], sg, report);

    // Assess
    expect(fix.action).toBe('remove');
    expect(fix.commands[0]).toMatch(/^aws ec2 revoke-security-group-ingress --group-id sg-0d44/);
  });

  it('writes each kind of peer as the CLI takes it', () => {
    // Prepare
    const sgRef = {
      direction: 'egress' as const,
      protocol: 'tcp',
      fromPort: 5432,
      toPort: 5432,
      peer: 'sg-9',
    };
    const all = { direction: 'ingress' as const, protocol: '-1', peer: '::/0' };

    // Act / Assess
    expect(revokeCommand('sg-1', sgRef)).toBe(
      `aws ec2 revoke-security-group-egress --group-id sg-1 --ip-permissions '[{"IpProtocol":"tcp","FromPort":5432,"ToPort":5432,"UserIdGroupPairs":[{"GroupId":"sg-9"}]}]'`,
    );
    expect(revokeCommand('sg-1', all)).toBe(
      `aws ec2 revoke-security-group-ingress --group-id sg-1 --ip-permissions '[{"IpProtocol":"-1","Ipv6Ranges":[{"CidrIpv6":"::/0"}]}]'`,
    );
    const rec = sgOf(sampleReport(), SG_APP).recommendations[0];
    expect(rec && authorizeCommand(rec)).toMatch(
      /^aws ec2 authorize-security-group-ingress --group-id sg-0b22/,
    );
  });

  it('tells a recommended entry the SG already has from one to add', () => {
    // Prepare
    const report = sampleReport();
    const web = sgOf(report, SG_WEB);
    const app = sgOf(report, SG_APP);

    // Act / Assess
    expect(web.recommendations.map((r) => recommendationAction(web, r))).toEqual([
      'keep',
      'keep',
      'keep',
      'keep',
    ]);
    expect(app.recommendations.map((r) => recommendationAction(app, r))).toContain('add');
  });
});
