import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { RemediationPlan } from '../../../shared/remediation/model';
import { buildPlan } from '../../../shared/remediation/plan';
import { plannedChangesOfReport } from '../../../shared/remediation/planned-change';
import { renderPlanFiles } from '../../../shared/remediation/render';
import { appliedJsonSchema, planJsonSchema } from '../../../shared/remediation/schema';
import { CREATED, remediationReport } from '../../fixtures/remediation-fixture';

async function fixturePlan(): Promise<RemediationPlan> {
  return buildPlan(await remediationReport(), { createdAt: CREATED, toolVersion: 'test', nacl: true });
}

function fileOf(plan: RemediationPlan, name: string): string {
  const file = renderPlanFiles(plan).find((f) => f.name === name);
  if (file === undefined) throw new Error(`no ${name}`);
  return file.body;
}

/** Runs a script with a fake `aws` on PATH that records its arguments, one call per line. */
function awsCallsOf(script: string, dir: string): string[][] {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const log = path.join(dir, 'calls.jsonl');
  writeFileSync(
    path.join(bin, 'aws'),
    `#!/usr/bin/env node\nrequire('fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + '\\n');\n`,
  );
  chmodSync(path.join(bin, 'aws'), 0o755);
  const file = path.join(dir, 'script.sh');
  writeFileSync(file, script);
  execFileSync('bash', [file], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as string[]);
}

describe('renderPlanFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sg-audit-plan-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes plan.json, the scripts, plan.md and the IaC changes', async () => {
    // Act
    const files = renderPlanFiles(await fixturePlan());
    // Assess
    expect(files.map((f) => f.name)).toEqual([
      'plan.json',
      'apply.sh',
      'rollback.sh',
      'plan.md',
      'iac/cloudformation.yaml',
      'iac/terraform.tf',
    ]);
  });

  it('apply.sh adds before it revokes, SG by SG, and leaves the SG that code manages alone', async () => {
    // Prepare
    const plan = await fixturePlan();
    // Act
    const calls = awsCallsOf(fileOf(plan, 'apply.sh'), dir);
    // Assess
    expect(calls.filter((c) => c[1]?.includes('security-group')).map((c) => c.slice(0, 4).join(' '))).toEqual(
      [
        'ec2 authorize-security-group-ingress --group-id sg-bastion',
        'ec2 authorize-security-group-egress --group-id sg-bastion',
        'ec2 revoke-security-group-ingress --group-id sg-bastion',
        'ec2 revoke-security-group-egress --group-id sg-bastion',
      ],
    );
    expect(JSON.parse(calls[0]?.[5] ?? '')).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        IpRanges: [
          { CidrIp: '198.51.100.7/32', Description: 'sg-audit 2026-11-17: 6 connections from 1 peer' },
        ],
      },
      {
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        IpRanges: [
          {
            CidrIp: '203.0.113.0/24',
            Description: 'sg-audit 2026-11-17: 12 connections from 3 peers (summarised-/24)',
          },
        ],
      },
    ]);
    expect(calls.some((c) => c.includes('sg-app'))).toBe(false);
    expect(fileOf(plan, 'apply.sh')).toContain(
      '# aws ec2 authorize-security-group-ingress --group-id sg-app',
    );
    // Per direction, the old allow-all (rule 100) goes after every new entry is in.
    for (const way of ['--ingress', '--egress']) {
      const naclCalls = calls.filter((c) => c[1]?.endsWith('network-acl-entry') && c.includes(way));
      expect(naclCalls.map((c) => `${c[1]} ${c[5]}`).pop()).toBe('delete-network-acl-entry 100');
      expect(naclCalls.slice(0, -1).every((c) => c[1] === 'create-network-acl-entry' && c[5] !== '100')).toBe(
        true,
      );
    }
  });

  it('rollback.sh re-adds the revoked rules with their descriptions before it revokes the added ones', async () => {
    // Prepare
    const plan = await fixturePlan();
    // Act
    const calls = awsCallsOf(fileOf(plan, 'rollback.sh'), dir);
    // Assess
    const sgCalls = calls.filter((c) => c[1]?.includes('security-group'));
    expect(sgCalls.map((c) => c[1])).toEqual([
      'authorize-security-group-ingress',
      'authorize-security-group-egress',
      'revoke-security-group-ingress',
      'revoke-security-group-egress',
    ]);
    expect(JSON.parse(sgCalls[0]?.[5] ?? '')).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'SSH' }],
      },
      { IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
    ]);
    const naclCalls = calls.filter((c) => c[1]?.endsWith('network-acl-entry'));
    expect(naclCalls[0]?.slice(1, 5)).toEqual([
      'create-network-acl-entry',
      '--network-acl-id',
      'acl-1',
      '--rule-number',
    ]);
    expect(naclCalls[0]?.[5]).toBe('100');
  });

  it('plan.md says what changes, why, and what stays', async () => {
    // Act
    const markdown = fileOf(await fixturePlan(), 'plan.md');
    // Assess
    expect(markdown).toContain('## sg-bastion — sg-bastion (vpc-1): apply');
    expect(markdown).toContain(
      '| ingress tcp 22 from 203.0.113.0/24 | 12 connections from 3 peers (summarised-/24) | `sg-bastion/ingress/tcp/22-22/0.0.0.0/0` |',
    );
    expect(markdown).toContain('| ingress tcp 3389 from ::/0 (sgr-0rdp) | remove |');
    expect(markdown).toContain('Managed by **cloudformation** (`app-stack`)');
    expect(markdown).toMatch(
      /\| `sg-dark\/ingress\/tcp\/5432-5432\/10\.9\.0\.0\/16` \| review \| unproven, never planned/,
    );
    expect(markdown).toContain('Quota: ingress ipv4 1 → peak 3 → 2 of 60');
  });

  it('gives the IaC change of a managed SG as CloudFormation resources and Terraform rules', async () => {
    // Prepare
    const plan = await fixturePlan();
    // Act
    const cfn = fileOf(plan, 'iac/cloudformation.yaml');
    const tf = fileOf(plan, 'iac/terraform.tf');
    // Assess
    expect(cfn).toContain(
      [
        '  SgAuditsgappIngress1:',
        '    Type: AWS::EC2::SecurityGroupIngress',
        '    Properties:',
        '      GroupId: sg-app',
        "      IpProtocol: 'tcp'",
        '      FromPort: 8080',
        '      ToPort: 8080',
        '      CidrIp: 10.0.5.5/32',
        "      Description: 'sg-audit 2026-11-17: 40 connections from 1 peer'",
      ].join('\n'),
    );
    expect(cfn).toContain('  # remove: ingress tcp 8080 from 10.0.0.0/8 (narrow)');
    expect(tf).toContain('resource "aws_vpc_security_group_ingress_rule" "sg_audit_sg_app_ingress_1" {');
    expect(tf).toContain('  cidr_ipv4 = "10.0.5.5/32"');
    expect(cfn).not.toContain('sg-bastion');
  });
});

describe('plannedChangesOfReport', () => {
  it('gives each planned rule its change and commands, and each kept rule its reason', async () => {
    // Act
    const changes = plannedChangesOfReport(await remediationReport());
    // Assess
    const ssh = changes.get('sg-bastion/ingress/tcp/22-22/0.0.0.0/0');
    expect(ssh?.change).toBe('narrow');
    expect(ssh?.summary).toBe(
      'narrow: add ingress tcp 22 from 198.51.100.7/32, ingress tcp 22 from 203.0.113.0/24; then revoke ingress tcp 22 from 0.0.0.0/0',
    );
    expect(ssh?.commands.map((c) => c.split(' --ip-permissions')[0])).toEqual([
      'aws ec2 authorize-security-group-ingress --group-id sg-bastion',
      'aws ec2 revoke-security-group-ingress --group-id sg-bastion',
    ]);
    expect(changes.get('sg-bastion/ingress/tcp/3389-3389/::/0')?.commands).toEqual([
      'aws ec2 revoke-security-group-ingress --group-id sg-bastion --security-group-rule-ids sgr-0rdp',
    ]);
    const app = changes.get('sg-app/ingress/tcp/8080-8080/10.0.0.0/8');
    expect([app?.change, app?.owner?.tool, app?.commands]).toEqual(['narrow', 'cloudformation', []]);
    expect(changes.get('sg-dark/ingress/tcp/5432-5432/10.9.0.0/16')?.change).toBe('keep');
  });
});

describe('plan and applied JSON Schemas', () => {
  it('match the committed docs/plan.schema.json and docs/applied.schema.json (regenerate with npm run schema)', () => {
    // Prepare
    const docs = path.join(__dirname, '../../../docs');
    // Act / Assess
    expect(JSON.parse(readFileSync(path.join(docs, 'plan.schema.json'), 'utf8'))).toEqual(
      JSON.parse(JSON.stringify(planJsonSchema())),
    );
    expect(JSON.parse(readFileSync(path.join(docs, 'applied.schema.json'), 'utf8'))).toEqual(
      JSON.parse(JSON.stringify(appliedJsonSchema())),
    );
  });

  it('accept the plan.json a plan writes and reject one without its fingerprints', async () => {
    // Prepare
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(planJsonSchema());
    const plan = JSON.parse(fileOf(await fixturePlan(), 'plan.json'));
    const broken = JSON.parse(JSON.stringify(plan));
    delete broken.securityGroups[0].expected.fingerprint;
    // Act
    const ok = validate(plan);
    const errors = validate.errors;
    const bad = validate(broken);
    // Assess
    expect(errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(bad).toBe(false);
  });
});
