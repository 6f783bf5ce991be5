import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DescribeFlowLogsCommand,
  DescribeInstancesCommand,
  DescribeManagedPrefixListsCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type NetworkInterface as Ec2NetworkInterface,
  type SecurityGroup as Ec2SecurityGroup,
  type FlowLog,
  GetManagedPrefixListEntriesCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { HttpRequest } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import { Ec2InventorySource, InventoryDiscoveryError } from '../../../adapters/aws/ec2-inventory';
import { readExportDirectory } from '../../../adapters/local/export-dir';
import { EXPORT_FILES } from '../../../shared/inventory/aws-json';
import type { Inventory } from '../../../shared/model/inventory';
import { classifyEni } from '../../../shared/resources/classify';

const ACCOUNT = '111122223333';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

function sg(id: string, overrides: Partial<Ec2SecurityGroup> = {}): Ec2SecurityGroup {
  return {
    GroupId: id,
    GroupName: id.replace('sg-', ''),
    Description: `group ${id}`,
    VpcId: 'vpc-1',
    OwnerId: ACCOUNT,
    IpPermissions: [],
    IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    ...overrides,
  };
}

function eni(id: string, overrides: Partial<Ec2NetworkInterface> = {}): Ec2NetworkInterface {
  return {
    NetworkInterfaceId: id,
    InterfaceType: 'interface',
    Description: '',
    VpcId: 'vpc-1',
    SubnetId: 'subnet-a',
    AvailabilityZone: 'ap-northeast-2a',
    PrivateIpAddress: '10.0.1.10',
    PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.10', Primary: true }],
    Groups: [{ GroupId: 'sg-web', GroupName: 'web' }],
    TagSet: [],
    ...overrides,
  };
}

const WEB = sg('sg-web', {
  IpPermissions: [
    {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      IpRanges: [{ CidrIp: '0.0.0.0/0' }],
      Ipv6Ranges: [{ CidrIpv6: '::/0' }],
      PrefixListIds: [{ PrefixListId: 'pl-office' }],
      UserIdGroupPairs: [{ GroupId: 'sg-db', UserId: ACCOUNT }],
    },
  ],
});
const DB = sg('sg-db', {
  IpPermissions: [
    {
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      UserIdGroupPairs: [{ GroupId: 'sg-web', UserId: ACCOUNT }],
    },
  ],
});
const RULES: SecurityGroupRule[] = [
  {
    SecurityGroupRuleId: 'sgr-1',
    GroupId: 'sg-web',
    IsEgress: false,
    IpProtocol: 'tcp',
    FromPort: 443,
    ToPort: 443,
    CidrIpv4: '0.0.0.0/0',
  },
  {
    SecurityGroupRuleId: 'sgr-2',
    GroupId: 'sg-web',
    IsEgress: false,
    IpProtocol: 'tcp',
    FromPort: 443,
    ToPort: 443,
    CidrIpv6: '::/0',
  },
  {
    SecurityGroupRuleId: 'sgr-3',
    GroupId: 'sg-web',
    IsEgress: false,
    IpProtocol: 'tcp',
    FromPort: 443,
    ToPort: 443,
    PrefixListId: 'pl-office',
  },
  {
    SecurityGroupRuleId: 'sgr-4',
    GroupId: 'sg-web',
    IsEgress: false,
    IpProtocol: 'tcp',
    FromPort: 443,
    ToPort: 443,
    ReferencedGroupInfo: { GroupId: 'sg-db', UserId: ACCOUNT },
  },
  {
    SecurityGroupRuleId: 'sgr-5',
    GroupId: 'sg-web',
    IsEgress: true,
    IpProtocol: '-1',
    FromPort: -1,
    ToPort: -1,
    CidrIpv4: '0.0.0.0/0',
  },
  {
    SecurityGroupRuleId: 'sgr-6',
    GroupId: 'sg-db',
    IsEgress: false,
    IpProtocol: 'tcp',
    FromPort: 5432,
    ToPort: 5432,
    ReferencedGroupInfo: { GroupId: 'sg-web' },
  },
];
const INSTANCE_ENI = eni('eni-web', {
  Attachment: {
    InstanceId: 'i-web',
    InstanceOwnerId: ACCOUNT,
    Status: 'attached',
    AttachTime: new Date('2024-01-01T00:00:00Z'),
  },
});
const RDS_ENI = eni('eni-rds', {
  Description: 'RDSNetworkInterface',
  RequesterId: 'amazon-rds',
  RequesterManaged: true,
  SubnetId: 'subnet-b',
  PrivateIpAddress: '10.0.2.20',
  PrivateIpAddresses: [{ PrivateIpAddress: '10.0.2.20', Primary: true }],
  Groups: [{ GroupId: 'sg-db', GroupName: 'db' }],
});
const VPC_FLOW_LOG: FlowLog = {
  FlowLogId: 'fl-vpc',
  ResourceId: 'vpc-1',
  TrafficType: 'ALL',
  LogDestinationType: 'cloud-watch-logs',
  LogGroupName: '/vpc/flow',
  LogFormat:
    '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}',
  CreationTime: new Date('2024-01-01T00:00:00Z'),
  FlowLogStatus: 'ACTIVE',
  MaxAggregationInterval: 60,
};
const SUBNET_FLOW_LOG: FlowLog = {
  FlowLogId: 'fl-subnet',
  ResourceId: 'subnet-b',
  TrafficType: 'ACCEPT',
  LogDestinationType: 's3',
  LogDestination: 'arn:aws:s3:::flow-bucket/vpc',
  LogFormat:
    '${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${tcp-flags} ${action}',
  CreationTime: new Date('2024-02-01T00:00:00Z'),
  DestinationOptions: { FileFormat: 'parquet', HiveCompatiblePartitions: true, PerHourPartition: false },
};
const OTHER_VPC_FLOW_LOG: FlowLog = { ...VPC_FLOW_LOG, FlowLogId: 'fl-other', ResourceId: 'vpc-2' };
const TGW_FLOW_LOG: FlowLog = { ...VPC_FLOW_LOG, FlowLogId: 'fl-tgw', ResourceId: 'tgw-1' };

function newClients() {
  const ec2 = new EC2Client({ region: 'ap-northeast-2', credentials: CREDENTIALS });
  const rds = new RDSClient({ region: 'ap-northeast-2', credentials: CREDENTIALS });
  const ec2Mock = mockClient(ec2);
  const rdsMock = mockClient(rds);
  // Unanswered listings are empty, as an account without such resources answers.
  ec2Mock.onAnyCommand().resolves({});
  rdsMock.onAnyCommand().resolves({});
  return { ec2, rds, ec2Mock, rdsMock };
}

/** A small account: one VPC, two SGs, an instance ENI and an RDS ENI, flow logs, a NACL, a prefix list. */
function mockAccount(clients: ReturnType<typeof newClients>): void {
  const { ec2Mock, rdsMock } = clients;
  ec2Mock.on(DescribeVpcsCommand).resolves({
    Vpcs: [{ VpcId: 'vpc-1', OwnerId: ACCOUNT, CidrBlock: '10.0.0.0/16', IsDefault: false }],
  });
  ec2Mock.on(DescribeSubnetsCommand).resolves({
    Subnets: [
      { SubnetId: 'subnet-a', VpcId: 'vpc-1' },
      { SubnetId: 'subnet-b', VpcId: 'vpc-1' },
    ],
  });
  ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [WEB, DB] });
  ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: RULES });
  ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [INSTANCE_ENI, RDS_ENI] });
  ec2Mock.on(DescribeFlowLogsCommand).resolves({
    FlowLogs: [VPC_FLOW_LOG, SUBNET_FLOW_LOG, OTHER_VPC_FLOW_LOG, TGW_FLOW_LOG],
  });
  ec2Mock.on(DescribeNetworkAclsCommand).resolves({
    NetworkAcls: [
      {
        NetworkAclId: 'acl-1',
        VpcId: 'vpc-1',
        IsDefault: true,
        Associations: [{ SubnetId: 'subnet-a' }],
        Entries: [
          { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' },
        ],
      },
    ],
  });
  ec2Mock.on(DescribeManagedPrefixListsCommand).resolves({
    PrefixLists: [
      {
        PrefixListId: 'pl-office',
        PrefixListName: 'office',
        AddressFamily: 'IPv4',
        MaxEntries: 5,
        OwnerId: ACCOUNT,
      },
    ],
  });
  ec2Mock.on(GetManagedPrefixListEntriesCommand).resolves({
    Entries: [{ Cidr: '203.0.113.0/24', Description: 'HQ' }],
  });
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [{ InstanceId: 'i-web', Tags: [{ Key: 'Name', Value: 'web-1' }] }] }],
  });
  rdsMock.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders-db',
        DBSubnetGroup: {
          VpcId: 'vpc-1',
          Subnets: [{ SubnetIdentifier: 'subnet-b' }, { SubnetIdentifier: 'subnet-c' }],
        },
        VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-db', Status: 'active' }],
        Endpoint: { Address: 'orders-db.abc.ap-northeast-2.rds.amazonaws.com', Port: 5432 },
      },
    ],
  });
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

describe('Ec2InventorySource.load', () => {
  it('maps every resource of the account and names instances and DB instances', async () => {
    // Prepare
    const clients = newClients();
    mockAccount(clients);
    const source = new Ec2InventorySource({ ec2: clients.ec2, rds: clients.rds });

    // Act
    const { inventory, warnings, apiCalls, names } = await source.load({ vpcIds: [] });

    // Assess
    expect(warnings).toEqual([]);
    expect(inventory.accountId).toBe(ACCOUNT);
    expect(inventory.region).toBe('ap-northeast-2');
    expect(inventory.vpcs.map((v) => v.id)).toEqual(['vpc-1']);
    const web = inventory.securityGroups.find((g) => g.id === 'sg-web');
    expect(web?.rules.map((r) => [r.id, r.securityGroupRuleId])).toEqual([
      ['sg-web/ingress/tcp/443-443/0.0.0.0/0', 'sgr-1'],
      ['sg-web/ingress/tcp/443-443/::/0', 'sgr-2'],
      ['sg-web/ingress/tcp/443-443/pl-office', 'sgr-3'],
      ['sg-web/ingress/tcp/443-443/sg-db', 'sgr-4'],
      ['sg-web/egress/-1/all/0.0.0.0/0', 'sgr-5'],
    ]);
    expect(inventory.securityGroups.find((g) => g.id === 'sg-db')?.rules[0]?.securityGroupRuleId).toBe(
      'sgr-6',
    );
    expect(inventory.networkInterfaces.map((e) => [e.id, e.sgIds])).toEqual([
      ['eni-web', ['sg-web']],
      ['eni-rds', ['sg-db']],
    ]);
    expect(inventory.flowLogs.map((f) => [f.id, f.scope, f.creationTime])).toEqual([
      ['fl-vpc', 'vpc', '2024-01-01T00:00:00.000Z'],
      ['fl-subnet', 'subnet', '2024-02-01T00:00:00.000Z'],
      ['fl-other', 'vpc', '2024-01-01T00:00:00.000Z'],
    ]);
    expect(inventory.flowLogs[1]?.fields).toEqual([
      'version',
      'interface-id',
      'srcaddr',
      'dstaddr',
      'srcport',
      'dstport',
      'protocol',
      'tcp-flags',
      'action',
    ]);
    expect(inventory.flowLogs[1]?.s3Options).toEqual({
      fileFormat: 'parquet',
      hivePartitions: true,
      perHour: false,
    });
    expect(inventory.networkAcls[0]?.subnetIds).toEqual(['subnet-a']);
    expect(inventory.prefixLists).toEqual([
      {
        id: 'pl-office',
        name: 'office',
        addressFamily: 'ipv4',
        maxEntries: 5,
        ownerId: ACCOUNT,
        entries: [{ cidr: '203.0.113.0/24', description: 'HQ' }],
      },
    ]);
    expect(names).toEqual(
      new Map([
        ['i-web', 'web-1'],
        ['eni-rds', 'orders-db'],
      ]),
    );
    expect(apiCalls).toEqual({
      'ec2:DescribeVpcs': 1,
      'ec2:DescribeSecurityGroups': 1,
      'ec2:DescribeNetworkInterfaces': 1,
      'ec2:DescribeNetworkAcls': 1,
      'ec2:DescribeFlowLogs': 1,
      'ec2:DescribeSecurityGroupRules': 1,
      'ec2:DescribeManagedPrefixLists': 1,
      'ec2:GetManagedPrefixListEntries': 1,
      'ec2:DescribeInstances': 1,
      'rds:DescribeDBInstances': 1,
    });
  });

  it("names the caller's account, not a shared VPC's owner, when given an STS client", async () => {
    // Prepare: the VPC is shared with the audited account by another (RAM), which owns it.
    const clients = newClients();
    mockAccount(clients);
    clients.ec2Mock.on(DescribeVpcsCommand).resolves({
      Vpcs: [{ VpcId: 'vpc-1', OwnerId: '999988887777', CidrBlock: '10.0.0.0/16', IsDefault: false }],
    });
    const sts = new STSClient({ region: 'ap-northeast-2', credentials: CREDENTIALS });
    mockClient(sts).on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
    const source = new Ec2InventorySource({ ec2: clients.ec2, rds: clients.rds, sts });

    // Act
    const { inventory, apiCalls } = await source.load({ vpcIds: [] });

    // Assess
    expect(inventory.accountId).toBe(ACCOUNT);
    expect(apiCalls['sts:GetCallerIdentity']).toBe(1);
  });

  it('raises InventoryDiscoveryError naming sts:GetCallerIdentity when the caller cannot be named', async () => {
    // Prepare
    const clients = newClients();
    mockAccount(clients);
    const sts = new STSClient({ region: 'ap-northeast-2', credentials: CREDENTIALS });
    mockClient(sts)
      .on(GetCallerIdentityCommand)
      .rejects(awsError('ExpiredToken', 'the security token expired'));
    const source = new Ec2InventorySource({ ec2: clients.ec2, sts });

    // Act
    const failure = source.load({ vpcIds: [] });

    // Assess
    await expect(failure).rejects.toThrow(InventoryDiscoveryError);
    await expect(failure).rejects.toMatchObject({ operation: 'sts:GetCallerIdentity', code: 'ExpiredToken' });
  });

  it('returns an empty inventory and skips enrichment calls for an empty account', async () => {
    // Prepare
    const clients = newClients();
    const source = new Ec2InventorySource({ ec2: clients.ec2, rds: clients.rds });

    // Act
    const { inventory, warnings, apiCalls, names } = await source.load({ vpcIds: [] });

    // Assess
    expect(inventory).toEqual({
      region: 'ap-northeast-2',
      vpcs: [],
      securityGroups: [],
      networkInterfaces: [],
      flowLogs: [],
      networkAcls: [],
      prefixLists: [],
    });
    expect(warnings).toEqual([]);
    expect(names?.size).toBe(0);
    expect(Object.keys(apiCalls).sort()).toEqual([
      'ec2:DescribeFlowLogs',
      'ec2:DescribeNetworkAcls',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeVpcs',
    ]);
    expect(clients.rdsMock.calls()).toHaveLength(0);
  });

  it('follows NextToken through every page of security groups and network interfaces', async () => {
    // Prepare
    const clients = newClients();
    const groups = Array.from({ length: 12 }, (_, i) => sg(`sg-${i}`));
    const sgPages = [
      { SecurityGroups: groups.slice(0, 5), NextToken: 'sg-page-2' },
      { SecurityGroups: groups.slice(5, 10), NextToken: 'sg-page-3' },
      { SecurityGroups: groups.slice(10) },
    ];
    const eniPages = [
      { NetworkInterfaces: [eni('eni-1', { Groups: [] })], NextToken: 'eni-page-2' },
      { NetworkInterfaces: [eni('eni-2', { Groups: [] })] },
    ];
    // The paginator reuses one input object: record each request's token when it is sent.
    const sgRequests: [number | undefined, string | undefined][] = [];
    clients.ec2Mock.on(DescribeSecurityGroupsCommand).callsFake((input) => {
      sgRequests.push([input.MaxResults, input.NextToken]);
      return sgPages[sgRequests.length - 1];
    });
    let eniRequests = 0;
    clients.ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(() => {
      eniRequests += 1;
      return eniPages[eniRequests - 1];
    });
    const source = new Ec2InventorySource({ ec2: clients.ec2, pageSize: 5 });

    // Act
    const { inventory, apiCalls } = await source.load({ vpcIds: [] });

    // Assess
    expect(inventory.securityGroups.map((g) => g.id)).toEqual(groups.map((g) => g.GroupId));
    expect(inventory.networkInterfaces.map((e) => e.id)).toEqual(['eni-1', 'eni-2']);
    expect(apiCalls['ec2:DescribeSecurityGroups']).toBe(3);
    expect(apiCalls['ec2:DescribeNetworkInterfaces']).toBe(2);
    expect(sgRequests).toEqual([
      [5, undefined],
      [5, 'sg-page-2'],
      [5, 'sg-page-3'],
    ]);
  });

  it('clamps the page size to each operation’s allowed range', async () => {
    // Prepare
    const clients = newClients();
    mockAccount(clients);
    const source = new Ec2InventorySource({ ec2: clients.ec2, rds: clients.rds, pageSize: 5000 });

    // Act
    await source.load({ vpcIds: [] });

    // Assess
    expect(clients.ec2Mock.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input.MaxResults).toBe(
      1000,
    );
    expect(clients.ec2Mock.commandCalls(DescribeNetworkAclsCommand)[0]?.args[0].input.MaxResults).toBe(100);
    expect(
      clients.ec2Mock.commandCalls(GetManagedPrefixListEntriesCommand)[0]?.args[0].input.MaxResults,
    ).toBe(100);
    expect(clients.rdsMock.commandCalls(DescribeDBInstancesCommand)[0]?.args[0].input.MaxRecords).toBe(100);
  });

  it('filters every listing by the scope’s VPCs and keeps only their flow logs', async () => {
    // Prepare
    const clients = newClients();
    mockAccount(clients);
    const source = new Ec2InventorySource({ ec2: clients.ec2, rds: clients.rds });

    // Act
    const { inventory, apiCalls } = await source.load({ vpcIds: ['vpc-1'] });

    // Assess
    const vpcFilter = [{ Name: 'vpc-id', Values: ['vpc-1'] }];
    for (const command of [
      DescribeVpcsCommand,
      DescribeSubnetsCommand,
      DescribeSecurityGroupsCommand,
      DescribeNetworkInterfacesCommand,
      DescribeNetworkAclsCommand,
    ] as const) {
      const inputs = clients.ec2Mock.commandCalls(command).map((c) => c.args[0].input);
      expect(inputs.map((i) => i.Filters)).toEqual([vpcFilter]);
    }
    expect(clients.ec2Mock.commandCalls(DescribeSecurityGroupRulesCommand)[0]?.args[0].input.Filters).toEqual(
      [{ Name: 'group-id', Values: ['sg-web', 'sg-db'] }],
    );
    expect(clients.ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toEqual(
      vpcFilter,
    );
    expect(inventory.flowLogs.map((f) => f.id)).toEqual(['fl-vpc', 'fl-subnet']);
    expect(apiCalls['ec2:DescribeSubnets']).toBe(1);
  });

  it('looks up by instance id the attached instances its VPC listing missed', async () => {
    // Prepare
    const clients = newClients();
    mockAccount(clients);
    clients.ec2Mock
      .on(DescribeInstancesCommand, { Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }] })
      .resolves({ Reservations: [] })
      .on(DescribeInstancesCommand, { Filters: [{ Name: 'instance-id', Values: ['i-web'] }] })
      .resolves({
        Reservations: [{ Instances: [{ InstanceId: 'i-web', Tags: [{ Key: 'Name', Value: 'web-1' }] }] }],
      });
    const source = new Ec2InventorySource({ ec2: clients.ec2 });

    // Act
    const { names, apiCalls } = await source.load({ vpcIds: ['vpc-1'] });

    // Assess
    expect(names?.get('i-web')).toBe('web-1');
    expect(apiCalls['ec2:DescribeInstances']).toBe(2);
  });

  it('chunks filter values to the filter limit', async () => {
    // Prepare
    const clients = newClients();
    const vpcIds = Array.from({ length: 450 }, (_, i) => `vpc-${i}`);
    const source = new Ec2InventorySource({ ec2: clients.ec2 });

    // Act
    const { apiCalls, warnings } = await source.load({ vpcIds });

    // Assess
    const sizes = clients.ec2Mock
      .commandCalls(DescribeSecurityGroupsCommand)
      .map((c) => c.args[0].input.Filters?.[0]?.Values?.length);
    expect(sizes).toEqual([200, 200, 50]);
    expect(apiCalls['ec2:DescribeVpcs']).toBe(3);
    expect(warnings[0]).toMatch(/^VPC not found in this account and region: vpc-0, vpc-1,/);
  });

  it('makes the same number of calls for 10 and for 500 security groups on one page', async () => {
    // Prepare
    const run = async (count: number) => {
      const clients = newClients();
      const groups = Array.from({ length: count }, (_, i) =>
        sg(`sg-${i}`, {
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, PrefixListIds: [{ PrefixListId: 'pl-admin' }] },
          ],
        }),
      );
      clients.ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: groups });
      clients.ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({
        NetworkInterfaces: groups.map((g, i) =>
          eni(`eni-${i}`, {
            Groups: [{ GroupId: g.GroupId }],
            Attachment: { InstanceId: `i-${i}` },
          }),
        ),
      });
      clients.ec2Mock.on(DescribeManagedPrefixListsCommand).resolves({
        PrefixLists: [
          { PrefixListId: 'pl-admin', PrefixListName: 'admin', AddressFamily: 'IPv4', MaxEntries: 2 },
        ],
      });
      clients.ec2Mock.on(DescribeInstancesCommand).resolves({
        Reservations: [
          {
            Instances: groups.map((_, i) => ({
              InstanceId: `i-${i}`,
              Tags: [{ Key: 'Name', Value: `host-${i}` }],
            })),
          },
        ],
      });
      const source = new Ec2InventorySource({ ec2: clients.ec2, rds: clients.rds });
      return (await source.load({ vpcIds: [] })).apiCalls;
    };

    // Act
    const few = await run(10);
    const many = await run(500);

    // Assess
    expect(many).toEqual(few);
    expect(Object.values(many).reduce((a, b) => a + b, 0)).toBe(9);
  });

  it('reports a denied rds:DescribeDBInstances and keeps the description-based classification', async () => {
    // Prepare
    const clients = newClients();
    mockAccount(clients);
    clients.rdsMock.on(DescribeDBInstancesCommand).rejects(
      new RDSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
        message: 'not authorized to perform: rds:DescribeDBInstances',
      }),
    );
    const source = new Ec2InventorySource({ ec2: clients.ec2, rds: clients.rds });

    // Act
    const { inventory, warnings, names } = await source.load({ vpcIds: [] });

    // Assess
    expect(warnings).toEqual([
      'rds:DescribeDBInstances denied: 1 RDS ENI(s) are classified from their description only',
    ]);
    expect(names?.has('eni-rds')).toBe(false);
    const rdsEni = inventory.networkInterfaces.find((e) => e.id === 'eni-rds');
    expect(rdsEni && classifyEni(rdsEni).type).toBe('rds');
  });

  it('reports denied enrichment calls on EC2 and still returns the inventory', async () => {
    // Prepare
    const clients = newClients();
    mockAccount(clients);
    clients.ec2Mock.on(DescribeInstancesCommand).rejects(awsError('UnauthorizedOperation'));
    clients.ec2Mock.on(DescribeSecurityGroupRulesCommand).rejects(awsError('UnauthorizedOperation'));
    const source = new Ec2InventorySource({ ec2: clients.ec2 });

    // Act
    const { inventory, warnings, names } = await source.load({ vpcIds: [] });

    // Assess
    expect(warnings).toEqual([
      'ec2:DescribeSecurityGroupRules denied: rule entries carry no sgr- ids',
      'ec2:DescribeInstances denied: EC2 instances are named by their id, not their Name tag',
    ]);
    expect(names?.size).toBe(0);
    expect(inventory.securityGroups.flatMap((g) => g.rules).some((r) => r.securityGroupRuleId)).toBe(false);
    expect(inventory.securityGroups).toHaveLength(2);
  });

  it('warns about referenced prefix lists it cannot see', async () => {
    // Prepare
    const clients = newClients();
    mockAccount(clients);
    clients.ec2Mock.on(DescribeManagedPrefixListsCommand).resolves({ PrefixLists: [] });
    const source = new Ec2InventorySource({ ec2: clients.ec2 });

    // Act
    const { inventory, warnings, apiCalls } = await source.load({ vpcIds: [] });

    // Assess
    expect(inventory.prefixLists).toEqual([]);
    expect(warnings).toEqual([
      'prefix lists referenced by rules but not visible to this account: pl-office; their rules cannot be matched to traffic',
    ]);
    expect(apiCalls['ec2:GetManagedPrefixListEntries']).toBeUndefined();
  });

  it('raises InventoryDiscoveryError naming the operation when a core listing fails', async () => {
    // Prepare
    const clients = newClients();
    mockAccount(clients);
    const failure = awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    clients.ec2Mock.on(DescribeNetworkInterfacesCommand).rejects(failure);
    const source = new Ec2InventorySource({ ec2: clients.ec2 });

    // Act
    const loading = source.load({ vpcIds: [] });

    // Assess
    await expect(loading).rejects.toBeInstanceOf(InventoryDiscoveryError);
    await expect(loading).rejects.toMatchObject({
      name: 'InventoryDiscoveryError',
      operation: 'ec2:DescribeNetworkInterfaces',
      code: 'UnauthorizedOperation',
      throttled: false,
      cause: failure,
      message:
        'ec2:DescribeNetworkInterfaces: UnauthorizedOperation: You are not authorized to perform this operation.',
    });
  });

  it('raises InventoryDiscoveryError when a response does not have the expected shape', async () => {
    // Prepare
    const clients = newClients();
    clients.ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        sg('sg-odd', {
          IpPermissions: [{ IpProtocol: 'carrier-pigeon', IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
        }),
      ],
    });
    const source = new Ec2InventorySource({ ec2: clients.ec2 });

    // Act
    const loading = source.load({ vpcIds: [] });

    // Assess
    await expect(loading).rejects.toMatchObject({
      name: 'InventoryDiscoveryError',
      operation: 'ec2:DescribeSecurityGroups',
    });
  });

  it('stops a listing whose NextToken never ends at the page bound', async () => {
    // Prepare
    const clients = newClients();
    let page = 0;
    clients.ec2Mock.on(DescribeVpcsCommand).callsFake(() => {
      page += 1;
      return { Vpcs: [], NextToken: `token-${page}` };
    });
    const source = new Ec2InventorySource({ ec2: clients.ec2, maxPages: 3 });

    // Act
    const loading = source.load({ vpcIds: [] });

    // Assess
    await expect(loading).rejects.toMatchObject({
      operation: 'ec2:DescribeVpcs',
      message: 'ec2:DescribeVpcs: more than 3 pages; giving up',
    });
  });
});

/**
 * An EC2 endpoint in memory (the real client, its retry middleware and XML parsing run): every
 * action answers an empty result except where `answer` says otherwise.
 */
function fakeEc2Endpoint(
  answer: (action: string, attempt: number) => { status: number; body: string } | undefined,
) {
  const actions: string[] = [];
  const handler = {
    handle: async (request: HttpRequest) => {
      const action = new URLSearchParams(String(request.body)).get('Action') ?? '';
      actions.push(action);
      const attempt = actions.filter((a) => a === action).length;
      const reply = answer(action, attempt) ?? {
        status: 200,
        body: `<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-${actions.length}</requestId></${action}Response>`,
      };
      return {
        response: {
          statusCode: reply.status,
          headers: { 'content-type': 'text/xml;charset=UTF-8' },
          body: Buffer.from(reply.body),
        },
      };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  return { actions, handler };
}

const THROTTLED = {
  status: 503,
  body: '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>throttled</RequestID></Response>',
};
const ONE_GROUP = {
  status: 200,
  body: `<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ok</requestId><securityGroupInfo><item><ownerId>${ACCOUNT}</ownerId><groupId>sg-web</groupId><groupName>web</groupName><groupDescription>web</groupDescription><vpcId>vpc-1</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissions><ipPermissionsEgress/></item></securityGroupInfo></DescribeSecurityGroupsResponse>`,
};

describe('Ec2InventorySource throttling', () => {
  it('retries a RequestLimitExceeded through the client’s retry strategy and then succeeds', async () => {
    // Prepare
    const endpoint = fakeEc2Endpoint((action, attempt) =>
      action === 'DescribeSecurityGroups' ? (attempt < 3 ? THROTTLED : ONE_GROUP) : undefined,
    );
    const ec2 = new EC2Client({
      region: 'ap-northeast-2',
      credentials: CREDENTIALS,
      requestHandler: endpoint.handler,
      retryStrategy: new ConfiguredRetryStrategy(4, 0),
    });
    const source = new Ec2InventorySource({ ec2 });

    // Act
    const { inventory, apiCalls } = await source.load({ vpcIds: [] });

    // Assess
    expect(inventory.securityGroups.map((g) => g.id)).toEqual(['sg-web']);
    expect(endpoint.actions.filter((a) => a === 'DescribeSecurityGroups')).toHaveLength(3);
    expect(apiCalls['ec2:DescribeSecurityGroups']).toBe(1);
  });

  it('raises a throttled InventoryDiscoveryError when the retries run out', async () => {
    // Prepare
    const endpoint = fakeEc2Endpoint((action) =>
      action === 'DescribeNetworkInterfaces' ? THROTTLED : undefined,
    );
    const ec2 = new EC2Client({
      region: 'ap-northeast-2',
      credentials: CREDENTIALS,
      requestHandler: endpoint.handler,
      retryStrategy: new ConfiguredRetryStrategy(3, 0),
    });
    const source = new Ec2InventorySource({ ec2 });

    // Act
    const loading = source.load({ vpcIds: [] });

    // Assess
    await expect(loading).rejects.toMatchObject({
      name: 'InventoryDiscoveryError',
      operation: 'ec2:DescribeNetworkInterfaces',
      code: 'RequestLimitExceeded',
      throttled: true,
    });
    expect(endpoint.actions.filter((a) => a === 'DescribeNetworkInterfaces')).toHaveLength(3);
  });
});

describe('Ec2InventorySource.exportDocuments', () => {
  let directory: string | undefined;

  afterEach(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
    directory = undefined;
  });

  it('gives the export directory files that read back into the same inventory', async () => {
    // Prepare
    const clients = newClients();
    mockAccount(clients);
    const source = new Ec2InventorySource({ ec2: clients.ec2, rds: clients.rds });
    const { inventory } = await source.load({ vpcIds: ['vpc-1'] });
    directory = mkdtempSync(path.join(tmpdir(), 'sg-audit-export-'));

    // Act
    const documents = await source.exportDocuments({ vpcIds: ['vpc-1'] });
    for (const [file, document] of Object.entries(documents)) {
      writeFileSync(path.join(directory, file), JSON.stringify(document, null, 2));
    }
    const readBack = readExportDirectory(directory);

    // Assess
    expect(Object.keys(documents).sort()).toEqual(Object.values(EXPORT_FILES).sort());
    expect(documents[EXPORT_FILES.flowLogs]).toMatchObject({
      FlowLogs: [
        { FlowLogId: 'fl-vpc', CreationTime: '2024-01-01T00:00:00.000Z' },
        { FlowLogId: 'fl-subnet' },
      ],
    });
    expect(documents[EXPORT_FILES.prefixLists]).toMatchObject({
      PrefixLists: [{ PrefixListId: 'pl-office', Entries: [{ Cidr: '203.0.113.0/24', Description: 'HQ' }] }],
    });
    expect(readBack).toEqual(withoutRuleIds(inventory));
  });
});
