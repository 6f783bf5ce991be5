/**
 * Renders the declared account as the AWS CLI prints it (`aws ec2 describe-*` JSON), with the
 * CLI's shapes: permissions grouped per protocol and port range, v4/v6/SG/prefix-list peers in
 * separate lists, datetimes as `+00:00` ISO strings.
 */
import {
  ACCOUNT_ID,
  type EniSpec,
  eniIdOf,
  FLOW_LOGS,
  type FlowLogFormats,
  type FlowLogSpec,
  flowLogIdOf,
  formattedFlowLog,
  instanceIdOf,
  NETWORK_ACLS,
  NETWORK_INTERFACES,
  naclIdOf,
  PREFIX_LISTS,
  peerText,
  REGION,
  type RuleSpec,
  SECURITY_GROUPS,
  type SgSpec,
  SUBNETS,
  sgIdOf,
  sgSpec,
  subnetIdOf,
  subnetSpec,
  VPCS,
  vpcIdOf,
} from './account';
import { awsId, nameMac } from './ids';

type Json = Record<string, unknown>;

const AZ_IDS: Readonly<Record<string, string>> = { a: 'apne2-az1', c: 'apne2-az3' };

function tags(record: Readonly<Record<string, string>>): Json[] {
  return Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
}

/** The CLI's datetime text for an ISO instant: microseconds and `+00:00`. */
function cliTime(iso: string): string {
  const date = new Date(iso);
  return `${date.toISOString().slice(0, 19)}.${String(date.getUTCMilliseconds()).padStart(3, '0')}000+00:00`;
}

function isIpv6(text: string): boolean {
  return text.includes(':');
}

/** Groups rule entries into IpPermissions the way EC2 returns them (one per protocol + port range). */
function ipPermissions(rules: readonly RuleSpec[]): Json[] {
  const groups = new Map<string, { rule: RuleSpec; peers: RuleSpec[] }>();
  for (const rule of rules) {
    const key = `${rule.protocol}/${rule.fromPort ?? ''}/${rule.toPort ?? ''}`;
    const group = groups.get(key);
    if (group) group.peers.push(rule);
    else groups.set(key, { rule, peers: [rule] });
  }
  return [...groups.values()].map(({ rule, peers }) => {
    const withDescription = <T extends Json>(entry: T, description?: string): T =>
      description === undefined ? entry : { ...entry, Description: description };
    const permission: Json = {};
    if (rule.fromPort !== undefined) permission.FromPort = rule.fromPort;
    permission.IpProtocol = rule.protocol;
    permission.IpRanges = peers
      .filter((p) => p.peer.kind === 'cidr' && !isIpv6(peerText(p.peer)))
      .map((p) => withDescription({ CidrIp: peerText(p.peer) }, p.description));
    permission.Ipv6Ranges = peers
      .filter((p) => p.peer.kind === 'cidr' && isIpv6(peerText(p.peer)))
      .map((p) => withDescription({ CidrIpv6: peerText(p.peer) }, p.description));
    permission.PrefixListIds = peers
      .filter((p) => p.peer.kind === 'pl')
      .map((p) => withDescription({ PrefixListId: peerText(p.peer) }, p.description));
    if (rule.toPort !== undefined) permission.ToPort = rule.toPort;
    permission.UserIdGroupPairs = peers
      .filter((p) => p.peer.kind === 'sg')
      .map((p) => withDescription({ GroupId: peerText(p.peer), UserId: ACCOUNT_ID }, p.description));
    return permission;
  });
}

function securityGroupJson(sg: SgSpec): Json {
  return {
    Description: sg.description,
    GroupName: sg.name,
    IpPermissions: ipPermissions(sg.rules.filter((r) => r.direction === 'ingress')),
    OwnerId: ACCOUNT_ID,
    GroupId: sgIdOf(sg.key),
    IpPermissionsEgress: ipPermissions(sg.rules.filter((r) => r.direction === 'egress')),
    Tags: sg.isDefault ? [] : tags({ Name: sg.name, ...sg.tags }),
    VpcId: vpcIdOf(sg.vpc),
    SecurityGroupArn: `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:security-group/${sgIdOf(sg.key)}`,
  };
}

/** `aws ec2 describe-security-groups` */
export function describeSecurityGroups(): Json {
  return { SecurityGroups: SECURITY_GROUPS.map(securityGroupJson) };
}

function publicDnsName(ip: string): string {
  return `ec2-${ip.replaceAll('.', '-')}.${REGION}.compute.amazonaws.com`;
}

function privateDnsName(ip: string): string {
  return `ip-${ip.replaceAll('.', '-')}.${REGION}.compute.internal`;
}

function attachmentJson(eni: EniSpec): Json | undefined {
  if (eni.instance) {
    return {
      AttachTime: cliTime('2026-07-01T01:15:00.000Z'),
      AttachmentId: awsId('eni-attach', eni.key),
      DeleteOnTermination: (eni.instance.deviceIndex ?? 0) === 0,
      DeviceIndex: eni.instance.deviceIndex ?? 0,
      NetworkCardIndex: 0,
      InstanceId: instanceIdOf(eni.instance.name),
      InstanceOwnerId: ACCOUNT_ID,
      Status: 'attached',
    };
  }
  if (eni.serviceAttachmentOwner) {
    return {
      AttachmentId: awsId('ela-attach', eni.key),
      DeleteOnTermination: false,
      DeviceIndex: 1,
      InstanceOwnerId: eni.serviceAttachmentOwner,
      Status: 'attached',
    };
  }
  return undefined;
}

function networkInterfaceJson(eni: EniSpec): Json {
  const subnet = subnetSpec(eni.subnet);
  const association = eni.publicIp
    ? {
        IpOwnerId: eni.publicIpOwner ?? ACCOUNT_ID,
        PublicDnsName: publicDnsName(eni.publicIp),
        PublicIp: eni.publicIp,
      }
    : undefined;
  const json: Json = {};
  if (association) json.Association = association;
  const attachment = attachmentJson(eni);
  if (attachment) json.Attachment = attachment;
  Object.assign(json, {
    AvailabilityZone: `${REGION}${subnet.az}`,
    AvailabilityZoneId: AZ_IDS[subnet.az],
    Description: eni.description,
    Groups: eni.sgs.map((key) => ({ GroupName: sgSpec(key).name, GroupId: sgIdOf(key) })),
    InterfaceType: eni.interfaceType,
    Ipv6Addresses: (eni.ipv6 ?? []).map((address) => ({ Ipv6Address: address, IsPrimaryIpv6: false })),
    MacAddress: nameMac(eni.key),
    NetworkInterfaceId: eniIdOf(eni.key),
    OwnerId: ACCOUNT_ID,
    PrivateDnsName: privateDnsName(eni.ip),
    PrivateIpAddress: eni.ip,
    PrivateIpAddresses: [
      {
        ...(association ? { Association: association } : {}),
        Primary: true,
        PrivateDnsName: privateDnsName(eni.ip),
        PrivateIpAddress: eni.ip,
      },
      ...(eni.secondaryIps ?? []).map((ip) => ({
        Primary: false,
        PrivateDnsName: privateDnsName(ip),
        PrivateIpAddress: ip,
      })),
    ],
  });
  if (eni.ipv4Prefixes) json.Ipv4Prefixes = eni.ipv4Prefixes.map((prefix) => ({ Ipv4Prefix: prefix }));
  if (eni.requesterId) json.RequesterId = eni.requesterId;
  Object.assign(json, {
    RequesterManaged: eni.requesterManaged,
    SourceDestCheck: eni.sourceDestCheck ?? true,
    Status: eni.status,
    SubnetId: subnetIdOf(eni.subnet),
    TagSet: tags({ ...(eni.instance ? { Name: eni.instance.name } : {}), ...eni.tags }),
    VpcId: vpcIdOf(subnet.vpc),
  });
  return json;
}

/** `aws ec2 describe-network-interfaces` */
export function describeNetworkInterfaces(): Json {
  return { NetworkInterfaces: NETWORK_INTERFACES.map(networkInterfaceJson) };
}

/** The LogFormat string of a flow log (`${field} ${field} …`). */
export function logFormatString(log: FlowLogSpec): string {
  return log.fields.map((field) => `\${${field}}`).join(' ');
}

export function flowLogResourceId(log: FlowLogSpec): string {
  if (log.scope === 'vpc') return vpcIdOf(log.resource);
  if (log.scope === 'subnet') return subnetIdOf(log.resource);
  return eniIdOf(log.resource);
}

/** `aws ec2 describe-flow-logs` */
export function describeFlowLogs(formats: FlowLogFormats = 'as-designed'): Json {
  return {
    FlowLogs: FLOW_LOGS.map((designed) => formattedFlowLog(designed, formats)).map((log) => ({
      CreationTime: cliTime(log.created),
      DeliverLogsStatus: 'SUCCESS',
      FlowLogId: flowLogIdOf(log.key),
      FlowLogStatus: 'ACTIVE',
      ResourceId: flowLogResourceId(log),
      TrafficType: log.trafficType,
      LogDestinationType: 's3',
      LogDestination: `arn:aws:s3:::${log.bucket}${log.prefix ? `/${log.prefix}` : ''}`,
      LogFormat: logFormatString(log),
      Tags: tags({ Name: log.name }),
      MaxAggregationInterval: log.maxAggregationInterval,
      DestinationOptions: {
        FileFormat: log.fileFormat,
        HiveCompatiblePartitions: log.hivePartitions,
        PerHourPartition: log.perHourPartition,
      },
    })),
  };
}

/** `aws ec2 describe-vpcs` */
export function describeVpcs(): Json {
  return {
    Vpcs: VPCS.map((vpc) => {
      const json: Json = {
        CidrBlock: vpc.cidr,
        DhcpOptionsId: awsId('dopt', 'default'),
        State: 'available',
        VpcId: vpcIdOf(vpc.key),
        OwnerId: ACCOUNT_ID,
        InstanceTenancy: 'default',
      };
      if (vpc.ipv6Cidr) {
        json.Ipv6CidrBlockAssociationSet = [
          {
            AssociationId: awsId('vpc-cidr-assoc', `${vpc.key}-v6`),
            Ipv6CidrBlock: vpc.ipv6Cidr,
            Ipv6CidrBlockState: { State: 'associated' },
            NetworkBorderGroup: REGION,
            Ipv6Pool: 'Amazon',
          },
        ];
      }
      json.CidrBlockAssociationSet = [
        {
          AssociationId: awsId('vpc-cidr-assoc', vpc.key),
          CidrBlock: vpc.cidr,
          CidrBlockState: { State: 'associated' },
        },
      ];
      json.IsDefault = false;
      json.Tags = tags({ Name: vpc.name });
      return json;
    }),
  };
}

/** `aws ec2 describe-subnets` (not required by the export contract; helps name public/private tiers). */
export function describeSubnets(): Json {
  return {
    Subnets: SUBNETS.map((subnet) => ({
      AvailabilityZone: `${REGION}${subnet.az}`,
      AvailabilityZoneId: AZ_IDS[subnet.az],
      AvailableIpAddressCount: 240,
      CidrBlock: subnet.cidr,
      DefaultForAz: false,
      MapPublicIpOnLaunch: subnet.tier === 'public',
      State: 'available',
      SubnetId: subnetIdOf(subnet.key),
      VpcId: vpcIdOf(subnet.vpc),
      OwnerId: ACCOUNT_ID,
      AssignIpv6AddressOnCreation: false,
      Ipv6CidrBlockAssociationSet: subnet.ipv6Cidr
        ? [
            {
              AssociationId: awsId('subnet-cidr-assoc', subnet.key),
              Ipv6CidrBlock: subnet.ipv6Cidr,
              Ipv6CidrBlockState: { State: 'associated' },
            },
          ]
        : [],
      Tags: tags({ Name: subnet.name, tier: subnet.tier }),
      SubnetArn: `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:subnet/${subnetIdOf(subnet.key)}`,
    })),
  };
}

/** `aws ec2 describe-network-acls` */
export function describeNetworkAcls(): Json {
  return {
    NetworkAcls: NETWORK_ACLS.map((nacl) => ({
      Associations: nacl.subnets.map((subnet) => ({
        NetworkAclAssociationId: awsId('aclassoc', `${nacl.key}/${subnet}`),
        NetworkAclId: naclIdOf(nacl.key),
        SubnetId: subnetIdOf(subnet),
      })),
      Entries: nacl.entries.map((entry) => {
        const json: Json = {};
        if (isIpv6(entry.cidr)) json.Ipv6CidrBlock = entry.cidr;
        else json.CidrBlock = entry.cidr;
        json.Egress = entry.egress;
        if (entry.ports) json.PortRange = { From: entry.ports[0], To: entry.ports[1] };
        json.Protocol = entry.protocol;
        json.RuleAction = entry.action;
        json.RuleNumber = entry.ruleNumber;
        return json;
      }),
      IsDefault: nacl.isDefault,
      NetworkAclId: naclIdOf(nacl.key),
      Tags: nacl.isDefault ? [] : tags({ Name: `${nacl.key}-nacl` }),
      VpcId: vpcIdOf(nacl.vpc),
      OwnerId: ACCOUNT_ID,
    })),
  };
}

/** `aws ec2 describe-managed-prefix-lists`, each list's entries under `Entries`. */
export function describeManagedPrefixLists(): Json {
  return {
    PrefixLists: PREFIX_LISTS.map((list) => {
      const owner = list.awsManaged ? 'AWS' : ACCOUNT_ID;
      const json: Json = {
        PrefixListId: list.id,
        AddressFamily: 'IPv4',
        State: list.awsManaged ? 'create-complete' : 'modify-complete',
        PrefixListArn: `arn:aws:ec2:${REGION}:${list.awsManaged ? 'aws' : ACCOUNT_ID}:prefix-list/${list.id}`,
        PrefixListName: list.name,
        MaxEntries: list.maxEntries,
      };
      if (!list.awsManaged) json.Version = 3;
      json.Tags = list.awsManaged ? [] : tags({ Name: list.name });
      json.OwnerId = owner;
      json.Entries = list.entries.map((entry) =>
        entry.description === undefined
          ? { Cidr: entry.cidr }
          : { Cidr: entry.cidr, Description: entry.description },
      );
      return json;
    }),
  };
}
