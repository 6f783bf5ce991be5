/**
 * From findings to changes against moto: an account seeded in EC2, audited on synthetic traffic
 * (inventory discovered live, so rules carry their sgr- ids), planned, applied, checked by
 * describe, refused on drift, dry-run, rolled back — through the CLI.
 *
 * moto executes NACL entry calls even with DryRun set (it honours DryRun on SG calls); the EC2
 * client here answers those DryRun calls with DryRunOperation itself, as EC2 does, so a dry run
 * changes nothing and the rest of the flow is moto's.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  DescribeNetworkAclsCommand,
  EC2Client,
  ReplaceNetworkAclAssociationCommand,
} from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { type AwsClients, awsClientsFrom } from '../../adapters/aws/clients';
import { Ec2InventorySource } from '../../adapters/aws/ec2-inventory';
import { Ec2RemediationTarget } from '../../adapters/aws/ec2-remediation';
import { EXIT_DRIFT, EXIT_OK } from '../../cli/main';
import type { Inventory } from '../../shared/model/inventory';
import type { AppliedRecord, RemediationPlan } from '../../shared/remediation/model';
import { type RuleSpec, specKey } from '../../shared/remediation/rule-spec';
import { renderJson } from '../../shared/render/json';
import { auditOnData, connectionRow } from '../../testkit/audit-on-data';
import { runCli } from '../support/cli-run';
import { type MotoServer, motoClientConfig, resetMoto, startMoto } from '../support/moto';
import { ec2Seeder, required } from '../support/moto-ec2';

const NACL_ENTRY_COMMANDS = new Set([
  'CreateNetworkAclEntryCommand',
  'ReplaceNetworkAclEntryCommand',
  'DeleteNetworkAclEntryCommand',
]);

/** An EC2 client on moto that answers NACL entry DryRun calls as EC2 does (moto would make them). */
function ec2Of(endpoint: string): EC2Client {
  const ec2 = new EC2Client(motoClientConfig(endpoint));
  ec2.middlewareStack.add(
    (next, context) => async (args) => {
      if (NACL_ENTRY_COMMANDS.has(context.commandName ?? '') && (args.input as { DryRun?: boolean }).DryRun) {
        throw Object.assign(new Error('Request would have succeeded, but DryRun flag is set.'), {
          name: 'DryRunOperation',
          $metadata: {},
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'naclDryRunAsEc2' },
  );
  return ec2;
}

function clientsOf(endpoint: string): AwsClients {
  // EC2 answers NACL DryRuns as EC2 does (see ec2Of); the other clients are moto's own.
  return awsClientsFrom(motoClientConfig(endpoint), {
    ec2: ec2Of(endpoint),
    sts: new STSClient(motoClientConfig(endpoint)),
  });
}

interface Seeded {
  readonly vpcId: string;
  readonly sgId: string;
  readonly naclId: string;
  readonly inventory: Inventory;
}

/** A bastion (SSH open to the world, RDP unused) in a subnet under an allow-all NACL, with a VPC flow log. */
async function seed(ec2: EC2Client): Promise<Seeded> {
  const s = ec2Seeder(ec2);
  const vpcId = await s.vpc('10.10.0.0/16');
  const subnetId = await s.subnet(vpcId, '10.10.1.0/24', 'ap-northeast-2a');
  const sgId = await s.securityGroup(vpcId, 'bastion', 'bastion host');
  await s.ingress(sgId, [
    { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'SSH' }] },
    {
      IpProtocol: 'tcp',
      FromPort: 3389,
      ToPort: 3389,
      IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'old RDP' }],
    },
  ]);
  await s.networkInterface(subnetId, [sgId], { address: '10.10.1.10' });
  await s.flowLog({
    ResourceIds: [vpcId],
    ResourceType: 'VPC',
    TrafficType: 'ALL',
    LogDestinationType: 'cloud-watch-logs',
    LogGroupName: 'flow-logs',
    DeliverLogsPermissionArn: 'arn:aws:iam::123456789012:role/flow-logs',
  });
  const naclId = required(
    (await ec2.send(new CreateNetworkAclCommand({ VpcId: vpcId }))).NetworkAcl?.NetworkAclId,
    'a NACL id',
  );
  for (const Egress of [false, true]) {
    await ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: naclId,
        RuleNumber: 100,
        Protocol: '-1',
        RuleAction: 'allow',
        Egress,
        CidrBlock: '0.0.0.0/0',
      }),
    );
  }
  const current = await ec2.send(
    new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }),
  );
  const association = current.NetworkAcls?.[0]?.Associations?.find(
    (a) => a.SubnetId === subnetId,
  )?.NetworkAclAssociationId;
  await ec2.send(
    new ReplaceNetworkAclAssociationCommand({
      AssociationId: required(association, 'an association'),
      NetworkAclId: naclId,
    }),
  );

  const { inventory } = await new Ec2InventorySource({ ec2 }).load({ vpcIds: [vpcId] });
  // Delivery is proven by the test's flow source; the log must predate the window, and moto's
  // flow logs to CloudWatch fail to deliver without a real role.
  return {
    vpcId,
    sgId,
    naclId,
    inventory: {
      ...inventory,
      flowLogs: inventory.flowLogs.map((f) => ({
        ...f,
        creationTime: '2020-01-01T00:00:00Z',
        deliverStatus: 'SUCCESS',
      })),
    },
  };
}

function exact(rules: readonly RuleSpec[]): string[] {
  return rules.map((r) => `${specKey(r)} ${r.description ?? ''}`).sort();
}

describe('sg-audit plan, apply and rollback against moto', () => {
  let moto: MotoServer;
  let ec2: EC2Client;
  let work: string;
  const cli = (args: string[]) =>
    runCli(args, { version: 'e2e', awsClients: () => clientsOf(moto.endpoint) });

  beforeAll(async () => {
    moto = await startMoto();
    ec2 = ec2Of(moto.endpoint);
  });
  afterAll(async () => {
    ec2?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await resetMoto(moto.endpoint);
    work = mkdtempSync(path.join(tmpdir(), 'sg-audit-e2e-plan-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  /** Seeds, audits on SSH from four peers, and writes the plan with `sg-audit plan`. */
  async function planned(): Promise<Seeded & { plan: RemediationPlan; planFile: string }> {
    const seeded = await seed(ec2);
    const eniId = seeded.inventory.networkInterfaces[0]?.id as string;
    const rows = ['198.51.100.7', '203.0.113.10', '203.0.113.11', '203.0.113.12'].map((peer) =>
      connectionRow(eniId, peer, '10.10.1.10', 6, 22, 5),
    );
    const reportFile = path.join(work, 'report.json');
    writeFileSync(reportFile, renderJson(await auditOnData(seeded.inventory, rows)));
    const out = path.join(work, 'plan');
    const result = await cli(['plan', '--report', reportFile, '--out', out, '--nacl', '--quiet']);
    expect(result.code).toBe(EXIT_OK);
    const planFile = path.join(out, 'plan.json');
    return { ...seeded, plan: JSON.parse(readFileSync(planFile, 'utf8')) as RemediationPlan, planFile };
  }

  const rulesOf = async (sgId: string) =>
    (await new Ec2RemediationTarget({ ec2 }).describeSecurityGroups([sgId])).get(sgId) ?? [];
  const entriesOf = async (naclId: string) =>
    (await new Ec2RemediationTarget({ ec2 }).describeNetworkAcls([naclId])).get(naclId) ?? [];

  it('applies the plan: describe shows the recommended rules, the NACL its new entries; rollback restores both exactly', async () => {
    // Prepare
    const { sgId, naclId, plan, planFile } = await planned();
    const rulesBefore = await rulesOf(sgId);
    const entriesBefore = await entriesOf(naclId);
    expect(
      plan.securityGroups.find((sg) => sg.sgId === sgId)?.revoke.map((r) => r.rule.securityGroupRuleId),
    ).toEqual([expect.stringMatching(/^sgr-/), expect.stringMatching(/^sgr-/)]);
    // Act
    const applied = await cli(['apply', '--plan', planFile, '--yes', '--quiet']);
    // Assess
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(EXIT_OK);
    const ingress = (await rulesOf(sgId)).filter((r) => r.direction === 'ingress');
    expect(exact(ingress)).toEqual([
      'ingress/tcp/22-22/198.51.100.7/32 sg-audit 2026-11-17: 5 connections from 1 peer',
      'ingress/tcp/22-22/203.0.113.0/24 sg-audit 2026-11-17: 15 connections from 3 peers (summarised-/24)',
    ]);
    const entries = await entriesOf(naclId);
    expect(entries.some((e) => e.ruleNumber === 100)).toBe(false);
    expect(entries.filter((e) => !e.egress).map((e) => [e.ruleNumber, e.cidr, e.portRange?.from])).toEqual([
      [110, '198.51.100.7/32', 22],
      [120, '203.0.113.0/24', 22],
    ]);
    const recordFile = readdirSync(path.dirname(planFile)).find((f) => f.startsWith('applied-')) as string;
    const record = JSON.parse(
      readFileSync(path.join(path.dirname(planFile), recordFile), 'utf8'),
    ) as AppliedRecord;
    expect(record.status).toBe('complete');
    expect(exact(record.securityGroups[0]?.before?.rules ?? [])).toEqual(exact(rulesBefore));

    // Act: roll back
    const back = await cli([
      'rollback',
      '--applied',
      path.join(path.dirname(planFile), recordFile),
      '--yes',
      '--quiet',
    ]);
    // Assess
    expect(back.code).toBe(EXIT_OK);
    expect(exact(await rulesOf(sgId))).toEqual(exact(rulesBefore));
    expect(await entriesOf(naclId)).toEqual(entriesBefore);
  });

  it('refuses an SG whose rules changed since the plan (exit 4) and says what changed', async () => {
    // Prepare
    const { sgId, planFile } = await planned();
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sgId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 8443, ToPort: 8443, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        ],
      }),
    );
    const before = await rulesOf(sgId);
    // Act
    const result = await cli(['apply', '--plan', planFile, '--yes', '--quiet']);
    // Assess
    expect(result.code).toBe(EXIT_DRIFT);
    expect(result.stdout).toContain(`refused-drift      ${sgId}`);
    expect(result.stdout).toContain('+ ingress/tcp/8443-8443/10.0.0.0/8');
    expect(exact(await rulesOf(sgId))).toEqual(exact(before));
  });

  it('changes nothing with --dry-run, and writes no record', async () => {
    // Prepare
    const { sgId, naclId, planFile } = await planned();
    const rules = exact(await rulesOf(sgId));
    const entries = await entriesOf(naclId);
    // Act
    const result = await cli(['apply', '--plan', planFile, '--dry-run', '--quiet']);
    // Assess
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('dry run (EC2 DryRun, nothing changed)');
    expect(result.stdout).toContain(`dry-run            ${sgId}`);
    expect(exact(await rulesOf(sgId))).toEqual(rules);
    expect(await entriesOf(naclId)).toEqual(entries);
    expect(readdirSync(path.dirname(planFile)).some((f) => f.startsWith('applied-'))).toBe(false);
  });
});
