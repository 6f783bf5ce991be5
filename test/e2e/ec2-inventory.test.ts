import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateManagedPrefixListCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateDBInstanceCommand, CreateDBSubnetGroupCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Ec2InventorySource } from '../../adapters/aws/ec2-inventory';
import { readExportDirectory } from '../../adapters/local/export-dir';
import { DEFAULT_FIELDS } from '../../shared/flow/format';
import type { Inventory } from '../../shared/model/inventory';
import { type MotoServer, motoClientConfig, startMoto } from '../support/moto';
import { destroyClients, motoAccountClients } from '../support/moto-account';
import { ec2Seeder, required } from '../support/moto-ec2';

const S3_FLOW_FORMAT =
  '${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags} ${pkt-srcaddr}';

/** The ids of the account built in moto. */
interface Account {
  vpcA: string;
  vpcB: string;
  subnetA1: string;
  subnetA2: string;
  web: string;
  app: string;
  db: string;
  other: string;
  prefixList: string;
  appEni: string;
  rdsEni: string;
  otherEni: string;
  instanceId: string;
  instanceEni: string;
  cwFlowLog: string;
  s3FlowLog: string;
  vpcBFlowLog: string;
}

/**
 * Two VPCs (A with IPv6), SGs referencing each other, IPv6 and prefix-list rules, ENIs, an
 * instance with a Name tag, a DB instance, and flow logs to CloudWatch Logs and to S3.
 */
async function buildAccount(endpoint: string): Promise<Account> {
  const clients = motoAccountClients(endpoint);
  const { ec2, logs, s3 } = clients;
  const rds = new RDSClient(motoClientConfig(endpoint));
  try {
    const seed = ec2Seeder(ec2);
    const vpcA = await seed.vpc('10.10.0.0/16', { ipv6: true });
    const vpcB = await seed.vpc('10.20.0.0/16', { ipv6: false });
    const subnetA1 = await seed.subnet(vpcA, '10.10.1.0/24', 'ap-northeast-2a');
    const subnetA2 = await seed.subnet(vpcA, '10.10.2.0/24', 'ap-northeast-2c');
    const subnetB1 = await seed.subnet(vpcB, '10.20.1.0/24', 'ap-northeast-2a');
    const web = await seed.securityGroup(vpcA, 'web', 'web tier');
    const app = await seed.securityGroup(vpcA, 'app', 'app tier');
    const db = await seed.securityGroup(vpcA, 'db', 'db tier');
    const other = await seed.securityGroup(vpcB, 'other', 'other tier');
    const prefixList = required(
      (
        await ec2.send(
          new CreateManagedPrefixListCommand({
            PrefixListName: 'office',
            AddressFamily: 'IPv4',
            MaxEntries: 5,
            Entries: [
              { Cidr: '203.0.113.0/24', Description: 'HQ' },
              { Cidr: '198.51.100.0/24', Description: 'branch' },
            ],
          }),
        )
      ).PrefixList?.PrefixListId,
      'a prefix list id',
    );
    await seed.ingress(web, [
      {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        IpRanges: [{ CidrIp: '0.0.0.0/0' }],
        Ipv6Ranges: [{ CidrIpv6: '::/0', Description: 'public v6' }],
      },
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, PrefixListIds: [{ PrefixListId: prefixList }] },
    ]);
    await seed.ingress(app, [
      { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: web }] },
    ]);
    await seed.ingress(db, [
      { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: app }] },
    ]);
    await seed.ingress(other, [
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.20.0.0/16' }] },
    ]);
    const appEni = await seed.networkInterface(subnetA1, [app], { description: 'app server' });
    const rdsEni = await seed.networkInterface(subnetA2, [db], { description: 'RDSNetworkInterface' });
    const otherEni = await seed.networkInterface(subnetB1, [other], { description: 'other vpc' });
    const imageId = required(
      (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId,
      'an image',
    );
    const instance = required(
      (
        await ec2.send(
          new RunInstancesCommand({
            ImageId: imageId,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnetA1,
            SecurityGroupIds: [web],
            TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web-1' }] }],
          }),
        )
      ).Instances?.[0],
      'an instance',
    );
    await rds.send(
      new CreateDBSubnetGroupCommand({
        DBSubnetGroupName: 'orders',
        DBSubnetGroupDescription: 'orders DB',
        SubnetIds: [subnetA1, subnetA2],
      }),
    );
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'orders-db',
        DBInstanceClass: 'db.t3.micro',
        Engine: 'postgres',
        MasterUsername: 'orders',
        MasterUserPassword: 'not-a-secret-1',
        AllocatedStorage: 20,
        DBSubnetGroupName: 'orders',
        VpcSecurityGroupIds: [db],
      }),
    );
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/vpc/flow-a' }));
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'flow-logs-a',
        CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-2' },
      }),
    );
    const cwFlowLog = await seed.flowLog({
      ResourceType: 'VPC',
      ResourceIds: [vpcA],
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: '/vpc/flow-a',
      DeliverLogsPermissionArn: 'arn:aws:iam::123456789012:role/flow-logs',
    });
    // moto rejects a key prefix in the S3 destination, so the bucket itself is the destination.
    const s3FlowLog = await seed.flowLog({
      ResourceType: 'Subnet',
      ResourceIds: [subnetA1],
      TrafficType: 'ACCEPT',
      LogDestinationType: 's3',
      LogDestination: 'arn:aws:s3:::flow-logs-a',
      LogFormat: S3_FLOW_FORMAT,
    });
    const vpcBFlowLog = await seed.flowLog({
      ResourceType: 'VPC',
      ResourceIds: [vpcB],
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: '/vpc/flow-a',
      DeliverLogsPermissionArn: 'arn:aws:iam::123456789012:role/flow-logs',
    });
    return {
      vpcA,
      vpcB,
      subnetA1,
      subnetA2,
      web,
      app,
      db,
      other,
      prefixList,
      appEni,
      rdsEni,
      otherEni,
      instanceId: required(instance.InstanceId, 'an instance id'),
      instanceEni: required(instance.NetworkInterfaces?.[0]?.NetworkInterfaceId, 'the instance ENI'),
      cwFlowLog,
      s3FlowLog,
      vpcBFlowLog,
    };
  } finally {
    destroyClients(clients);
    rds.destroy();
  }
}

/** The same inventory without `sgr-` ids, which the export directory's CLI format does not carry. */
function withoutRuleIds(inventory: Inventory): Inventory {
  return {
    ...inventory,
    securityGroups: inventory.securityGroups.map((group) => ({
      ...group,
      rules: group.rules.map(({ securityGroupRuleId: _id, ...entry }) => entry),
    })),
  };
}

describe('Ec2InventorySource against moto', () => {
  let moto: MotoServer;
  let account: Account;
  let ec2: EC2Client;
  let rds: RDSClient;
  let directory: string | undefined;

  beforeAll(async () => {
    moto = await startMoto();
    account = await buildAccount(moto.endpoint);
    ec2 = new EC2Client(motoClientConfig(moto.endpoint));
    rds = new RDSClient(motoClientConfig(moto.endpoint));
  });

  afterAll(async () => {
    ec2?.destroy();
    rds?.destroy();
    await moto?.stop();
  });

  afterEach(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
    directory = undefined;
  });

  it('discovers one VPC’s security groups, rules, ENIs, flow logs and prefix lists', async () => {
    // Prepare
    const source = new Ec2InventorySource({ ec2, rds });

    // Act
    const { inventory, warnings, apiCalls, names } = await source.load({ vpcIds: [account.vpcA] });

    // Assess
    expect(warnings).toEqual([]);
    expect(inventory.region).toBe('ap-northeast-2');
    expect(inventory.vpcs).toHaveLength(1);
    expect(inventory.vpcs[0]).toMatchObject({ id: account.vpcA, cidrs: ['10.10.0.0/16'] });
    expect(inventory.vpcs[0]?.ipv6Cidrs).toHaveLength(1);
    const byId = new Map(inventory.securityGroups.map((g) => [g.id, g]));
    expect(inventory.securityGroups.every((g) => g.vpcId === account.vpcA)).toBe(true);
    expect([...byId.keys()]).toEqual(expect.arrayContaining([account.web, account.app, account.db]));
    expect(byId.has(account.other)).toBe(false);
    const webIngress = byId.get(account.web)?.rules.filter((r) => r.direction === 'ingress') ?? [];
    expect(webIngress.map((r) => [r.protocol, r.fromPort, r.toPort, r.peer])).toEqual([
      ['tcp', 443, 443, { kind: 'cidr', cidr: '0.0.0.0/0', family: 'ipv4' }],
      ['tcp', 443, 443, { kind: 'cidr', cidr: '::/0', family: 'ipv6' }],
      ['tcp', 22, 22, { kind: 'prefix-list', prefixListId: account.prefixList }],
    ]);
    expect(webIngress[1]?.description).toBe('public v6');
    const appIngress = byId.get(account.app)?.rules.find((r) => r.direction === 'ingress');
    expect(appIngress?.peer).toMatchObject({ kind: 'sg', groupId: account.web });
    const allRules = inventory.securityGroups.flatMap((g) => g.rules);
    expect(allRules.every((r) => /^sgr-/.test(r.securityGroupRuleId ?? ''))).toBe(true);
    expect(new Set(allRules.map((r) => r.securityGroupRuleId)).size).toBe(allRules.length);

    const enis = new Map(inventory.networkInterfaces.map((e) => [e.id, e]));
    expect(enis.get(account.appEni)?.sgIds).toEqual([account.app]);
    expect(enis.get(account.rdsEni)?.sgIds).toEqual([account.db]);
    expect(enis.get(account.instanceEni)).toMatchObject({
      sgIds: [account.web],
      attachment: { instanceId: account.instanceId },
    });
    expect(enis.has(account.otherEni)).toBe(false);
    expect(names?.get(account.instanceId)).toBe('web-1');
    expect(names?.get(account.rdsEni)).toBe('orders-db');

    const flowLogs = new Map(inventory.flowLogs.map((f) => [f.id, f]));
    expect([...flowLogs.keys()].sort()).toEqual([account.cwFlowLog, account.s3FlowLog].sort());
    expect(flowLogs.get(account.cwFlowLog)).toMatchObject({
      resourceId: account.vpcA,
      scope: 'vpc',
      trafficType: 'ALL',
      destinationType: 'cloud-watch-logs',
      logGroupName: '/vpc/flow-a',
      fields: DEFAULT_FIELDS,
    });
    expect(flowLogs.get(account.s3FlowLog)).toMatchObject({
      resourceId: account.subnetA1,
      scope: 'subnet',
      trafficType: 'ACCEPT',
      destinationType: 's3',
      destination: 'arn:aws:s3:::flow-logs-a',
      logFormat: S3_FLOW_FORMAT,
    });
    expect(flowLogs.get(account.s3FlowLog)?.fields).toContain('pkt-srcaddr');
    expect(flowLogs.get(account.cwFlowLog)?.creationTime).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);

    expect(inventory.prefixLists).toEqual([
      {
        id: account.prefixList,
        name: 'office',
        addressFamily: 'ipv4',
        maxEntries: 5,
        ownerId: '123456789012',
        entries: expect.arrayContaining([
          { cidr: '203.0.113.0/24', description: 'HQ' },
          { cidr: '198.51.100.0/24', description: 'branch' },
        ]),
      },
    ]);
    expect(inventory.networkAcls.every((acl) => acl.vpcId === account.vpcA)).toBe(true);
    expect(inventory.networkAcls.length).toBeGreaterThan(0);
    expect(apiCalls).toMatchObject({
      'ec2:DescribeSecurityGroups': 1,
      'ec2:DescribeSecurityGroupRules': 1,
      'ec2:DescribeNetworkInterfaces': 1,
      'ec2:GetManagedPrefixListEntries': 1,
      'rds:DescribeDBInstances': 1,
    });
  });

  it('discovers every VPC of the region when the scope is empty', async () => {
    // Prepare
    const source = new Ec2InventorySource({ ec2 });

    // Act
    const { inventory } = await source.load({ vpcIds: [] });

    // Assess
    const vpcIds = inventory.vpcs.map((v) => v.id);
    expect(vpcIds).toEqual(expect.arrayContaining([account.vpcA, account.vpcB]));
    expect(inventory.securityGroups.map((g) => g.id)).toContain(account.other);
    expect(inventory.networkInterfaces.map((e) => e.id)).toContain(account.otherEni);
    expect(inventory.flowLogs.map((f) => f.id)).toEqual(
      expect.arrayContaining([account.cwFlowLog, account.s3FlowLog, account.vpcBFlowLog]),
    );
  });

  it('writes an export directory that reads back into the live inventory', async () => {
    // Prepare
    const source = new Ec2InventorySource({ ec2, rds });
    directory = mkdtempSync(path.join(tmpdir(), 'sg-audit-e2e-export-'));

    // Act
    const { result, documents } = await source.discover({ vpcIds: [account.vpcA] });
    for (const [file, document] of Object.entries(documents)) {
      writeFileSync(path.join(directory, file), `${JSON.stringify(document, null, 2)}\n`);
    }
    const readBack = readExportDirectory(directory);

    // Assess
    expect(readBack).toEqual(withoutRuleIds(result.inventory));
    expect(readBack.securityGroups.length).toBeGreaterThanOrEqual(3);
    expect(readBack.flowLogs).toHaveLength(2);
  });
});
