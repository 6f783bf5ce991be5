/**
 * A deterministic synthetic account for the scale benchmarks: N security groups in three-tier
 * "apps" (load balancer → web → app → database) with SG references, world-open and private CIDR
 * rules, a few managed prefix lists, ~1.25 ENIs per SG (ELB, EC2, Lambda, RDS), one flow log per
 * VPC, and 50 FlowAggregate rows per SG (decided and undecided, accepted and rejected).
 *
 * The account is produced as AWS CLI JSON (the export directory's documents), so the same data
 * feeds the core (through shared/inventory/aws-json.ts) and the mocked EC2 API of the discovery
 * benchmark. Same options, same account: no clock, no Math.random.
 */
import { DEFAULT_LOG_FORMAT } from '../shared/flow/format';
import {
  buildInventory,
  type FlowLogsJson,
  flowLogsFromJson,
  type NetworkAclsJson,
  type NetworkInterfacesJson,
  networkAclsFromJson,
  networkInterfacesFromJson,
  type PrefixListsJson,
  prefixListsFromJson,
  type SecurityGroupsJson,
  securityGroupsFromJson,
  type VpcsJson,
  vpcsFromJson,
} from '../shared/inventory/aws-json';
import type {
  FlowAggregate,
  FlowAggregateSource,
  FlowQuery,
  FoldEvidence,
  TimeWindow,
} from '../shared/model/flow';
import type { Inventory } from '../shared/model/inventory';

export const ACCOUNT_ID = '111122223333';
export const REGION = 'ap-northeast-2';
/** Rows of the flow aggregate per security group. */
export const ROWS_PER_SG = 50;
const SGS_PER_VPC = 1000;
const TIER_PORTS = [443, 8080, 8443, 5432] as const;
const CUSTOM_LOG_FORMAT = `${DEFAULT_LOG_FORMAT} \${tcp-flags}`;

export interface SyntheticOptions {
  readonly securityGroups: number;
  /** @default ceil(securityGroups / 1000) */
  readonly vpcs?: number;
  /** Where the VPC flow logs deliver. @default 'cloud-watch-logs' */
  readonly destination?: 'cloud-watch-logs' | 's3';
  readonly window: TimeWindow;
}

export interface SyntheticDocuments {
  readonly vpcs: VpcsJson;
  readonly securityGroups: SecurityGroupsJson;
  readonly networkInterfaces: NetworkInterfacesJson;
  readonly flowLogs: FlowLogsJson;
  readonly networkAcls: NetworkAclsJson;
  readonly prefixLists: PrefixListsJson;
  /** DB instances behind the RDS ENIs, as rds:DescribeDBInstances lists them. */
  readonly dbInstances: readonly {
    DBInstanceIdentifier: string;
    DBSubnetGroup: { VpcId: string; Subnets: { SubnetIdentifier: string }[] };
    VpcSecurityGroups: { VpcSecurityGroupId: string; Status: string }[];
  }[];
  /** EC2 instances behind the instance ENIs, as ec2:DescribeInstances lists them. */
  readonly instances: readonly {
    InstanceId: string;
    VpcId: string;
    Tags: { Key: string; Value: string }[];
  }[];
}

export interface SyntheticAccount {
  readonly documents: SyntheticDocuments;
  readonly inventory: Inventory;
  readonly aggregates: FlowAggregate[];
  /** The log group (CloudWatch) or flow-log id (S3) of each VPC, with its flow-log fields. */
  readonly flowLogTargets: readonly {
    vpcId: string;
    flowLogId: string;
    logGroup: string;
    fields: string[];
  }[];
}

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const sgId = (i: number) => `sg-${hex(0x5000000 + i, 17)}`;
const eniId = (j: number) => `eni-${hex(0xe000000 + j, 17)}`;
const vpcId = (v: number) => `vpc-${hex(0xa00 + v, 17)}`;
const subnetId = (v: number, s: number) => `subnet-${hex(0xb000 + v * 4 + s, 17)}`;
const PREFIX_LISTS = ['pl-0a0000000000000a1', 'pl-0a0000000000000a2', 'pl-0a0000000000000a3'];

interface EniPlan {
  readonly id: string;
  readonly vpc: number;
  readonly ip: string;
  readonly sgIndexes: number[];
}

type Permission = SecurityGroupsJson['SecurityGroups'][number]['IpPermissions'] extends
  | (infer P)[]
  | undefined
  ? P
  : never;

const tcp = (port: number, peer: Partial<Permission>, to = port): Permission => ({
  IpProtocol: 'tcp',
  FromPort: port,
  ToPort: to,
  ...peer,
});
const cidr = (c: string) => ({ IpRanges: [{ CidrIp: c }] });
const sgRef = (id: string) => ({ UserIdGroupPairs: [{ GroupId: id, UserId: ACCOUNT_ID }] });

/**
 * Builds the account. 10,000 SGs take about a second and 500,000 aggregate rows.
 *
 * @example
 * const account = syntheticAccount({ securityGroups: 100, window: { start: T0, end: T0 + 604799 } });
 */
export function syntheticAccount(options: SyntheticOptions): SyntheticAccount {
  const n = options.securityGroups;
  const vpcCount = options.vpcs ?? Math.max(1, Math.ceil(n / SGS_PER_VPC));
  const random = prng(n * 7919 + vpcCount);
  const vpcOf = (i: number) => i % vpcCount;
  const tierOf = (i: number) => Math.floor(i / vpcCount) % 4;
  /** The SG of the tier before (or after) in the same app and VPC. */
  const sibling = (i: number, step: number) => i + step * vpcCount;

  // ENIs: one per SG, plus a second EC2 instance for every web tier SG.
  const enis: EniPlan[] = [];
  const primaryEni: EniPlan[] = [];
  const perVpc = new Array<number>(vpcCount).fill(0);
  const addEni = (i: number): EniPlan => {
    const v = vpcOf(i);
    const j = perVpc[v] ?? 0;
    perVpc[v] = j + 1;
    const s = j % 4;
    const ip = `10.${v}.${64 * s + Math.floor(j / 4 / 250)}.${4 + (Math.floor(j / 4) % 250)}`;
    const sgIndexes = [i];
    // Every tenth ENI also carries a shared "monitoring" SG: SG 0 of its VPC.
    if (j % 10 === 9 && v !== i) sgIndexes.push(v);
    const eni: EniPlan = { id: eniId(enis.length), vpc: v, ip, sgIndexes };
    enis.push(eni);
    return eni;
  };
  for (let i = 0; i < n; i += 1) {
    primaryEni.push(addEni(i));
    if (tierOf(i) === 1) addEni(i);
  }

  const securityGroups: SecurityGroupsJson['SecurityGroups'] = [];
  for (let i = 0; i < n; i += 1) {
    const v = vpcOf(i);
    const tier = tierOf(i);
    const before = sibling(i, -1);
    const ingress: Permission[] = [];
    const egress: Permission[] = [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }];
    switch (tier) {
      case 0:
        ingress.push(
          tcp(443, { IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] }),
          tcp(80, cidr('0.0.0.0/0')),
        );
        break;
      case 1:
        ingress.push(tcp(8080, before >= 0 ? sgRef(sgId(before)) : cidr(`10.${v}.0.0/16`)));
        ingress.push(tcp(22, { PrefixListIds: [{ PrefixListId: PREFIX_LISTS[i % 3] as string }] }));
        if (random() < 0.03) ingress.push(tcp(22, cidr('0.0.0.0/0')));
        break;
      case 2:
        ingress.push(tcp(8443, before >= 0 ? sgRef(sgId(before)) : cidr(`10.${v}.0.0/16`)));
        ingress.push(tcp(9000, cidr(`10.${v}.0.0/16`), 9100));
        ingress.push({ IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] });
        break;
      default:
        ingress.push(tcp(5432, before >= 0 ? sgRef(sgId(before)) : cidr(`10.${v}.0.0/16`)));
        ingress.push(tcp(5432, cidr(`10.${v}.0.0/16`)));
        if (random() < 0.05) ingress.push({ IpProtocol: '-1', ...sgRef(sgId(i)) });
        egress.splice(0, 1, tcp(443, cidr('0.0.0.0/0')));
    }
    // A few leftovers that carry nothing: the "unused" answers.
    if (random() < 0.2) ingress.push(tcp(3306, cidr(`10.${v}.${Math.floor(random() * 256)}.0/24`)));
    if (random() < 0.05) ingress.push(tcp(1024, cidr('0.0.0.0/0'), 65535));
    securityGroups.push({
      GroupId: sgId(i),
      GroupName: `app${Math.floor(i / vpcCount / 4)}-${['lb', 'web', 'app', 'db'][tier]}-${i}`,
      Description: `tier ${tier} of app ${Math.floor(i / vpcCount / 4)}`,
      VpcId: vpcId(v),
      OwnerId: ACCOUNT_ID,
      Tags: [{ Key: 'Name', Value: `sg-${i}` }],
      IpPermissions: ingress,
      IpPermissionsEgress: egress,
    });
  }

  const instances: { InstanceId: string; VpcId: string; Tags: { Key: string; Value: string }[] }[] = [];
  const dbInstances: SyntheticDocuments['dbInstances'][number][] = [];
  const networkInterfaces: NetworkInterfacesJson['NetworkInterfaces'] = enis.map((eni, j) => {
    const i = eni.sgIndexes[0] as number;
    const tier = tierOf(i);
    const s = j % 4;
    const base = {
      NetworkInterfaceId: eni.id,
      VpcId: vpcId(eni.vpc),
      SubnetId: subnetId(eni.vpc, s),
      AvailabilityZone: `${REGION}${'abcd'[s]}`,
      Status: 'in-use',
      PrivateIpAddress: eni.ip,
      PrivateIpAddresses: [{ PrivateIpAddress: eni.ip, Primary: true }],
      Groups: eni.sgIndexes.map((k) => ({ GroupId: sgId(k) })),
      TagSet: [],
    };
    if (tier === 0) {
      return {
        ...base,
        InterfaceType: 'interface',
        Description: `ELB app/lb-${i}/${hex(i, 16)}`,
        RequesterId: 'amazon-elb',
        RequesterManaged: true,
      };
    }
    if (tier === 2 && i % 2 === 0) {
      return {
        ...base,
        InterfaceType: 'lambda',
        Description: `AWS Lambda VPC ENI-fn-${i}-${hex(j, 8)}`,
        RequesterManaged: true,
      };
    }
    if (tier === 3) {
      dbInstances.push({
        DBInstanceIdentifier: `db-${i}`,
        DBSubnetGroup: { VpcId: vpcId(eni.vpc), Subnets: [{ SubnetIdentifier: subnetId(eni.vpc, s) }] },
        VpcSecurityGroups: [{ VpcSecurityGroupId: sgId(i), Status: 'active' }],
      });
      return {
        ...base,
        InterfaceType: 'interface',
        Description: 'RDSNetworkInterface',
        RequesterId: 'amazon-rds',
        RequesterManaged: true,
      };
    }
    const instanceId = `i-${hex(0x1000000 + j, 17)}`;
    instances.push({
      InstanceId: instanceId,
      VpcId: vpcId(eni.vpc),
      Tags: [{ Key: 'Name', Value: `host-${j}` }],
    });
    return {
      ...base,
      InterfaceType: 'interface',
      Description: '',
      RequesterManaged: false,
      Attachment: { InstanceId: instanceId, InstanceOwnerId: ACCOUNT_ID, Status: 'attached' },
    };
  });

  const flowLogTargets: { vpcId: string; flowLogId: string; logGroup: string; fields: string[] }[] = [];
  const flowLogs: FlowLogsJson['FlowLogs'] = [];
  for (let v = 0; v < vpcCount; v += 1) {
    const flowLogId = `fl-${hex(0xf00 + v, 17)}`;
    const logFormat = v % 2 === 0 ? DEFAULT_LOG_FORMAT : CUSTOM_LOG_FORMAT;
    const logGroup = `/vpc/flow-logs/${vpcId(v)}`;
    flowLogs.push({
      FlowLogId: flowLogId,
      ResourceId: vpcId(v),
      TrafficType: 'ALL',
      LogFormat: logFormat,
      FlowLogStatus: 'ACTIVE',
      DeliverLogsStatus: 'SUCCESS',
      MaxAggregationInterval: 60,
      CreationTime: new Date((options.window.start - 30 * 86400) * 1000).toISOString(),
      ...(options.destination === 's3'
        ? {
            LogDestinationType: 's3',
            LogDestination: `arn:aws:s3:::flow-logs-${ACCOUNT_ID}/vpc-${v}`,
            DestinationOptions: {
              FileFormat: 'plain-text',
              HiveCompatiblePartitions: false,
              PerHourPartition: true,
            },
          }
        : { LogDestinationType: 'cloud-watch-logs', LogGroupName: logGroup }),
    });
    flowLogTargets.push({
      vpcId: vpcId(v),
      flowLogId,
      logGroup,
      fields: logFormat.match(/\$\{([^}]+)\}/g)?.map((f) => f.slice(2, -1)) ?? [],
    });
  }

  const documents: SyntheticDocuments = {
    vpcs: {
      Vpcs: Array.from({ length: vpcCount }, (_, v) => ({
        VpcId: vpcId(v),
        CidrBlock: `10.${v}.0.0/16`,
        IsDefault: false,
        Tags: [{ Key: 'Name', Value: `vpc-${v}` }],
      })),
    },
    securityGroups: { SecurityGroups: securityGroups },
    networkInterfaces: { NetworkInterfaces: networkInterfaces },
    flowLogs: { FlowLogs: flowLogs },
    networkAcls: {
      NetworkAcls: Array.from({ length: vpcCount }, (_, v) => ({
        NetworkAclId: `acl-${hex(0xc00 + v, 17)}`,
        VpcId: vpcId(v),
        IsDefault: true,
        Associations: [0, 1, 2, 3].map((s) => ({ SubnetId: subnetId(v, s) })),
        Entries: [
          {
            RuleNumber: 100,
            Protocol: '-1',
            RuleAction: 'allow' as const,
            Egress: false,
            CidrBlock: '0.0.0.0/0',
          },
          {
            RuleNumber: 100,
            Protocol: '-1',
            RuleAction: 'allow' as const,
            Egress: true,
            CidrBlock: '0.0.0.0/0',
          },
        ],
      })),
    },
    prefixLists: {
      PrefixLists: PREFIX_LISTS.map((id, k) => ({
        PrefixListId: id,
        PrefixListName: `admin-${k}`,
        AddressFamily: 'IPv4',
        MaxEntries: 20,
        OwnerId: ACCOUNT_ID,
        Entries: Array.from({ length: 10 }, (_, e) => ({ Cidr: `192.0.${k * 16 + e}.0/24` })),
      })),
    },
    dbInstances,
    instances,
  };

  return {
    documents,
    inventory: inventoryOf(documents),
    aggregates: aggregatesOf(n, primaryEni, enis, tierOf, sibling, options.window, random),
    flowLogTargets,
  };
}

/** The core's inventory of the documents, through the offline runner's mappers. */
export function inventoryOf(documents: SyntheticDocuments): Inventory {
  return buildInventory({
    accountId: ACCOUNT_ID,
    region: REGION,
    vpcs: vpcsFromJson(documents.vpcs),
    securityGroups: securityGroupsFromJson(documents.securityGroups),
    networkInterfaces: networkInterfacesFromJson(documents.networkInterfaces),
    flowLogs: flowLogsFromJson(documents.flowLogs),
    networkAcls: networkAclsFromJson(documents.networkAcls),
    prefixLists: prefixListsFromJson(documents.prefixLists),
  });
}

/** 50 rows per SG on its primary ENI: served, initiated, east-west, rejected and DNS/ICMP traffic. */
function aggregatesOf(
  n: number,
  primaryEni: readonly EniPlan[],
  enis: readonly EniPlan[],
  tierOf: (i: number) => number,
  sibling: (i: number, step: number) => number,
  window: TimeWindow,
  random: () => number,
): FlowAggregate[] {
  const rows: FlowAggregate[] = [];
  const span = window.end - window.start;
  const publicIp = (k: number) => `${[203, 198, 52][k % 3]}.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
  for (let i = 0; i < n; i += 1) {
    const eni = primaryEni[i] as EniPlan;
    const tier = tierOf(i);
    const port = TIER_PORTS[tier] as number;
    const before = tier > 0 ? primaryEni[sibling(i, -1)] : undefined;
    const after = tier < 3 ? primaryEni[sibling(i, 1)] : undefined;
    for (let r = 0; r < ROWS_PER_SG; r += 1) {
      const records = 1 + Math.floor(random() * 200);
      const first = window.start + Math.floor(random() * span * 0.9);
      let clientAddr: string;
      let serverAddr: string;
      let serverPort: number | null;
      let protocol = 6;
      let action: 'ACCEPT' | 'REJECT' = 'ACCEPT';
      let undecided = false;
      if (r < 20) {
        // Served: clients of this tier's service.
        clientAddr = tier === 0 || !before ? publicIp(i * 64 + r) : before.ip;
        serverAddr = eni.ip;
        serverPort = tier === 0 && r >= 15 ? 80 : port;
        undecided = serverPort >= 1024 && r % 2 === 1;
      } else if (r < 30) {
        // Initiated: the next tier, or the internet for the last one.
        clientAddr = eni.ip;
        serverAddr = after ? after.ip : publicIp(0x340000 + r);
        serverPort = after ? (TIER_PORTS[tierOf(sibling(i, 1))] as number) : 443;
        undecided = serverPort >= 1024 && r % 2 === 0;
      } else if (r < 40) {
        // East-west noise on high ports: left for the core to decide.
        const peer = enis[(i * 31 + r * 17) % enis.length] as EniPlan;
        clientAddr = peer.ip === eni.ip ? publicIp(r) : peer.ip;
        serverAddr = eni.ip;
        serverPort = 9000 + ((i + r) % 150);
        undecided = true;
      } else if (r < 45) {
        action = 'REJECT';
        clientAddr = publicIp(0x100000 + i * 8 + r);
        serverAddr = eni.ip;
        serverPort = r % 2 === 0 ? 22 : 3389;
      } else if (r < 48) {
        protocol = 17;
        clientAddr = eni.ip;
        serverAddr = `10.${eni.vpc}.0.2`;
        serverPort = 53;
      } else {
        protocol = 1;
        clientAddr = before?.ip ?? publicIp(r);
        serverAddr = eni.ip;
        serverPort = null;
      }
      const evidence: FoldEvidence = undecided
        ? 'undecided'
        : serverPort !== null && serverPort >= 1024
          ? 'flags'
          : 'well-known';
      const clientPort = undecided ? 32768 + ((i * 131 + r * 7) % 28000) : null;
      const requestRecords = Math.ceil(records / 2);
      rows.push({
        eniId: eni.id,
        action,
        protocol,
        clientAddr,
        serverAddr,
        serverPort,
        clientPort,
        evidence,
        records,
        requestRecords,
        synRecords: protocol === 6 && evidence !== 'undecided' ? Math.ceil(records / 10) : 0,
        packets: records * 10,
        bytes: records * 4200,
        firstSeen: first,
        lastSeen: Math.min(window.end, first + Math.floor(random() * span * 0.1)),
        distinctClientPorts:
          serverPort === null ? 0 : clientPort !== null ? 1 : Math.min(records, 1 + (r % 7)),
      });
    }
  }
  return rows;
}

/**
 * The account's flow aggregates as a flow engine would return them for the ENIs asked for (every
 * row when none are named): no engine cost, for measuring the core alone.
 *
 * @example await runAudit({ inventory: account.inventory, flowSource: inMemoryFlowSource(account), … })
 */
export function inMemoryFlowSource(account: SyntheticAccount): FlowAggregateSource {
  return {
    async aggregate(query: FlowQuery) {
      const wanted = new Set(query.eniIds);
      const aggregates =
        wanted.size === 0 ? account.aggregates : account.aggregates.filter((a) => wanted.has(a.eniId));
      return {
        aggregates,
        stats: {
          engine: 'in-memory',
          sources: account.flowLogTargets.map((t) => t.flowLogId),
          files: 0,
          records: aggregates.reduce((sum, a) => sum + a.records, 0),
          nodataRecords: 0,
          skipdataRecords: 0,
          malformedRecords: 0,
          malformedSamples: [],
          queries: 1,
          bytesScanned: 0,
          enisWithRecords: [...new Set(aggregates.map((a) => a.eniId))].sort(),
          warnings: [],
        },
      };
    },
  };
}
