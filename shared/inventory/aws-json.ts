/**
 * AWS EC2 JSON (as the AWS CLI and SDK v3 return it: PascalCase) → the core's inventory.
 *
 * The offline export directory holds exactly what `aws ec2 describe-*` writes; the live adapters
 * receive the same shapes from the SDK. Both go through these schemas, so a malformed export
 * fails with the file and the field path, and both runners see one inventory.
 */
import { z } from 'zod';
import { InputError } from '../errors';
import { DEFAULT_LOG_FORMAT, parseLogFormat } from '../flow/format';
import type {
  FlowLogConfig,
  FlowLogScope,
  FlowLogTrafficType,
  Inventory,
  NaclEntry,
  NetworkAcl,
  NetworkInterface,
  PrefixList,
  RuleEntry,
  RulePeer,
  SecurityGroup,
  Vpc,
} from '../model/inventory';
import { protocolNumber } from '../net/protocol';
import { peerText } from '../rules/peer';

/** The export directory's documents (design.md's input contract), by what they hold. */
export const EXPORT_FILES = {
  securityGroups: 'security-groups.json',
  networkInterfaces: 'network-interfaces.json',
  flowLogs: 'flow-logs.json',
  vpcs: 'vpcs.json',
  networkAcls: 'network-acls.json',
  prefixLists: 'prefix-lists.json',
} as const;

/** The folder under the export directory that holds flow-log objects. */
export const FLOW_LOG_FOLDER = 'flowlogs';

const tagList = z.array(z.object({ Key: z.string(), Value: z.string().optional() })).optional();

const ipPermission = z.object({
  IpProtocol: z.union([z.string(), z.number()]).transform((p) => String(p)),
  FromPort: z.number().int().optional(),
  ToPort: z.number().int().optional(),
  IpRanges: z.array(z.object({ CidrIp: z.string(), Description: z.string().optional() })).optional(),
  Ipv6Ranges: z.array(z.object({ CidrIpv6: z.string(), Description: z.string().optional() })).optional(),
  PrefixListIds: z
    .array(z.object({ PrefixListId: z.string(), Description: z.string().optional() }))
    .optional(),
  UserIdGroupPairs: z
    .array(
      z.object({
        GroupId: z.string().optional(),
        GroupName: z.string().optional(),
        UserId: z.string().optional(),
        VpcId: z.string().optional(),
        VpcPeeringConnectionId: z.string().optional(),
        Description: z.string().optional(),
      }),
    )
    .optional(),
});
type AwsIpPermission = z.infer<typeof ipPermission>;

export const securityGroupsFile = z.object({
  SecurityGroups: z.array(
    z.object({
      GroupId: z.string(),
      GroupName: z.string(),
      Description: z.string().optional(),
      VpcId: z.string().optional(),
      OwnerId: z.string().optional(),
      Tags: tagList,
      IpPermissions: z.array(ipPermission).optional(),
      IpPermissionsEgress: z.array(ipPermission).optional(),
    }),
  ),
});

export const networkInterfacesFile = z.object({
  NetworkInterfaces: z.array(
    z.object({
      NetworkInterfaceId: z.string(),
      InterfaceType: z.string().optional(),
      Description: z.string().optional(),
      RequesterId: z.string().optional(),
      RequesterManaged: z.boolean().optional(),
      Status: z.string().optional(),
      VpcId: z.string(),
      SubnetId: z.string(),
      AvailabilityZone: z.string().optional(),
      PrivateIpAddress: z.string().optional(),
      PrivateIpAddresses: z
        .array(
          z.object({
            PrivateIpAddress: z.string(),
            Primary: z.boolean().optional(),
            Association: z.object({ PublicIp: z.string().optional() }).optional(),
          }),
        )
        .optional(),
      Ipv6Addresses: z.array(z.object({ Ipv6Address: z.string() })).optional(),
      Ipv4Prefixes: z.array(z.object({ Ipv4Prefix: z.string() })).optional(),
      Ipv6Prefixes: z.array(z.object({ Ipv6Prefix: z.string() })).optional(),
      Groups: z.array(z.object({ GroupId: z.string(), GroupName: z.string().optional() })).optional(),
      Attachment: z
        .object({
          InstanceId: z.string().optional(),
          InstanceOwnerId: z.string().optional(),
          Status: z.string().optional(),
        })
        .optional(),
      Association: z.object({ PublicIp: z.string().optional() }).optional(),
      TagSet: tagList,
    }),
  ),
});

export const flowLogsFile = z.object({
  FlowLogs: z.array(
    z.object({
      FlowLogId: z.string(),
      ResourceId: z.string(),
      TrafficType: z.enum(['ACCEPT', 'REJECT', 'ALL']),
      LogDestinationType: z.string().optional(),
      LogDestination: z.string().optional(),
      LogGroupName: z.string().optional(),
      LogFormat: z.string().optional(),
      CreationTime: z.union([z.string(), z.number()]).optional(),
      FlowLogStatus: z.string().optional(),
      DeliverLogsStatus: z.string().optional(),
      MaxAggregationInterval: z.number().optional(),
      DestinationOptions: z
        .object({
          FileFormat: z.string().optional(),
          HiveCompatiblePartitions: z.boolean().optional(),
          PerHourPartition: z.boolean().optional(),
        })
        .optional(),
    }),
  ),
});

export const vpcsFile = z.object({
  Vpcs: z.array(
    z.object({
      VpcId: z.string(),
      CidrBlock: z.string().optional(),
      CidrBlockAssociationSet: z
        .array(
          z.object({
            CidrBlock: z.string(),
            CidrBlockState: z.object({ State: z.string().optional() }).optional(),
          }),
        )
        .optional(),
      Ipv6CidrBlockAssociationSet: z
        .array(
          z.object({
            Ipv6CidrBlock: z.string().optional(),
            Ipv6CidrBlockState: z.object({ State: z.string().optional() }).optional(),
          }),
        )
        .optional(),
      IsDefault: z.boolean().optional(),
      Tags: tagList,
    }),
  ),
});

export const networkAclsFile = z.object({
  NetworkAcls: z.array(
    z.object({
      NetworkAclId: z.string(),
      VpcId: z.string(),
      IsDefault: z.boolean().optional(),
      Associations: z.array(z.object({ SubnetId: z.string().optional() })).optional(),
      Entries: z
        .array(
          z.object({
            RuleNumber: z.number().int(),
            Protocol: z.union([z.string(), z.number()]).transform((p) => String(p)),
            RuleAction: z.enum(['allow', 'deny']),
            Egress: z.boolean(),
            CidrBlock: z.string().optional(),
            Ipv6CidrBlock: z.string().optional(),
            PortRange: z.object({ From: z.number().int(), To: z.number().int() }).optional(),
            IcmpTypeCode: z.object({ Type: z.number().int(), Code: z.number().int() }).optional(),
          }),
        )
        .optional(),
    }),
  ),
});

export const prefixListsFile = z.object({
  PrefixLists: z.array(
    z.object({
      PrefixListId: z.string(),
      PrefixListName: z.string().optional(),
      AddressFamily: z.string().optional(),
      MaxEntries: z.number().int().optional(),
      OwnerId: z.string().optional(),
      Entries: z.array(z.object({ Cidr: z.string(), Description: z.string().optional() })).optional(),
    }),
  ),
});

export type SecurityGroupsJson = z.infer<typeof securityGroupsFile>;
export type NetworkInterfacesJson = z.infer<typeof networkInterfacesFile>;
export type FlowLogsJson = z.infer<typeof flowLogsFile>;
export type VpcsJson = z.infer<typeof vpcsFile>;
export type NetworkAclsJson = z.infer<typeof networkAclsFile>;
export type PrefixListsJson = z.infer<typeof prefixListsFile>;

/**
 * Validates parsed JSON against one of the schemas above; the error names the file and the
 * first offending field path (e.g. `SecurityGroups[2].IpPermissions[0].FromPort`).
 *
 * @example
 * const sgs = validateAwsJson(securityGroupsFile, JSON.parse(text), 'security-groups.json');
 */
export function validateAwsJson<T extends z.ZodType>(schema: T, value: unknown, file: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? formatPath(issue.path) : undefined;
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problems)` : '';
  throw new InputError(`${issue?.message ?? 'invalid content'}${more}`, { file, field });
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    text += typeof part === 'number' ? `[${part}]` : text === '' ? String(part) : `.${String(part)}`;
  }
  return text || '(root)';
}

function tagsToRecord(
  tags: { Key: string; Value?: string | undefined }[] | undefined,
): Record<string, string> {
  const record: Record<string, string> = {};
  for (const tag of tags ?? []) record[tag.Key] = tag.Value ?? '';
  return record;
}

/** The rule entries (one per CIDR / SG reference / prefix list) of one IpPermission list. */
export function ruleEntriesOf(
  sgId: string,
  direction: 'ingress' | 'egress',
  permissions: readonly AwsIpPermission[],
  where: { file: string; field: string },
): RuleEntry[] {
  const entries: RuleEntry[] = [];
  const seen = new Map<string, number>();
  permissions.forEach((permission, index) => {
    const protocol = permission.IpProtocol.toLowerCase();
    let number: number | 'all';
    try {
      number = protocolNumber(protocol);
    } catch (error) {
      throw new InputError(
        `unknown IpProtocol '${permission.IpProtocol}'`,
        {
          file: where.file,
          field: `${where.field}[${index}].IpProtocol`,
        },
        { cause: error },
      );
    }
    const hasPortFields =
      number !== 'all' && permission.FromPort !== undefined && permission.ToPort !== undefined;
    const fromPort = hasPortFields ? permission.FromPort : undefined;
    const toPort = hasPortFields ? permission.ToPort : undefined;
    const peers: { peer: RulePeer; description?: string | undefined }[] = [
      ...(permission.IpRanges ?? []).map((r) => ({
        peer: { kind: 'cidr', cidr: r.CidrIp, family: 'ipv4' } as const,
        description: r.Description,
      })),
      ...(permission.Ipv6Ranges ?? []).map((r) => ({
        peer: { kind: 'cidr', cidr: r.CidrIpv6, family: 'ipv6' } as const,
        description: r.Description,
      })),
      ...(permission.PrefixListIds ?? []).map((r) => ({
        peer: { kind: 'prefix-list', prefixListId: r.PrefixListId } as const,
        description: r.Description,
      })),
      ...(permission.UserIdGroupPairs ?? []).map((pair, pairIndex) => {
        if (!pair.GroupId) {
          throw new InputError('a UserIdGroupPair without GroupId cannot be resolved', {
            file: where.file,
            field: `${where.field}[${index}].UserIdGroupPairs[${pairIndex}].GroupId`,
          });
        }
        const peer: RulePeer = {
          kind: 'sg',
          groupId: pair.GroupId,
          ...(pair.UserId ? { userId: pair.UserId } : {}),
          ...(pair.VpcId ? { vpcId: pair.VpcId } : {}),
          ...(pair.VpcPeeringConnectionId ? { vpcPeeringConnectionId: pair.VpcPeeringConnectionId } : {}),
        };
        return { peer, description: pair.Description };
      }),
    ];
    for (const { peer, description } of peers) {
      const ports = fromPort === undefined ? 'all' : `${fromPort}-${toPort}`;
      const baseId = `${sgId}/${direction}/${protocol}/${ports}/${peerText(peer)}`;
      const count = seen.get(baseId) ?? 0;
      seen.set(baseId, count + 1);
      entries.push({
        id: count === 0 ? baseId : `${baseId}#${count + 1}`,
        sgId,
        direction,
        protocol,
        protocolNumber: number,
        ...(fromPort !== undefined ? { fromPort, toPort } : {}),
        peer,
        ...(description ? { description } : {}),
      });
    }
  });
  return entries;
}

/** Maps `describe-security-groups` output. */
export function securityGroupsFromJson(
  json: SecurityGroupsJson,
  file = 'security-groups.json',
): SecurityGroup[] {
  return json.SecurityGroups.map((sg, index) => ({
    id: sg.GroupId,
    name: sg.GroupName,
    description: sg.Description ?? '',
    vpcId: sg.VpcId ?? '',
    ...(sg.OwnerId ? { ownerId: sg.OwnerId } : {}),
    tags: tagsToRecord(sg.Tags),
    rules: [
      ...ruleEntriesOf(sg.GroupId, 'ingress', sg.IpPermissions ?? [], {
        file,
        field: `SecurityGroups[${index}].IpPermissions`,
      }),
      ...ruleEntriesOf(sg.GroupId, 'egress', sg.IpPermissionsEgress ?? [], {
        file,
        field: `SecurityGroups[${index}].IpPermissionsEgress`,
      }),
    ],
  }));
}

/** Maps `describe-network-interfaces` output. */
export function networkInterfacesFromJson(json: NetworkInterfacesJson): NetworkInterface[] {
  return json.NetworkInterfaces.map((eni) => {
    const privateIps = eni.PrivateIpAddresses?.length
      ? [...eni.PrivateIpAddresses].sort((a, b) => Number(b.Primary ?? false) - Number(a.Primary ?? false))
      : eni.PrivateIpAddress
        ? [{ PrivateIpAddress: eni.PrivateIpAddress, Primary: true, Association: eni.Association }]
        : [];
    const publicIps = new Set<string>();
    if (eni.Association?.PublicIp) publicIps.add(eni.Association.PublicIp);
    for (const ip of privateIps) if (ip.Association?.PublicIp) publicIps.add(ip.Association.PublicIp);
    return {
      id: eni.NetworkInterfaceId,
      vpcId: eni.VpcId,
      subnetId: eni.SubnetId,
      ...(eni.AvailabilityZone ? { availabilityZone: eni.AvailabilityZone } : {}),
      interfaceType: eni.InterfaceType ?? 'interface',
      description: eni.Description ?? '',
      ...(eni.RequesterId ? { requesterId: eni.RequesterId } : {}),
      requesterManaged: eni.RequesterManaged ?? false,
      ...(eni.Status ? { status: eni.Status } : {}),
      ...(eni.Attachment
        ? {
            attachment: {
              ...(eni.Attachment.InstanceId ? { instanceId: eni.Attachment.InstanceId } : {}),
              ...(eni.Attachment.InstanceOwnerId ? { instanceOwnerId: eni.Attachment.InstanceOwnerId } : {}),
              ...(eni.Attachment.Status ? { status: eni.Attachment.Status } : {}),
            },
          }
        : {}),
      privateIpv4: privateIps.map((ip) => ip.PrivateIpAddress),
      ipv6: (eni.Ipv6Addresses ?? []).map((a) => a.Ipv6Address),
      publicIpv4: [...publicIps],
      sgIds: (eni.Groups ?? []).map((g) => g.GroupId),
      tags: tagsToRecord(eni.TagSet),
      ...(eni.Ipv4Prefixes?.length ? { ipv4Prefixes: eni.Ipv4Prefixes.map((p) => p.Ipv4Prefix) } : {}),
      ...(eni.Ipv6Prefixes?.length ? { ipv6Prefixes: eni.Ipv6Prefixes.map((p) => p.Ipv6Prefix) } : {}),
    };
  });
}

function flowLogScope(resourceId: string): FlowLogScope {
  if (resourceId.startsWith('vpc-')) return 'vpc';
  if (resourceId.startsWith('subnet-')) return 'subnet';
  if (resourceId.startsWith('eni-')) return 'eni';
  if (resourceId.startsWith('tgw-')) return 'transit-gateway';
  return 'other';
}

/**
 * Maps `describe-flow-logs` output; the LogFormat is parsed into field names. Transit Gateway flow
 * logs (ResourceId `tgw-…`/`tgw-attach-…`) are listed too, their TGW-only format left unparsed
 * (no fields): they record attachments, not ENIs, and every runner skips them with a note.
 */
export function flowLogsFromJson(json: FlowLogsJson, file = 'flow-logs.json'): FlowLogConfig[] {
  return json.FlowLogs.map((log, index) => {
    const logFormat = log.LogFormat ?? DEFAULT_LOG_FORMAT;
    let fields: string[];
    try {
      fields = flowLogScope(log.ResourceId) === 'transit-gateway' ? [] : parseLogFormat(logFormat);
    } catch (error) {
      throw new InputError(
        error instanceof Error ? error.message : String(error),
        {
          file,
          field: `FlowLogs[${index}].LogFormat`,
        },
        { cause: error },
      );
    }
    const creation =
      log.CreationTime === undefined
        ? undefined
        : typeof log.CreationTime === 'number'
          ? new Date(log.CreationTime * (log.CreationTime < 1e12 ? 1000 : 1)).toISOString()
          : log.CreationTime;
    if (creation !== undefined && Number.isNaN(Date.parse(creation))) {
      throw new InputError(`'${String(log.CreationTime)}' is not a date`, {
        file,
        field: `FlowLogs[${index}].CreationTime`,
      });
    }
    return {
      id: log.FlowLogId,
      resourceId: log.ResourceId,
      scope: flowLogScope(log.ResourceId),
      trafficType: log.TrafficType as FlowLogTrafficType,
      destinationType: log.LogDestinationType ?? (log.LogGroupName ? 'cloud-watch-logs' : 's3'),
      ...(log.LogGroupName ? { logGroupName: log.LogGroupName } : {}),
      ...(log.LogDestination ? { destination: log.LogDestination } : {}),
      fields,
      logFormat,
      ...(creation ? { creationTime: new Date(creation).toISOString() } : {}),
      ...(log.FlowLogStatus ? { status: log.FlowLogStatus } : {}),
      ...(log.DeliverLogsStatus ? { deliverStatus: log.DeliverLogsStatus } : {}),
      ...(log.MaxAggregationInterval !== undefined
        ? { maxAggregationInterval: log.MaxAggregationInterval }
        : {}),
      ...(log.DestinationOptions
        ? {
            s3Options: {
              ...(log.DestinationOptions.FileFormat ? { fileFormat: log.DestinationOptions.FileFormat } : {}),
              ...(log.DestinationOptions.HiveCompatiblePartitions !== undefined
                ? { hivePartitions: log.DestinationOptions.HiveCompatiblePartitions }
                : {}),
              ...(log.DestinationOptions.PerHourPartition !== undefined
                ? { perHour: log.DestinationOptions.PerHourPartition }
                : {}),
            },
          }
        : {}),
    };
  });
}

/** Maps `describe-vpcs` output (associated CIDR blocks only). */
export function vpcsFromJson(json: VpcsJson): Vpc[] {
  return json.Vpcs.map((vpc) => {
    const cidrs = new Set<string>();
    if (vpc.CidrBlock) cidrs.add(vpc.CidrBlock);
    for (const a of vpc.CidrBlockAssociationSet ?? []) {
      if (!a.CidrBlockState?.State || a.CidrBlockState.State === 'associated') cidrs.add(a.CidrBlock);
    }
    const ipv6 = (vpc.Ipv6CidrBlockAssociationSet ?? [])
      .filter(
        (a) =>
          a.Ipv6CidrBlock && (!a.Ipv6CidrBlockState?.State || a.Ipv6CidrBlockState.State === 'associated'),
      )
      .map((a) => a.Ipv6CidrBlock as string);
    return {
      id: vpc.VpcId,
      cidrs: [...cidrs],
      ipv6Cidrs: ipv6,
      isDefault: vpc.IsDefault ?? false,
      tags: tagsToRecord(vpc.Tags),
    };
  });
}

/** Maps `describe-network-acls` output. */
export function networkAclsFromJson(json: NetworkAclsJson): NetworkAcl[] {
  return json.NetworkAcls.map((acl) => ({
    id: acl.NetworkAclId,
    vpcId: acl.VpcId,
    isDefault: acl.IsDefault ?? false,
    subnetIds: (acl.Associations ?? []).flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
    entries: (acl.Entries ?? []).map(
      (e): NaclEntry => ({
        ruleNumber: e.RuleNumber,
        egress: e.Egress,
        protocol: e.Protocol,
        action: e.RuleAction,
        cidr: e.CidrBlock ?? e.Ipv6CidrBlock ?? '',
        ...(e.PortRange ? { portRange: { from: e.PortRange.From, to: e.PortRange.To } } : {}),
        ...(e.IcmpTypeCode ? { icmp: { type: e.IcmpTypeCode.Type, code: e.IcmpTypeCode.Code } } : {}),
      }),
    ),
  }));
}

/** Maps `describe-managed-prefix-lists` output with each list's entries under `Entries`. */
export function prefixListsFromJson(json: PrefixListsJson): PrefixList[] {
  return json.PrefixLists.map((pl) => {
    const entries = (pl.Entries ?? []).map((e) => ({
      cidr: e.Cidr,
      ...(e.Description ? { description: e.Description } : {}),
    }));
    return {
      id: pl.PrefixListId,
      name: pl.PrefixListName ?? pl.PrefixListId,
      addressFamily: pl.AddressFamily?.toLowerCase() === 'ipv6' ? 'ipv6' : 'ipv4',
      maxEntries: pl.MaxEntries ?? entries.length,
      ...(pl.OwnerId ? { ownerId: pl.OwnerId } : {}),
      entries,
    };
  });
}

/** The account and region an inventory belongs to, inferred from owners and availability zones. */
export function inferAccountAndRegion(
  securityGroups: readonly SecurityGroup[],
  networkInterfaces: readonly NetworkInterface[],
): { accountId?: string; region?: string } {
  const accountId = securityGroups.find((sg) => sg.ownerId)?.ownerId;
  const az = networkInterfaces.find((eni) => eni.availabilityZone)?.availabilityZone;
  const region = az?.replace(/[a-z]$/, '');
  return { ...(accountId ? { accountId } : {}), ...(region ? { region } : {}) };
}

/** Assembles an Inventory from the mapped parts. */
export function buildInventory(
  parts: Omit<Inventory, 'accountId' | 'region'> & { accountId?: string; region?: string },
): Inventory {
  const inferred = inferAccountAndRegion(parts.securityGroups, parts.networkInterfaces);
  return {
    ...parts,
    ...((parts.accountId ?? inferred.accountId) ? { accountId: parts.accountId ?? inferred.accountId } : {}),
    ...((parts.region ?? inferred.region) ? { region: parts.region ?? inferred.region } : {}),
  };
}
