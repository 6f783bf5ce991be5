/**
 * The EC2 side of a change plan (shared/remediation/apply.ts RemediationTarget): reads SG rules
 * (DescribeSecurityGroupRules: ids, descriptions, referenced groups' owners) and NACL entries,
 * and makes one add, revoke or NACL entry change per call — with `DryRun` first when asked, which
 * EC2 answers with DryRunOperation when the call would have been allowed.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkAclEntryCommand,
  DeleteNetworkAclEntryCommand,
  DescribeNetworkAclsCommand,
  type EC2Client,
  type IpPermission,
  type NetworkAclEntry,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  ReplaceNetworkAclEntryCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import type { RemediationTarget } from '../../shared/remediation/apply';
import type { NaclEntrySpec, NaclStep, SgStep } from '../../shared/remediation/model';
import { NACL_MAX_RULE_NUMBER } from '../../shared/remediation/nacl-plan';
import { type RuleSpec, specText, toIpPermission } from '../../shared/remediation/rule-spec';

/** The IAM actions the target calls (the apply function's policy grants exactly these). */
export const REMEDIATION_READ_ACTIONS = [
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSecurityGroupRules',
  'ec2:DescribeNetworkAcls',
] as const;
export const REMEDIATION_SG_WRITE_ACTIONS = [
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:AuthorizeSecurityGroupEgress',
  'ec2:RevokeSecurityGroupIngress',
  'ec2:RevokeSecurityGroupEgress',
] as const;
export const REMEDIATION_NACL_WRITE_ACTIONS = [
  'ec2:CreateNetworkAclEntry',
  'ec2:ReplaceNetworkAclEntry',
  'ec2:DeleteNetworkAclEntry',
] as const;

/** An EC2 call of a change failed; names the call and the SG or NACL. */
export class RemediationCallError extends Error {
  override readonly name = 'RemediationCallError';
  readonly code?: string;

  constructor(message: string, options: ErrorOptions & { code?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.code !== undefined) this.code = options.code;
  }
}

const FILTER_VALUES = 200;

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

function chunks<T>(values: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < values.length; start += size) result.push(values.slice(start, start + size));
  return result;
}

/**
 * A rule of DescribeSecurityGroupRules as a spec.
 *
 * @example specOfSecurityGroupRule({ IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '0.0.0.0/0', SecurityGroupRuleId: 'sgr-1' })
 */
export function specOfSecurityGroupRule(rule: SecurityGroupRule): RuleSpec | undefined {
  const peer = rule.CidrIpv4 ?? rule.CidrIpv6 ?? rule.PrefixListId ?? rule.ReferencedGroupInfo?.GroupId;
  if (peer === undefined || rule.IpProtocol === undefined) return undefined;
  const protocol = rule.IpProtocol.toLowerCase();
  const ported = ['tcp', 'udp', '6', '17', 'icmp', 'icmpv6', '1', '58'].includes(protocol);
  const hasPorts = ported && rule.FromPort !== undefined && rule.ToPort !== undefined;
  return {
    direction: rule.IsEgress ? 'egress' : 'ingress',
    protocol,
    ...(hasPorts ? { fromPort: rule.FromPort, toPort: rule.ToPort } : {}),
    peer,
    ...(rule.Description ? { description: rule.Description } : {}),
    ...(rule.SecurityGroupRuleId ? { securityGroupRuleId: rule.SecurityGroupRuleId } : {}),
    ...(rule.ReferencedGroupInfo?.UserId ? { peerOwnerId: rule.ReferencedGroupInfo.UserId } : {}),
  };
}

function naclEntryOf(entry: NetworkAclEntry): NaclEntrySpec | undefined {
  if (entry.RuleNumber === undefined || entry.RuleAction === undefined || entry.Protocol === undefined)
    return undefined;
  return {
    ruleNumber: entry.RuleNumber,
    egress: entry.Egress ?? false,
    protocol: entry.Protocol,
    action: entry.RuleAction === 'deny' ? 'deny' : 'allow',
    cidr: entry.CidrBlock ?? entry.Ipv6CidrBlock ?? '',
    ...(entry.PortRange?.From !== undefined && entry.PortRange.To !== undefined
      ? { portRange: { from: entry.PortRange.From, to: entry.PortRange.To } }
      : {}),
    ...(entry.IcmpTypeCode?.Type !== undefined && entry.IcmpTypeCode.Code !== undefined
      ? { icmp: { type: entry.IcmpTypeCode.Type, code: entry.IcmpTypeCode.Code } }
      : {}),
  };
}

export interface Ec2RemediationTargetOptions {
  /** Created by the runner with `retryMode: 'adaptive'`. */
  readonly ec2: EC2Client;
}

/**
 * RemediationTarget on EC2.
 *
 * @example const target = new Ec2RemediationTarget({ ec2: clients.ec2 });
 */
export class Ec2RemediationTarget implements RemediationTarget {
  private readonly ec2: EC2Client;

  constructor(options: Ec2RemediationTargetOptions) {
    this.ec2 = options.ec2;
  }

  async describeSecurityGroups(sgIds: readonly string[]): Promise<ReadonlyMap<string, readonly RuleSpec[]>> {
    const found = new Map<string, RuleSpec[]>();
    try {
      for (const ids of chunks([...new Set(sgIds)], FILTER_VALUES)) {
        const filter = [{ Name: 'group-id', Values: ids }];
        for await (const page of paginateDescribeSecurityGroups({ client: this.ec2 }, { Filters: filter })) {
          for (const group of page.SecurityGroups ?? []) if (group.GroupId) found.set(group.GroupId, []);
        }
        for await (const page of paginateDescribeSecurityGroupRules(
          { client: this.ec2 },
          { Filters: filter },
        )) {
          for (const rule of page.SecurityGroupRules ?? []) {
            const spec = specOfSecurityGroupRule(rule);
            if (spec !== undefined && rule.GroupId) found.get(rule.GroupId)?.push(spec);
          }
        }
      }
    } catch (error) {
      throw new RemediationCallError(`ec2:DescribeSecurityGroupRules failed: ${(error as Error).message}`, {
        cause: error,
        code: errorName(error),
      });
    }
    return found;
  }

  async describeNetworkAcls(
    naclIds: readonly string[],
  ): Promise<ReadonlyMap<string, readonly NaclEntrySpec[]>> {
    const found = new Map<string, NaclEntrySpec[]>();
    // One id per call: a missing NACL fails the call that names it (InvalidNetworkAclID.NotFound).
    for (const id of new Set(naclIds)) {
      try {
        const response = await this.ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [id] }));
        for (const acl of response.NetworkAcls ?? []) {
          if (acl.NetworkAclId !== id) continue;
          const entries = (acl.Entries ?? []).flatMap((e) => {
            const entry = naclEntryOf(e);
            return entry !== undefined && entry.ruleNumber <= NACL_MAX_RULE_NUMBER ? [entry] : [];
          });
          found.set(id, entries);
        }
      } catch (error) {
        if (errorName(error) === 'InvalidNetworkAclID.NotFound') continue;
        throw new RemediationCallError(`ec2:DescribeNetworkAcls ${id} failed: ${(error as Error).message}`, {
          cause: error,
          code: errorName(error),
        });
      }
    }
    return found;
  }

  async changeSecurityGroup(
    sgId: string,
    step: SgStep,
    options: { readonly dryRun: boolean },
  ): Promise<void> {
    const ingress = step.rule.direction === 'ingress';
    const what = `${step.action} ${specText(step.rule)} on ${sgId}`;
    await this.call(what, options.dryRun, async () => {
      if (step.action === 'authorize') {
        const input = {
          GroupId: sgId,
          DryRun: options.dryRun,
          IpPermissions: [toIpPermission(step.rule) as IpPermission],
        };
        if (ingress) await this.ec2.send(new AuthorizeSecurityGroupIngressCommand(input));
        else await this.ec2.send(new AuthorizeSecurityGroupEgressCommand(input));
        return;
      }
      const id = step.rule.securityGroupRuleId;
      const input = id
        ? { GroupId: sgId, DryRun: options.dryRun, SecurityGroupRuleIds: [id] }
        : {
            GroupId: sgId,
            DryRun: options.dryRun,
            IpPermissions: [toIpPermission(step.rule, { withDescription: false }) as IpPermission],
          };
      const response = ingress
        ? await this.ec2.send(new RevokeSecurityGroupIngressCommand(input))
        : await this.ec2.send(new RevokeSecurityGroupEgressCommand(input));
      // EC2 answers a revoke of a rule it does not hold with success and the rule as unknown.
      if (response.Return === false || (response.UnknownIpPermissions?.length ?? 0) > 0) {
        throw new RemediationCallError(`${what}: EC2 does not hold the rule`, {
          code: 'UnknownIpPermissions',
        });
      }
    });
  }

  async changeNetworkAcl(
    naclId: string,
    step: NaclStep,
    options: { readonly dryRun: boolean },
  ): Promise<void> {
    const entry = step.entry;
    const what = `${step.action} NACL entry ${entry.ruleNumber} (${entry.egress ? 'egress' : 'ingress'}) on ${naclId}`;
    await this.call(what, options.dryRun, async () => {
      const key = {
        NetworkAclId: naclId,
        RuleNumber: entry.ruleNumber,
        Egress: entry.egress,
        DryRun: options.dryRun,
      };
      if (step.action === 'delete') {
        await this.ec2.send(new DeleteNetworkAclEntryCommand(key));
        return;
      }
      const input = {
        ...key,
        Protocol: entry.protocol,
        RuleAction: entry.action,
        ...(entry.cidr.includes(':') ? { Ipv6CidrBlock: entry.cidr } : { CidrBlock: entry.cidr }),
        ...(entry.portRange ? { PortRange: { From: entry.portRange.from, To: entry.portRange.to } } : {}),
        ...(entry.icmp ? { IcmpTypeCode: { Type: entry.icmp.type, Code: entry.icmp.code } } : {}),
      };
      await this.ec2.send(
        step.action === 'create'
          ? new CreateNetworkAclEntryCommand(input)
          : new ReplaceNetworkAclEntryCommand(input),
      );
    });
  }

  /** One EC2 call; under DryRun, DryRunOperation is the answer "would have succeeded". */
  private async call(what: string, dryRun: boolean, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (dryRun && errorName(error) === 'DryRunOperation') return;
      if (error instanceof RemediationCallError) throw error;
      throw new RemediationCallError(`${what}: ${errorName(error)}: ${(error as Error).message}`, {
        cause: error,
        code: errorName(error),
      });
    }
  }
}
