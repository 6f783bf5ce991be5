/**
 * CloudTrail security-group events as LookupEvents returns them (the record as a JSON string in
 * `CloudTrailEvent`), built the way AWS writes them: `{ items: [...] }` lists, Authorize responses
 * with `securityGroupRuleSet`, ModifySecurityGroupRules in PascalCase. Shared by the tests and the
 * sample account generator (examples/sample).
 */
import type { CloudTrailLookupEvent } from '../shared/model/rule-change';

/** Who made a call, from where and with what. */
export interface EventCaller {
  /** userIdentity.arn. */
  readonly arn: string;
  /** The role behind an assumed-role session. */
  readonly sessionIssuer?: string;
  readonly invokedBy?: string;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly fromConsole?: boolean;
}

/** A rule entry of a call: protocol, ports, one peer (CIDR, sg-… or pl-…), and its sgr- id. */
export interface EventRule {
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly peer: string;
  readonly ruleId?: string;
}

export interface EventBase {
  readonly id: string;
  /** ISO 8601. */
  readonly time: string;
  readonly caller: EventCaller;
  readonly accountId?: string;
  readonly region?: string;
  readonly errorCode?: string;
}

export const CALLERS = {
  console: (arn: string, sourceIp: string, sessionIssuer?: string): EventCaller => ({
    arn,
    ...(sessionIssuer ? { sessionIssuer } : {}),
    sourceIp,
    userAgent: 'AWS Internal',
    fromConsole: true,
  }),
  cli: (arn: string, sourceIp: string): EventCaller => ({
    arn,
    sourceIp,
    userAgent: 'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8',
  }),
  terraform: (arn: string, sourceIp: string, sessionIssuer?: string): EventCaller => ({
    arn,
    ...(sessionIssuer ? { sessionIssuer } : {}),
    sourceIp,
    userAgent:
      'APN/1.0 HashiCorp/1.0 Terraform/1.6.6 (+https://www.terraform.io) terraform-provider-aws/5.31.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.49.6 (go1.21.5; linux; amd64)',
  }),
  cloudformation: (arn: string, sessionIssuer?: string): EventCaller => ({
    arn,
    ...(sessionIssuer ? { sessionIssuer } : {}),
    invokedBy: 'cloudformation.amazonaws.com',
    sourceIp: 'cloudformation.amazonaws.com',
    userAgent: 'cloudformation.amazonaws.com',
  }),
  sdk: (arn: string, sourceIp: string): EventCaller => ({
    arn,
    sourceIp,
    userAgent: 'aws-sdk-js/3.600.0 ua/2.0 os/linux#5.10 lang/js md/nodejs#20.12.0 api/ec2#3.600.0',
  }),
} as const;

function identity(caller: EventCaller, accountId: string): Record<string, unknown> {
  const assumed = caller.arn.includes(':assumed-role/');
  return {
    type: assumed ? 'AssumedRole' : caller.arn.endsWith(':root') ? 'Root' : 'IAMUser',
    principalId: `AIDA${caller.arn.length}EXAMPLE`,
    arn: caller.arn,
    accountId,
    ...(caller.invokedBy ? { invokedBy: caller.invokedBy } : {}),
    ...(caller.sessionIssuer
      ? {
          sessionContext: {
            sessionIssuer: {
              type: 'Role',
              arn: caller.sessionIssuer,
              accountId,
              userName: caller.sessionIssuer.split('/').pop(),
            },
            attributes: { mfaAuthenticated: 'false' },
          },
        }
      : {}),
  };
}

function lookupEvent(
  base: EventBase,
  eventName: string,
  record: Record<string, unknown>,
): CloudTrailLookupEvent {
  const accountId = base.accountId ?? '123456789012';
  const full = {
    eventVersion: '1.09',
    userIdentity: identity(base.caller, accountId),
    eventTime: base.time,
    eventSource: 'ec2.amazonaws.com',
    eventName,
    awsRegion: base.region ?? 'ap-northeast-2',
    sourceIPAddress: base.caller.sourceIp,
    userAgent: base.caller.userAgent,
    ...(base.errorCode ? { errorCode: base.errorCode, errorMessage: `${base.errorCode} (example)` } : {}),
    ...record,
    requestID: `req-${base.id}`,
    eventID: base.id,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: accountId,
    eventCategory: 'Management',
    ...(base.caller.fromConsole ? { sessionCredentialFromConsole: 'true' } : {}),
  };
  return {
    EventId: base.id,
    EventName: eventName,
    ReadOnly: 'false',
    EventTime: base.time,
    EventSource: 'ec2.amazonaws.com',
    Username: base.caller.arn.split('/').pop(),
    Resources: [],
    CloudTrailEvent: JSON.stringify(full),
  };
}

function isCidrV6(peer: string): boolean {
  return peer.includes(':');
}

/** The request's ipPermissions for the rules (one IpPermission per rule, as the console sends). */
function ipPermissions(rules: readonly EventRule[]): Record<string, unknown> {
  return {
    items: rules.map((rule) => ({
      ipProtocol: rule.protocol,
      ...(rule.fromPort !== undefined ? { fromPort: rule.fromPort } : {}),
      ...(rule.toPort !== undefined ? { toPort: rule.toPort } : {}),
      groups: rule.peer.startsWith('sg-') ? { items: [{ groupId: rule.peer }] } : {},
      ipRanges:
        !rule.peer.startsWith('sg-') && !rule.peer.startsWith('pl-') && !isCidrV6(rule.peer)
          ? { items: [{ cidrIp: rule.peer }] }
          : {},
      ipv6Ranges: isCidrV6(rule.peer) ? { items: [{ cidrIpv6: rule.peer }] } : {},
      prefixListIds: rule.peer.startsWith('pl-') ? { items: [{ prefixListId: rule.peer }] } : {},
    })),
  };
}

function peerFields(peer: string): Record<string, unknown> {
  if (peer.startsWith('sg-')) return { referencedGroupInfo: { groupId: peer } };
  if (peer.startsWith('pl-')) return { prefixListId: peer };
  return isCidrV6(peer) ? { cidrIpv6: peer } : { cidrIpv4: peer };
}

/**
 * An AuthorizeSecurityGroupIngress/Egress event; rules with a `ruleId` appear in the response's
 * securityGroupRuleSet (as AWS has written since 2021).
 */
export function authorizeEvent(
  base: EventBase,
  direction: 'ingress' | 'egress',
  groupId: string,
  rules: readonly EventRule[],
): CloudTrailLookupEvent {
  const name = direction === 'ingress' ? 'AuthorizeSecurityGroupIngress' : 'AuthorizeSecurityGroupEgress';
  const described = rules.filter((r) => r.ruleId !== undefined);
  return lookupEvent(base, name, {
    requestParameters: { groupId, ipPermissions: ipPermissions(rules) },
    responseElements: base.errorCode
      ? null
      : {
          requestId: `req-${base.id}`,
          _return: true,
          ...(described.length > 0
            ? {
                securityGroupRuleSet: {
                  items: described.map((rule) => ({
                    groupOwnerId: base.accountId ?? '123456789012',
                    groupId,
                    securityGroupRuleId: rule.ruleId,
                    isEgress: direction === 'egress',
                    ipProtocol: rule.protocol,
                    fromPort: rule.fromPort ?? -1,
                    toPort: rule.toPort ?? -1,
                    ...peerFields(rule.peer),
                  })),
                },
              }
            : {}),
        },
  });
}

/** A RevokeSecurityGroupIngress/Egress event, by spec or by rule ids. */
export function revokeEvent(
  base: EventBase,
  direction: 'ingress' | 'egress',
  groupId: string,
  rules: readonly EventRule[],
  ruleIds: readonly string[] = [],
): CloudTrailLookupEvent {
  const name = direction === 'ingress' ? 'RevokeSecurityGroupIngress' : 'RevokeSecurityGroupEgress';
  return lookupEvent(base, name, {
    requestParameters: {
      groupId,
      ...(rules.length > 0 ? { ipPermissions: ipPermissions(rules) } : {}),
      ...(ruleIds.length > 0
        ? { securityGroupRuleIds: { items: ruleIds.map((id) => ({ securityGroupRuleId: id })) } }
        : {}),
    },
    responseElements: { requestId: `req-${base.id}`, _return: true },
  });
}

/** A ModifySecurityGroupRules event setting one rule (by id) to a new spec. */
export function modifyEvent(base: EventBase, groupId: string, rule: EventRule & { ruleId: string }) {
  const cidr = rule.peer.startsWith('sg-')
    ? { ReferencedGroupId: rule.peer }
    : rule.peer.startsWith('pl-')
      ? { PrefixListId: rule.peer }
      : isCidrV6(rule.peer)
        ? { CidrIpv6: rule.peer }
        : { CidrIpv4: rule.peer };
  return lookupEvent(base, 'ModifySecurityGroupRules', {
    requestParameters: {
      ModifySecurityGroupRulesRequest: {
        GroupId: groupId,
        SecurityGroupRule: {
          SecurityGroupRuleId: rule.ruleId,
          SecurityGroupRule: {
            IpProtocol: rule.protocol,
            ...(rule.fromPort !== undefined ? { FromPort: rule.fromPort } : {}),
            ...(rule.toPort !== undefined ? { ToPort: rule.toPort } : {}),
            ...cidr,
          },
          tag: 1,
        },
      },
    },
    responseElements: { ModifySecurityGroupRulesResponse: { return: true } },
  });
}

/** A CreateSecurityGroup event (the SG gets the default allow-all egress rule). */
export function createGroupEvent(
  base: EventBase,
  groupId: string,
  groupName: string,
  vpcId: string,
): CloudTrailLookupEvent {
  return lookupEvent(base, 'CreateSecurityGroup', {
    requestParameters: { groupName, groupDescription: groupName, vpcId },
    responseElements: { requestId: `req-${base.id}`, _return: true, groupId },
  });
}
