/**
 * Discovery cost (part 4): Ec2InventorySource against mocked EC2 and RDS clients that serve the
 * synthetic account in pages (MaxResults / MaxRecords honoured, NextToken / Marker paging), with
 * the API calls counted per operation by the adapter (apiCalls) and checked against the mocks.
 */
import {
  DescribeFlowLogsCommand,
  DescribeInstancesCommand,
  DescribeManagedPrefixListsCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
  GetManagedPrefixListEntriesCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { Ec2InventorySource } from '../adapters/aws/ec2-inventory';
import { type SyntheticDocuments, syntheticAccount } from './synthetic-account';

const WINDOW = { start: 1_767_225_600, end: 1_767_225_600 + 7 * 86400 - 1 };
const PAGE_SIZE = 1000;

/** One page of `items` for a MaxResults/NextToken request. */
function page<T>(items: readonly T[], maxResults: number | undefined, token: string | undefined) {
  const from = token ? Number(token) : 0;
  const size = maxResults ?? items.length;
  const to = Math.min(items.length, from + size);
  return { items: items.slice(from, to), next: to < items.length ? String(to) : undefined };
}

/** DescribeSecurityGroupRules' view of the SGs: one rule per peer of every permission. */
function securityGroupRules(documents: SyntheticDocuments): SecurityGroupRule[] {
  const rules: SecurityGroupRule[] = [];
  for (const sg of documents.securityGroups.SecurityGroups) {
    for (const [isEgress, permissions] of [
      [false, sg.IpPermissions ?? []],
      [true, sg.IpPermissionsEgress ?? []],
    ] as const) {
      for (const p of permissions) {
        const base = {
          GroupId: sg.GroupId,
          IsEgress: isEgress,
          IpProtocol: p.IpProtocol,
          FromPort: p.FromPort,
          ToPort: p.ToPort,
        };
        const id = () => `sgr-${(rules.length + 1).toString(16).padStart(17, '0')}`;
        for (const r of p.IpRanges ?? [])
          rules.push({ ...base, SecurityGroupRuleId: id(), CidrIpv4: r.CidrIp });
        for (const r of p.Ipv6Ranges ?? [])
          rules.push({ ...base, SecurityGroupRuleId: id(), CidrIpv6: r.CidrIpv6 });
        for (const r of p.PrefixListIds ?? [])
          rules.push({ ...base, SecurityGroupRuleId: id(), PrefixListId: r.PrefixListId });
        for (const r of p.UserIdGroupPairs ?? [])
          rules.push({ ...base, SecurityGroupRuleId: id(), ReferencedGroupInfo: { GroupId: r.GroupId } });
      }
    }
  }
  return rules;
}

export interface DiscoveryRow {
  readonly securityGroups: number;
  readonly items: Readonly<Record<string, number>>;
  /** Calls the adapter counted, per operation. */
  readonly apiCalls: Readonly<Record<string, number>>;
  /** Calls the mocks received, per operation (must equal apiCalls). */
  readonly mockCalls: Readonly<Record<string, number>>;
  /** ceil(items / page size) per operation: the calls an O(pages) discovery makes. */
  readonly pages: Readonly<Record<string, number>>;
  readonly inventorySgs: number;
  readonly wallMs: number;
}

/** Discovers the synthetic account of `n` SGs through mocked EC2 and RDS clients. */
export async function discoveryCost(n: number): Promise<DiscoveryRow> {
  const { documents } = syntheticAccount({ securityGroups: n, window: WINDOW });
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const ec2 = new EC2Client({ region: 'ap-northeast-2', credentials });
  const rds = new RDSClient({ region: 'ap-northeast-2', credentials });
  const ec2Mock = mockClient(ec2);
  const rdsMock = mockClient(rds);
  const rules = securityGroupRules(documents);

  ec2Mock.on(DescribeVpcsCommand).callsFake((i) => {
    const p = page(documents.vpcs.Vpcs, i.MaxResults, i.NextToken);
    return { Vpcs: p.items, NextToken: p.next };
  });
  ec2Mock.on(DescribeSecurityGroupsCommand).callsFake((i) => {
    const p = page(documents.securityGroups.SecurityGroups, i.MaxResults, i.NextToken);
    return { SecurityGroups: p.items, NextToken: p.next };
  });
  ec2Mock.on(DescribeSecurityGroupRulesCommand).callsFake((i) => {
    const p = page(rules, i.MaxResults, i.NextToken);
    return { SecurityGroupRules: p.items, NextToken: p.next };
  });
  ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake((i) => {
    const p = page(documents.networkInterfaces.NetworkInterfaces, i.MaxResults, i.NextToken);
    return { NetworkInterfaces: p.items, NextToken: p.next };
  });
  ec2Mock.on(DescribeNetworkAclsCommand).callsFake((i) => {
    const p = page(documents.networkAcls.NetworkAcls, i.MaxResults, i.NextToken);
    return { NetworkAcls: p.items, NextToken: p.next };
  });
  ec2Mock.on(DescribeFlowLogsCommand).callsFake((i) => {
    const p = page(documents.flowLogs.FlowLogs, i.MaxResults, i.NextToken);
    return { FlowLogs: p.items, NextToken: p.next };
  });
  ec2Mock.on(DescribeManagedPrefixListsCommand).callsFake((i) => {
    const lists = documents.prefixLists.PrefixLists.map(({ Entries: _entries, ...list }) => list);
    const p = page(lists, i.MaxResults, i.NextToken);
    return { PrefixLists: p.items, NextToken: p.next };
  });
  ec2Mock.on(GetManagedPrefixListEntriesCommand).callsFake((i) => {
    const list = documents.prefixLists.PrefixLists.find((l) => l.PrefixListId === i.PrefixListId);
    const p = page(list?.Entries ?? [], i.MaxResults, i.NextToken);
    return { Entries: p.items, NextToken: p.next };
  });
  ec2Mock.on(DescribeInstancesCommand).callsFake((i) => {
    const p = page(documents.instances, i.MaxResults, i.NextToken);
    return { Reservations: [{ Instances: p.items.map((x) => ({ ...x })) }], NextToken: p.next };
  });
  rdsMock.on(DescribeDBInstancesCommand).callsFake((i) => {
    const p = page(documents.dbInstances, i.MaxRecords, i.Marker);
    return { DBInstances: p.items.map((x) => ({ ...x })), Marker: p.next };
  });

  const started = performance.now();
  const result = await new Ec2InventorySource({ ec2, rds, pageSize: PAGE_SIZE }).load({ vpcIds: [] });
  const wallMs = performance.now() - started;

  const items: Record<string, number> = {
    'ec2:DescribeVpcs': documents.vpcs.Vpcs.length,
    'ec2:DescribeSecurityGroups': documents.securityGroups.SecurityGroups.length,
    'ec2:DescribeSecurityGroupRules': rules.length,
    'ec2:DescribeNetworkInterfaces': documents.networkInterfaces.NetworkInterfaces.length,
    'ec2:DescribeNetworkAcls': documents.networkAcls.NetworkAcls.length,
    'ec2:DescribeFlowLogs': documents.flowLogs.FlowLogs.length,
    'ec2:DescribeManagedPrefixLists': documents.prefixLists.PrefixLists.length,
    'ec2:GetManagedPrefixListEntries': documents.prefixLists.PrefixLists.length,
    'ec2:DescribeInstances': documents.instances.length,
    'rds:DescribeDBInstances': documents.dbInstances.length,
  };
  // The API's page-size bounds (ec2-inventory.ts clamps MaxResults to them).
  const pageSizes: Record<string, number> = {
    'ec2:DescribeNetworkAcls': 100,
    'ec2:DescribeManagedPrefixLists': 100,
    'ec2:GetManagedPrefixListEntries': 1,
    'rds:DescribeDBInstances': 100,
  };
  const pages: Record<string, number> = {};
  for (const [op, count] of Object.entries(items)) {
    // One call per prefix list (its entries fit one page); at least one call per listing.
    pages[op] =
      op === 'ec2:GetManagedPrefixListEntries'
        ? count
        : Math.max(1, Math.ceil(count / (pageSizes[op] ?? PAGE_SIZE)));
  }
  const mockCalls: Record<string, number> = {
    'ec2:DescribeVpcs': ec2Mock.commandCalls(DescribeVpcsCommand).length,
    'ec2:DescribeSecurityGroups': ec2Mock.commandCalls(DescribeSecurityGroupsCommand).length,
    'ec2:DescribeSecurityGroupRules': ec2Mock.commandCalls(DescribeSecurityGroupRulesCommand).length,
    'ec2:DescribeNetworkInterfaces': ec2Mock.commandCalls(DescribeNetworkInterfacesCommand).length,
    'ec2:DescribeNetworkAcls': ec2Mock.commandCalls(DescribeNetworkAclsCommand).length,
    'ec2:DescribeFlowLogs': ec2Mock.commandCalls(DescribeFlowLogsCommand).length,
    'ec2:DescribeManagedPrefixLists': ec2Mock.commandCalls(DescribeManagedPrefixListsCommand).length,
    'ec2:GetManagedPrefixListEntries': ec2Mock.commandCalls(GetManagedPrefixListEntriesCommand).length,
    'ec2:DescribeInstances': ec2Mock.commandCalls(DescribeInstancesCommand).length,
    'rds:DescribeDBInstances': rdsMock.commandCalls(DescribeDBInstancesCommand).length,
  };
  return {
    securityGroups: n,
    items,
    apiCalls: result.apiCalls,
    mockCalls,
    pages,
    inventorySgs: result.inventory.securityGroups.length,
    wallMs: Math.round(wallMs),
  };
}
