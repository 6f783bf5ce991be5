/**
 * CloudTrail security-group events read into what attribution needs: which SG, which rule
 * entries (by spec and by `sgr-` id) a call added, changed or removed, and who made it, from
 * where and through what. The record's JSON (LookupEvents' `CloudTrailEvent`, or a trail's S3
 * object) nests lists as `{ items: [...] }` in camelCase, and ModifySecurityGroupRules' request in
 * PascalCase; both are read leniently, and a record that says nothing usable is left out.
 */
import type { Direction } from '../model/inventory';
import type { ChangeChannel, CloudTrailLookupEvent } from '../model/rule-change';
import { formatCidr, tryParseCidr } from '../net/ip';
import { isIcmp, protocolHasPorts, protocolNumber } from '../net/protocol';

/** The identity, origin and means of a call. */
export interface ChangeActor {
  readonly principalArn?: string;
  readonly sessionIssuer?: string;
  readonly invokedBy?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly channel: ChangeChannel;
}

/** One rule entry a call names: its spec (direction unknown for ModifySecurityGroupRules) and id. */
export interface EventRuleEntry {
  readonly direction?: Direction;
  /** Protocol, ports and peer, normalised: see `specKey`. */
  readonly spec: string;
  readonly ruleId?: string;
}

export type SgChangeKind = 'authorize' | 'modify' | 'revoke' | 'create-group';

/** A security-group change event, parsed. */
export interface SgChangeEvent {
  readonly eventId: string;
  readonly eventName: string;
  readonly kind: SgChangeKind;
  /** Epoch seconds. */
  readonly time: number;
  readonly groupId?: string;
  readonly actor: ChangeActor;
  /** The call failed (errorCode): it changed nothing. */
  readonly failed: boolean;
  readonly entries: readonly EventRuleEntry[];
  /** Rule ids named without a spec (RevokeSecurityGroup* by id). */
  readonly ruleIds: readonly string[];
}

const EVENT_KINDS: Readonly<Record<string, { kind: SgChangeKind; direction?: Direction }>> = {
  AuthorizeSecurityGroupIngress: { kind: 'authorize', direction: 'ingress' },
  AuthorizeSecurityGroupEgress: { kind: 'authorize', direction: 'egress' },
  RevokeSecurityGroupIngress: { kind: 'revoke', direction: 'ingress' },
  RevokeSecurityGroupEgress: { kind: 'revoke', direction: 'egress' },
  ModifySecurityGroupRules: { kind: 'modify' },
  CreateSecurityGroup: { kind: 'create-group' },
};

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field by name, whatever its case (CloudTrail mixes camelCase and PascalCase). */
function field(object: unknown, name: string): unknown {
  if (!isObject(object)) return undefined;
  if (name in object) return object[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(object)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function text(object: unknown, name: string): string | undefined {
  const value = field(object, name);
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function integer(object: unknown, name: string): number | undefined {
  const value = field(object, name);
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isInteger(n) ? n : undefined;
}

/** A CloudTrail list: `{ items: [...] }`, a bare array, or one object. */
function items(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  const inner = field(value, 'items');
  if (Array.isArray(inner)) return inner;
  return isObject(value) && Object.keys(value).length > 0 && inner === undefined ? [value] : [];
}

/**
 * The spec of a rule entry as one comparable string: protocol number, ports (tcp/udp range, ICMP
 * type/code with -1 for all), peer (canonical CIDR, group id or prefix-list id). Undefined when
 * the protocol or the CIDR does not parse.
 *
 * @example specKey('tcp', 22, 22, '0.0.0.0/0') // '6|22-22|0.0.0.0/0'
 */
export function specKey(
  protocol: string,
  fromPort: number | undefined,
  toPort: number | undefined,
  peer: string,
): string | undefined {
  let number: number | 'all';
  try {
    number = protocolNumber(protocol);
  } catch {
    return undefined;
  }
  const peerKey = canonicalPeer(peer);
  if (peerKey === undefined) return undefined;
  let ports = '';
  if (number !== 'all' && protocolHasPorts(number)) {
    // A tcp/udp entry without ports (or with -1) admits every port.
    const from = fromPort === undefined || fromPort < 0 ? 0 : fromPort;
    const to = toPort === undefined || toPort < 0 ? 65535 : toPort;
    ports = `${from}-${to}`;
  } else if (number !== 'all' && isIcmp(number)) {
    ports = `${fromPort ?? -1}/${toPort ?? -1}`;
  }
  return `${number}|${ports}|${peerKey}`;
}

function canonicalPeer(peer: string): string | undefined {
  if (peer.startsWith('sg-') || peer.startsWith('pl-')) return peer;
  const cidr = tryParseCidr(peer);
  return cidr === undefined ? undefined : formatCidr(cidr);
}

/** The entries of one IpPermission: one per CIDR, IPv6 CIDR, SG reference and prefix list. */
function permissionEntries(permission: unknown, direction: Direction | undefined): EventRuleEntry[] {
  const protocol = text(permission, 'ipProtocol');
  if (protocol === undefined) return [];
  const from = integer(permission, 'fromPort');
  const to = integer(permission, 'toPort');
  const peers = [
    ...items(field(permission, 'ipRanges')).map((r) => text(r, 'cidrIp')),
    ...items(field(permission, 'ipv6Ranges')).map((r) => text(r, 'cidrIpv6')),
    ...items(field(permission, 'groups')).map((g) => text(g, 'groupId')),
    ...items(field(permission, 'userIdGroupPairs')).map((g) => text(g, 'groupId')),
    ...items(field(permission, 'prefixListIds')).map((p) => text(p, 'prefixListId')),
  ];
  // The pre-2012 form names one CIDR beside the protocol.
  const legacy = text(permission, 'cidrIp');
  if (legacy !== undefined) peers.push(legacy);
  return peers.flatMap((peer) => {
    const spec = peer === undefined ? undefined : specKey(protocol, from, to, peer);
    return spec === undefined ? [] : [{ ...(direction ? { direction } : {}), spec }];
  });
}

/** A rule of securityGroupRuleSet (Authorize responses) or of ModifySecurityGroupRules' request. */
function describedRule(rule: unknown, direction: Direction | undefined, ruleId: string | undefined) {
  const protocol = text(rule, 'ipProtocol');
  const peer =
    text(rule, 'cidrIpv4') ??
    text(rule, 'cidrIpv6') ??
    text(rule, 'prefixListId') ??
    text(rule, 'referencedGroupId') ??
    text(field(rule, 'referencedGroupInfo'), 'groupId');
  if (protocol === undefined || peer === undefined) return undefined;
  const spec = specKey(protocol, integer(rule, 'fromPort'), integer(rule, 'toPort'), peer);
  if (spec === undefined) return undefined;
  return { ...(direction ? { direction } : {}), spec, ...(ruleId ? { ruleId } : {}) };
}

function authorizeEntries(request: unknown, response: unknown, direction: Direction): EventRuleEntry[] {
  // The response names each added entry with its sgr- id (since 2021); the request's entries it
  // does not name (older records) count by spec alone.
  const described = items(field(response, 'securityGroupRuleSet')).flatMap((rule) => {
    const isEgress = field(rule, 'isEgress');
    const ruleDirection = typeof isEgress === 'boolean' ? (isEgress ? 'egress' : 'ingress') : direction;
    const entry = describedRule(rule, ruleDirection, text(rule, 'securityGroupRuleId'));
    return entry === undefined ? [] : [entry];
  });
  const named = new Set(described.map((e) => `${e.direction}|${e.spec}`));
  const permissions = items(field(request, 'ipPermissions'));
  const legacy = text(request, 'ipProtocol') !== undefined ? [request] : [];
  const requested = [...permissions, ...legacy]
    .flatMap((p) => permissionEntries(p, direction))
    .filter((e) => !named.has(`${e.direction}|${e.spec}`));
  return [...described, ...requested];
}

function modifyEntries(request: unknown): { groupId?: string; entries: EventRuleEntry[] } {
  const body = field(request, 'ModifySecurityGroupRulesRequest') ?? request;
  const groupId = text(body, 'GroupId');
  const entries = items(field(body, 'SecurityGroupRule')).flatMap((update) => {
    const ruleId = text(update, 'SecurityGroupRuleId');
    const entry = describedRule(field(update, 'SecurityGroupRule'), undefined, ruleId);
    return entry === undefined ? [] : [entry];
  });
  return { ...(groupId ? { groupId } : {}), entries };
}

/**
 * How a call was made: CloudFormation and other AWS services (invokedBy, their user agents), the
 * console (its session flag or user agent), Terraform (its user agent names HashiCorp or
 * Terraform), the AWS CLI, an SDK; anything else is 'other'.
 *
 * @example changeChannel({ userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 botocore/2.4.5' }) // 'aws-cli'
 */
export function changeChannel(call: {
  readonly userAgent?: string;
  readonly invokedBy?: string;
  readonly identityType?: string;
  readonly fromConsole?: boolean;
}): ChangeChannel {
  const agent = call.userAgent ?? '';
  if (call.invokedBy === 'cloudformation.amazonaws.com' || agent === 'cloudformation.amazonaws.com')
    return 'cloudformation';
  if (/hashicorp|terraform/i.test(agent)) return 'terraform';
  if (call.fromConsole === true || /^(console|signin)\.([\w-]+\.)*amazonaws\.com/i.test(agent))
    return 'console';
  if (/^aws-cli\//i.test(agent)) return 'aws-cli';
  if (/aws-sdk-|boto3|botocore|aws-powershell|aws-toolkit/i.test(agent)) return 'sdk';
  if (
    call.invokedBy !== undefined ||
    call.identityType === 'AWSService' ||
    /^[\w-]+\.amazonaws\.com$/i.test(agent)
  )
    return 'aws-service';
  return 'other';
}

function epochSeconds(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value > 1e11 ? value / 1000 : value;
  if (typeof value === 'string' && value !== '') {
    if (/^\d+(\.\d+)?$/.test(value)) return epochSeconds(Number(value));
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms / 1000;
  }
  return undefined;
}

function actorOf(record: Json): ChangeActor {
  const identity = field(record, 'userIdentity');
  const principalArn = text(identity, 'arn');
  const sessionIssuer = text(field(field(identity, 'sessionContext'), 'sessionIssuer'), 'arn');
  const invokedBy = text(identity, 'invokedBy');
  const sourceIp = text(record, 'sourceIPAddress');
  const userAgent = text(record, 'userAgent');
  const identityType = text(identity, 'type');
  const fromConsole = text(record, 'sessionCredentialFromConsole') === 'true';
  return {
    ...(principalArn ? { principalArn } : {}),
    ...(sessionIssuer ? { sessionIssuer } : {}),
    ...(invokedBy ? { invokedBy } : {}),
    ...(sourceIp ? { sourceIp } : {}),
    ...(userAgent ? { userAgent } : {}),
    channel: changeChannel({
      ...(userAgent ? { userAgent } : {}),
      ...(invokedBy ? { invokedBy } : {}),
      ...(identityType ? { identityType } : {}),
      fromConsole,
    }),
  };
}

/** The full CloudTrail record of a LookupEvents event, or the event itself when it is a record. */
function recordOf(event: CloudTrailLookupEvent | Json): Json | undefined {
  const embedded = event.CloudTrailEvent;
  if (typeof embedded === 'string') {
    try {
      const parsed: unknown = JSON.parse(embedded);
      return isObject(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return isObject(embedded) ? embedded : 'eventName' in event ? (event as Json) : undefined;
}

/**
 * One event read for attribution, or undefined when it is no security-group change or its record
 * cannot be read (no time, no JSON).
 *
 * @example parseSgChangeEvent(lookupEvent)?.entries[0]?.spec // '6|22-22|0.0.0.0/0'
 */
export function parseSgChangeEvent(event: CloudTrailLookupEvent | Json): SgChangeEvent | undefined {
  const record = recordOf(event);
  if (record === undefined) return undefined;
  const eventName = text(record, 'eventName') ?? (typeof event.EventName === 'string' ? event.EventName : '');
  const known = EVENT_KINDS[eventName];
  if (known === undefined) return undefined;
  const time = epochSeconds(field(record, 'eventTime')) ?? epochSeconds(event.EventTime);
  if (time === undefined) return undefined;
  const eventId = text(record, 'eventID') ?? (typeof event.EventId === 'string' ? event.EventId : '');
  const request = field(record, 'requestParameters');
  const response = field(record, 'responseElements');
  const failed = text(record, 'errorCode') !== undefined;
  const base = { eventId, eventName, kind: known.kind, time, actor: actorOf(record), failed };
  switch (known.kind) {
    case 'create-group': {
      const groupId = text(response, 'groupId');
      return { ...base, ...(groupId ? { groupId } : {}), entries: [], ruleIds: [] };
    }
    case 'modify': {
      const { groupId, entries } = modifyEntries(request);
      return { ...base, ...(groupId ? { groupId } : {}), entries, ruleIds: [] };
    }
    default: {
      const direction = known.direction as Direction;
      const groupId = text(request, 'groupId');
      const ruleIds = items(field(request, 'securityGroupRuleIds')).flatMap((r) => {
        const id = typeof r === 'string' ? r : text(r, 'securityGroupRuleId');
        return id === undefined ? [] : [id];
      });
      const entries =
        known.kind === 'authorize'
          ? authorizeEntries(request, response, direction)
          : items(field(request, 'ipPermissions')).flatMap((p) => permissionEntries(p, direction));
      return { ...base, ...(groupId ? { groupId } : {}), entries, ruleIds };
    }
  }
}
