/**
 * One security-group rule entry as a change plan writes it: the AWS fields of one peer of one
 * IpPermission, with its description and `sgr-` id when known. Keys compare rule entries whatever
 * way they were written (a recommendation's canonical CIDR, a rule's CIDR as written, AWS's '-1'
 * ports of ICMP); fingerprints name a whole rule set.
 */
import { createHash } from 'node:crypto';
import type { Recommendation } from '../model/analysis';
import type { IpFamily, RuleEntry } from '../model/inventory';
import { formatCidr, hasHostBits, tryParseCidr } from '../net/ip';
import { isIcmp, protocolHasPorts, protocolName, protocolNumber } from '../net/protocol';
import type { ReportRule } from '../report/model';
import { peerText } from '../rules/peer';

/** What a report rule says of its entry. */
export type ReportRuleEntry = Pick<
  ReportRule,
  'direction' | 'protocol' | 'fromPort' | 'toPort' | 'peer' | 'description' | 'securityGroupRuleId'
>;

/** A rule entry as plans, fixes and the AWS CLI writer take it (a report rule's entry). */
export interface RuleSpec extends ReportRuleEntry {
  /** Owner account of a referenced group (UserId), when the rule named it. */
  readonly peerOwnerId?: string;
}

/** The AWS IpPermission of one rule entry (the AWS CLI's and the SDK's JSON shape). */
export interface IpPermissionJson {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: { CidrIp: string; Description?: string }[];
  Ipv6Ranges?: { CidrIpv6: string; Description?: string }[];
  PrefixListIds?: { PrefixListId: string; Description?: string }[];
  UserIdGroupPairs?: { GroupId: string; UserId?: string; Description?: string }[];
}

export type PeerKind = 'cidr' | 'sg' | 'prefix-list';

/** What a peer text names. */
export function peerKind(peer: string): PeerKind {
  if (peer.startsWith('sg-')) return 'sg';
  if (peer.startsWith('pl-')) return 'prefix-list';
  return 'cidr';
}

/** The IP family of a CIDR peer; undefined for SG references and prefix lists. */
export function peerCidrFamily(peer: string): IpFamily | undefined {
  if (peerKind(peer) !== 'cidr') return undefined;
  return peer.includes(':') ? 'ipv6' : 'ipv4';
}

/** The protocol as AWS writes it (tcp, udp, icmp, icmpv6, -1, a number), or the text as given. */
function canonicalProtocol(protocol: string): string {
  try {
    return protocolName(protocolNumber(protocol));
  } catch {
    return protocol.toLowerCase();
  }
}

function protocolOf(spec: Pick<RuleSpec, 'protocol'>): number | 'all' | undefined {
  try {
    return protocolNumber(spec.protocol);
  } catch {
    return undefined;
  }
}

/** The ports part of a key: tcp/udp ranges, ICMP type-code (-1 = all), 'all' for the rest. */
function portsKey(spec: Pick<RuleSpec, 'protocol' | 'fromPort' | 'toPort'>): string {
  const protocol = protocolOf(spec);
  if (protocol === undefined || protocol === 'all') return 'all';
  if (protocolHasPorts(protocol)) return `${spec.fromPort ?? 0}-${spec.toPort ?? 65535}`;
  if (isIcmp(protocol)) return `${spec.fromPort ?? -1}-${spec.toPort ?? -1}`;
  return 'all';
}

function canonicalPeer(peer: string): string {
  if (peerKind(peer) !== 'cidr') return peer;
  const cidr = tryParseCidr(peer);
  return cidr === undefined || hasHostBits(peer) ? peer.toLowerCase() : formatCidr(cidr);
}

/**
 * The access a rule entry grants, as text: equal keys admit the same traffic (descriptions and
 * rule ids aside).
 *
 * @example specKey({ direction: 'ingress', protocol: 'icmp', peer: '10.0.0.0/8' }) // 'ingress/icmp/-1--1/10.0.0.0/8'
 */
export function specKey(
  spec: Pick<RuleSpec, 'direction' | 'protocol' | 'fromPort' | 'toPort' | 'peer'>,
): string {
  return `${spec.direction}/${canonicalProtocol(spec.protocol)}/${portsKey(spec)}/${canonicalPeer(spec.peer)}`;
}

/**
 * The fingerprint of a rule set: sha256 of its sorted keys. Two sets with the same fingerprint
 * admit the same traffic; descriptions and rule ids do not count.
 *
 * @example ruleSetFingerprint([]) // 'sha256:e3b0c442…'
 */
export function ruleSetFingerprint(specs: readonly RuleSpec[]): string {
  const keys = specs.map(specKey).sort();
  return `sha256:${createHash('sha256').update(keys.join('\n')).digest('hex')}`;
}

/** What differs between the expected and the current rule sets, by key ('+' present now only). */
export function ruleSetDifference(
  expected: readonly RuleSpec[],
  current: readonly RuleSpec[],
): { readonly added: string[]; readonly removed: string[] } {
  const count = (specs: readonly RuleSpec[]) => {
    const counts = new Map<string, number>();
    for (const spec of specs) counts.set(specKey(spec), (counts.get(specKey(spec)) ?? 0) + 1);
    return counts;
  };
  const before = count(expected);
  const now = count(current);
  const added = [...now].filter(([key, n]) => (before.get(key) ?? 0) < n).map(([key]) => key);
  const removed = [...before].filter(([key, n]) => (now.get(key) ?? 0) < n).map(([key]) => key);
  return { added: added.sort(), removed: removed.sort() };
}

/**
 * Ports of a spec as AWS wants them: ICMP without ports is every type (-1/-1), '-1' and other
 * protocols have none.
 */
function awsPorts(spec: RuleSpec): { FromPort?: number; ToPort?: number } {
  const protocol = protocolOf(spec);
  if (protocol === undefined || protocol === 'all') return {};
  if (protocolHasPorts(protocol)) return { FromPort: spec.fromPort ?? 0, ToPort: spec.toPort ?? 65535 };
  if (isIcmp(protocol)) return { FromPort: spec.fromPort ?? -1, ToPort: spec.toPort ?? -1 };
  return spec.fromPort === undefined ? {} : { FromPort: spec.fromPort, ToPort: spec.toPort ?? spec.fromPort };
}

/**
 * The IpPermission of one rule entry, as the AWS CLI's `--ip-permissions` and the SDK take it.
 *
 * @example toIpPermission({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, peer: '198.51.100.7/32' })
 * // { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '198.51.100.7/32' }] }
 */
export function toIpPermission(
  spec: RuleSpec,
  options: { withDescription?: boolean } = {},
): IpPermissionJson {
  const described =
    options.withDescription !== false && spec.description ? { Description: spec.description } : {};
  const permission: IpPermissionJson = { IpProtocol: canonicalProtocol(spec.protocol), ...awsPorts(spec) };
  switch (peerKind(spec.peer)) {
    case 'sg':
      permission.UserIdGroupPairs = [
        { GroupId: spec.peer, ...(spec.peerOwnerId ? { UserId: spec.peerOwnerId } : {}), ...described },
      ];
      break;
    case 'prefix-list':
      permission.PrefixListIds = [{ PrefixListId: spec.peer, ...described }];
      break;
    case 'cidr':
      if (peerCidrFamily(spec.peer) === 'ipv6')
        permission.Ipv6Ranges = [{ CidrIpv6: spec.peer, ...described }];
      else permission.IpRanges = [{ CidrIp: spec.peer, ...described }];
      break;
  }
  return permission;
}

/** The fields a rule entry and a report rule share, with the peer as text. */
function specFrom(
  rule: Pick<
    RuleEntry,
    'direction' | 'protocol' | 'fromPort' | 'toPort' | 'description' | 'securityGroupRuleId'
  >,
  peer: string,
  peerOwnerId?: string,
): RuleSpec {
  return {
    direction: rule.direction,
    protocol: rule.protocol,
    ...(rule.fromPort !== undefined ? { fromPort: rule.fromPort } : {}),
    ...(rule.toPort !== undefined ? { toPort: rule.toPort } : {}),
    peer,
    ...(rule.description ? { description: rule.description } : {}),
    ...(rule.securityGroupRuleId ? { securityGroupRuleId: rule.securityGroupRuleId } : {}),
    ...(peerOwnerId ? { peerOwnerId } : {}),
  };
}

/** A rule entry of the inventory (live or exported) as a spec. */
export function specOfRuleEntry(rule: RuleEntry): RuleSpec {
  return specFrom(rule, peerText(rule.peer), rule.peer.kind === 'sg' ? rule.peer.userId : undefined);
}

/** A rule of a report as a spec. */
export function specOfReportRule(rule: ReportRuleEntry): RuleSpec {
  return specFrom(rule, rule.peer);
}

/** A recommended entry as a spec (ICMP without type written as AWS writes it: -1/-1). */
export function specOfRecommendation(rec: Recommendation, description?: string): RuleSpec {
  const protocol = protocolOf(rec);
  const icmpAll = protocol !== undefined && isIcmp(protocol) && rec.fromPort === undefined;
  return {
    direction: rec.direction,
    protocol: rec.protocol,
    ...(icmpAll ? { fromPort: -1, toPort: -1 } : {}),
    ...(rec.fromPort !== undefined ? { fromPort: rec.fromPort } : {}),
    ...(rec.toPort !== undefined ? { toPort: rec.toPort } : {}),
    peer: rec.peer,
    ...(description ? { description } : {}),
  };
}

/**
 * A short human text of a spec, in the report's words.
 *
 * @example specText({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }) // 'ingress tcp 22 from 0.0.0.0/0'
 */
export function specText(spec: RuleSpec): string {
  const protocol = protocolOf(spec);
  const word = spec.direction === 'ingress' ? 'from' : 'to';
  let what: string;
  if (protocol === 'all') what = 'all traffic';
  else if (protocol !== undefined && protocolHasPorts(protocol))
    what = `${protocolName(protocol)} ${spec.fromPort === spec.toPort ? spec.fromPort : `${spec.fromPort}-${spec.toPort}`}`;
  else if (protocol !== undefined && isIcmp(protocol))
    what =
      spec.fromPort === undefined || spec.fromPort === -1
        ? protocolName(protocol)
        : `${protocolName(protocol)} type ${spec.fromPort}${spec.toPort === undefined || spec.toPort === -1 ? '' : ` code ${spec.toPort}`}`;
  else what = `protocol ${spec.protocol}`;
  return `${spec.direction} ${what} ${word} ${spec.peer}`;
}

/** Characters AWS accepts in a rule description (a–z, A–Z, 0–9, spaces and ._-:/()#,@[]+=&;{}!$*). */
const DESCRIPTION_CHARS = /[^a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g;
const DESCRIPTION_MAX = 255;

/**
 * Text made fit for a rule description: characters AWS rejects replaced, at most 255 of them.
 *
 * @example ruleDescription('sg-audit 2026-11-15: 24 connections → 5 peers') // 'sg-audit 2026-11-15: 24 connections - 5 peers'
 */
export function ruleDescription(text: string): string {
  return text
    .replace(/[→~]/g, '-')
    .replace(DESCRIPTION_CHARS, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, DESCRIPTION_MAX);
}
