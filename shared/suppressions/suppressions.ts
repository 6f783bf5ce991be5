/**
 * Suppressions: accepted risks with an owner, a reason and an expiry date, read from a versioned
 * YAML or JSON file. A suppression matches findings by selectors (SG id, SG tag, VPC, check, rule);
 * all selectors of an entry must match. Suppressed findings stay in the report, marked; expired
 * suppressions no longer suppress but stay visible so the report can say the acceptance lapsed.
 *
 * Selectors never widen an acceptance: a rule selector for tcp/22 from 198.51.100.0/24 matches a
 * rule that admits no more than that, never an all-traffic or world-open rule.
 */
import { z } from 'zod';
import { CHECK_IDS, type CheckId, type Finding, type FindingSuppression } from '../model/analysis';
import { DIRECTIONS, type Direction } from '../model/inventory';
import { type Cidr, cidrContains, tryParseCidr } from '../net/ip';
import { ALL_PORTS, type PortRange, parsePortList, rangesContainRange } from '../net/ports';
import { protocolHasPorts, protocolNumber } from '../net/protocol';
import { publishedJsonSchema } from '../published-schema';
import {
  activeUntil,
  awsIdField,
  nonEmpty,
  parseListFile,
  portListField,
  reviewedListFileSchema,
} from './list-file';

function isPeer(text: string): boolean {
  return /^sg-[0-9a-z]+$/i.test(text) || /^pl-[0-9a-z]+$/i.test(text) || tryParseCidr(text) !== undefined;
}

function isProtocol(text: string): boolean {
  try {
    protocolNumber(text);
    return true;
  } catch {
    return false;
  }
}

const ruleSelectorSchema = z
  .strictObject({
    direction: z.enum(DIRECTIONS).optional().describe('Rule direction.'),
    protocol: z
      .string()
      .refine(isProtocol, { error: 'not a protocol (expected tcp, udp, icmp, icmpv6, -1 or 0-255)' })
      .optional()
      .describe(
        'AWS IpProtocol: tcp, udp, icmp, icmpv6, -1 or a protocol number. Matches that protocol only.',
      ),
    ports: portListField()
      .optional()
      .describe(
        "A port ('22'), a range ('1000-2000') or a list ('22,443'). Matches rules whose whole port range lies within it.",
      ),
    peer: z
      .string()
      .refine(isPeer, { error: 'not a CIDR, sg-… or pl-… id' })
      .optional()
      .describe(
        'A CIDR (matches rules whose CIDR peer lies within it), or an sg-… / pl-… id (matches that reference).',
      ),
  })
  .refine((rule) => Object.values(rule).some((v) => v !== undefined), {
    error: 'rule needs at least one of direction, protocol, ports, peer',
  });

const matchSchema = z
  .strictObject({
    sgId: awsIdField('sg', 'security group').optional().describe('Security group id.'),
    sgTag: z
      .strictObject({
        key: nonEmpty('key'),
        value: z.string().optional().describe('When absent, any value of the key matches.'),
      })
      .optional()
      .describe('A tag of the security group.'),
    vpcId: awsIdField('vpc', 'VPC').optional().describe('VPC id of the security group.'),
    check: z.enum(CHECK_IDS).optional().describe('Risk check id.'),
    rule: ruleSelectorSchema.optional().describe('Rule-level selector; never matches SG-level findings.'),
  })
  .refine((match) => Object.values(match).some((v) => v !== undefined), {
    error: 'at least one selector is required (sgId, sgTag, vpcId, check, rule)',
  })
  .describe('Selectors; all that are given must match (AND).');

/**
 * The suppressions file (version 1) as a zod schema: validation and the published JSON Schema.
 * Unique ids are checked by {@link parseSuppressions} (JSON Schema cannot say it).
 */
export const suppressionsFileSchema = reviewedListFileSchema(
  'suppressions',
  {
    noun: 'suppression',
    owner: 'Who accepted the risk (team or person).',
    reason: 'Why the risk is accepted.',
  },
  matchSchema,
);

/** The raw, validated file as written (ports may be a number). */
export type SuppressionsFile = z.infer<typeof suppressionsFileSchema>;

/** JSON Schema (draft 2020-12) of the suppressions file, for docs/suppressions.schema.json. */
export const SUPPRESSIONS_JSON_SCHEMA = publishedJsonSchema(
  suppressionsFileSchema,
  'suppressions.schema.json',
  'sg-audit suppressions',
);

export interface RuleSelector {
  readonly direction?: Direction;
  readonly protocol?: string;
  /** '22', '1000-2000' or '22,443'. */
  readonly ports?: string;
  /** A CIDR, sg-… or pl-…. */
  readonly peer?: string;
}

export interface SuppressionMatch {
  readonly sgId?: string;
  readonly sgTag?: { readonly key: string; readonly value?: string };
  readonly vpcId?: string;
  readonly check?: CheckId;
  readonly rule?: RuleSelector;
}

export interface Suppression {
  readonly id: string;
  readonly owner: string;
  readonly reason: string;
  /** ISO date, inclusive (UTC). */
  readonly expires: string;
  readonly match: SuppressionMatch;
}

/** A parsed suppressions file: plain data (serialisable between Step Functions states). */
export interface SuppressionSet {
  /** The file it was read from, for messages. */
  readonly file: string;
  readonly version: 1;
  /** In file order; order decides which suppression marks a finding several match. */
  readonly suppressions: readonly Suppression[];
}

/** Kept for the task's wording: the model's Finding already carries `suppression`. */
export type SuppressedFinding = Finding;

/** An expired suppression and the findings it would still match. */
export interface ExpiredSuppression {
  readonly id: string;
  readonly owner: string;
  readonly reason: string;
  readonly expires: string;
  readonly findingIds: readonly string[];
}

export interface SuppressionContext {
  readonly now: Date;
  /** Tags of an SG, undefined when the SG is unknown. */
  readonly sgTags: (sgId: string) => Readonly<Record<string, string>> | undefined;
}

export interface SuppressionOutcome {
  /** Every finding, in input order; matched ones carry `suppression`. */
  readonly findings: Finding[];
  /** Expired suppressions (file order), with the findings they matched (possibly none). */
  readonly expired: ExpiredSuppression[];
  /** Ids of suppressions (active or expired) that matched no finding: candidates for removal. */
  readonly unused: string[];
}

/**
 * Parses and validates a suppressions file (YAML or JSON, by extension, else by content).
 * Any malformed entry fails the whole file: a half-applied acceptance list would hide or
 * resurface findings silently.
 *
 * @throws InputError naming the file, the line when known, the entry (index and id) and the field,
 *   e.g. `suppressions.yaml: line 14: suppressions[2] (partner-cidr): expires: not a date (expected YYYY-MM-DD)`.
 * @example parseSuppressions('version: 1\nsuppressions: []\n', 'suppressions.yaml').suppressions // []
 */
export function parseSuppressions(text: string, file: string): SuppressionSet {
  const data = parseListFile(text, file, suppressionsFileSchema, 'suppressions');
  return { file, version: 1, suppressions: data.suppressions.map(toSuppression) };
}

function toSuppression(entry: SuppressionsFile['suppressions'][number]): Suppression {
  const { sgId, sgTag, vpcId, check, rule } = entry.match;
  const match: SuppressionMatch = {
    ...(sgId !== undefined ? { sgId } : {}),
    ...(sgTag !== undefined
      ? { sgTag: { key: sgTag.key, ...(sgTag.value !== undefined ? { value: sgTag.value } : {}) } }
      : {}),
    ...(vpcId !== undefined ? { vpcId } : {}),
    ...(check !== undefined ? { check } : {}),
    ...(rule !== undefined
      ? {
          rule: {
            ...(rule.direction !== undefined ? { direction: rule.direction } : {}),
            ...(rule.protocol !== undefined ? { protocol: rule.protocol } : {}),
            ...(rule.ports !== undefined ? { ports: String(rule.ports) } : {}),
            ...(rule.peer !== undefined ? { peer: rule.peer } : {}),
          },
        }
      : {}),
  };
  return { id: entry.id, owner: entry.owner, reason: entry.reason, expires: entry.expires, match };
}

/** A suppression with its selectors parsed once, for matching many findings. */
interface CompiledSuppression {
  readonly index: number;
  readonly suppression: Suppression;
  readonly active: boolean;
  readonly protocol?: number | 'all';
  readonly ports?: readonly PortRange[];
  readonly peerCidr?: Cidr;
}

function compile(suppression: Suppression, index: number, now: Date): CompiledSuppression {
  const rule = suppression.match.rule;
  const peerCidr = rule?.peer !== undefined ? tryParseCidr(rule.peer) : undefined;
  return {
    index,
    suppression,
    // Inclusive: active through 23:59:59.999 UTC of the expiry day.
    active: activeUntil(suppression.expires, now),
    ...(rule?.protocol !== undefined ? { protocol: protocolNumber(rule.protocol) } : {}),
    ...(rule?.ports !== undefined ? { ports: parsePortList(rule.ports) } : {}),
    ...(peerCidr !== undefined ? { peerCidr } : {}),
  };
}

function findingProtocol(finding: Finding): number | 'all' | undefined {
  if (finding.protocol === undefined) return undefined;
  try {
    return protocolNumber(finding.protocol);
  } catch {
    return undefined;
  }
}

/** The ports a rule finding admits: its range for tcp/udp, all for '-1', none for other protocols. */
function findingPorts(finding: Finding, protocol: number | 'all' | undefined): PortRange | undefined {
  if (protocol === 'all') return ALL_PORTS;
  if (protocol === undefined || !protocolHasPorts(protocol)) return undefined;
  if (finding.fromPort === undefined || finding.toPort === undefined) return ALL_PORTS;
  return { from: finding.fromPort, to: finding.toPort };
}

function ruleMatches(compiled: CompiledSuppression, rule: RuleSelector, finding: Finding): boolean {
  if (finding.ruleId === undefined) return false;
  if (rule.direction !== undefined && finding.direction !== rule.direction) return false;
  const protocol = findingProtocol(finding);
  if (compiled.protocol !== undefined && protocol !== compiled.protocol) return false;
  if (compiled.ports !== undefined) {
    const ports = findingPorts(finding, protocol);
    if (ports === undefined || !rangesContainRange(compiled.ports, ports)) return false;
  }
  if (rule.peer !== undefined) {
    if (finding.peer === undefined) return false;
    if (compiled.peerCidr !== undefined) {
      const peer = tryParseCidr(finding.peer);
      if (peer === undefined || peer.family !== compiled.peerCidr.family) return false;
      if (!cidrContains(compiled.peerCidr, peer)) return false;
    } else if (finding.peer.toLowerCase() !== rule.peer.toLowerCase()) {
      return false;
    }
  }
  return true;
}

function matches(compiled: CompiledSuppression, finding: Finding, context: SuppressionContext): boolean {
  const { sgId, sgTag, vpcId, check, rule } = compiled.suppression.match;
  if (sgId !== undefined && finding.sgId !== sgId) return false;
  if (vpcId !== undefined && finding.vpcId !== vpcId) return false;
  if (check !== undefined && finding.check !== check) return false;
  if (sgTag !== undefined) {
    const value = context.sgTags(finding.sgId)?.[sgTag.key];
    if (value === undefined || (sgTag.value !== undefined && value !== sgTag.value)) return false;
  }
  if (rule !== undefined && !ruleMatches(compiled, rule, finding)) return false;
  return true;
}

function mark(suppression: Suppression, status: FindingSuppression['status']): FindingSuppression {
  const { id, owner, reason, expires } = suppression;
  return { id, owner, reason, expires, status };
}

/**
 * Marks findings with the suppression that matches them. An active suppression marks the finding
 * `status: 'active'` (it stays in the report but is left out of alerts and --fail-on); when only
 * expired suppressions match, the finding is marked `status: 'expired'` and counts again. Among
 * several matches the first active one in file order wins, else the first expired one.
 * A suppression is active through the whole of its `expires` day, UTC.
 *
 * @example
 * applySuppressions(findings, set, { now: new Date(), sgTags: (id) => tagsBySg.get(id) }).unused // ['old-exception']
 */
export function applySuppressions(
  findings: readonly Finding[],
  set: SuppressionSet,
  context: SuppressionContext,
): SuppressionOutcome {
  const compiled = set.suppressions.map((s, index) => compile(s, index, context.now));
  // Most entries name their SG: index those by SG so each finding tests only its candidates.
  const bySg = new Map<string, CompiledSuppression[]>();
  const anySg: CompiledSuppression[] = [];
  for (const c of compiled) {
    const sgId = c.suppression.match.sgId;
    if (sgId === undefined) anySg.push(c);
    else bySg.set(sgId, [...(bySg.get(sgId) ?? []), c]);
  }
  const tagCache = new Map<string, Readonly<Record<string, string>> | undefined>();
  const cachedContext: SuppressionContext = {
    now: context.now,
    sgTags: (sgId) => {
      if (!tagCache.has(sgId)) tagCache.set(sgId, context.sgTags(sgId));
      return tagCache.get(sgId);
    },
  };
  const matchedFindings = compiled.map((): string[] => []);

  const marked = findings.map((finding) => {
    let winner: CompiledSuppression | undefined;
    for (const candidate of candidatesInOrder(bySg.get(finding.sgId) ?? [], anySg)) {
      if (!matches(candidate, finding, cachedContext)) continue;
      matchedFindings[candidate.index]?.push(finding.id);
      if (winner === undefined || (!winner.active && candidate.active)) winner = candidate;
    }
    if (winner === undefined) {
      // A finding read back from a previous report may carry a stale mark: drop it.
      if (finding.suppression === undefined) return finding;
      const { suppression: _stale, ...rest } = finding;
      return rest;
    }
    return { ...finding, suppression: mark(winner.suppression, winner.active ? 'active' : 'expired') };
  });

  return {
    findings: marked,
    expired: compiled
      .filter((c) => !c.active)
      .map((c) => ({
        id: c.suppression.id,
        owner: c.suppression.owner,
        reason: c.suppression.reason,
        expires: c.suppression.expires,
        findingIds: matchedFindings[c.index] ?? [],
      })),
    unused: compiled
      .filter((c) => (matchedFindings[c.index] ?? []).length === 0)
      .map((c) => c.suppression.id),
  };
}

/** Merges two index-sorted candidate lists, keeping file order. */
function* candidatesInOrder(
  a: readonly CompiledSuppression[],
  b: readonly CompiledSuppression[],
): Generator<CompiledSuppression> {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left.index < right.index)) {
      i++;
      if (left !== undefined) yield left;
    } else {
      j++;
      yield right;
    }
  }
}

/**
 * Whether an active suppression covers the finding: such findings are left out of alerts and of
 * --fail-on, and stay in the report.
 *
 * @example isActivelySuppressed({ ...finding, suppression: { ...s, status: 'active' } }) // true
 */
export function isActivelySuppressed(finding: Finding): boolean {
  return finding.suppression?.status === 'active';
}

/**
 * One line about a finding's suppression for reports, or undefined when it has none.
 *
 * @example suppressionNote(f) // "suppression bastion-ssh expired on 2027-03-31 (owner: platform-team): Bastion SSH …"
 */
export function suppressionNote(finding: Finding): string | undefined {
  const s = finding.suppression;
  if (s === undefined) return undefined;
  return s.status === 'active'
    ? `suppressed by ${s.id} until ${s.expires} (owner: ${s.owner}): ${s.reason}`
    : `suppression ${s.id} expired on ${s.expires} (owner: ${s.owner}): ${s.reason}`;
}
