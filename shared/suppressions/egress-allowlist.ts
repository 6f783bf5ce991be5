/**
 * The egress allow-list: the external destinations an account expects its SGs to reach (a
 * partner's API, an AWS service, the package mirrors), each with an owner, a reason and an expiry
 * date like an accepted risk (list-file.ts), so the report can show only the unexpected egress.
 *
 * An entry names exactly one destination — a CIDR, a prefix list (pl-…) or an AWS service (`s3`,
 * the service part of an AWS-managed prefix list's name, or a published range's service) — and
 * may narrow it by protocol, ports, SG and VPC. Expired entries expect nothing: their destinations
 * count as unexpected again, and the report says so.
 */
import { z } from 'zod';
import { type Cidr, cidrContainsIp, type IpAddress, tryParseCidr } from '../net/ip';
import { type PortRange, parsePortList, rangesContain } from '../net/ports';
import { protocolNumber } from '../net/protocol';
import { publishedJsonSchema } from '../published-schema';
import { activeUntil, awsIdField, parseListFile, portListField, reviewedListFileSchema } from './list-file';

function isProtocol(text: string): boolean {
  try {
    return protocolNumber(text) !== 'all';
  } catch {
    return false;
  }
}

const DESTINATION_SELECTORS = ['cidr', 'prefixList', 'awsService'] as const;

const destinationMatchSchema = z
  .strictObject({
    cidr: z
      .string()
      .refine((text) => tryParseCidr(text) !== undefined, { error: 'not a CIDR' })
      .optional()
      .describe('Destination addresses inside this CIDR (IPv4 or IPv6).'),
    prefixList: z
      .string()
      .regex(/^pl-[0-9a-z]+$/i, { error: 'not a prefix list id (pl-…)' })
      .optional()
      .describe("Destination addresses inside this prefix list's entries (as the export holds them)."),
    awsService: z
      .string()
      .trim()
      .min(1, { error: 'awsService must not be empty' })
      .optional()
      .describe(
        "An AWS service: the service part of an AWS-managed prefix list's name (s3, dynamodb, cloudfront.origin-facing) or of a published range (EC2, S3). Case-insensitive.",
      ),
    protocol: z
      .string()
      .refine(isProtocol, { error: 'not a protocol (expected tcp, udp, icmp, icmpv6 or 0-255)' })
      .optional()
      .describe('AWS IpProtocol: tcp, udp, icmp, icmpv6 or a protocol number.'),
    ports: portListField().optional().describe("Destination ports: '443', '1000-2000' or '80,443'."),
    sgId: awsIdField('sg', 'security group').optional().describe('Only for this security group.'),
    vpcId: awsIdField('vpc', 'VPC').optional().describe('Only for security groups of this VPC.'),
  })
  .refine((match) => DESTINATION_SELECTORS.filter((key) => match[key] !== undefined).length === 1, {
    error: 'exactly one of cidr, prefixList, awsService is required',
  })
  .describe('The destination (exactly one of cidr, prefixList, awsService), optionally narrowed.');

/** The egress allow-list file (version 1) as a zod schema: validation and the published JSON Schema. */
export const egressAllowListFileSchema = reviewedListFileSchema(
  'destinations',
  {
    noun: 'allow-list entry',
    owner: 'Who expects this destination (team or person).',
    reason: 'Why the destination is expected.',
  },
  destinationMatchSchema,
);

/** JSON Schema (draft 2020-12) of the allow-list file, for docs/egress-allowlist.schema.json. */
export const EGRESS_ALLOWLIST_JSON_SCHEMA = publishedJsonSchema(
  egressAllowListFileSchema,
  'egress-allowlist.schema.json',
  'sg-audit egress allow-list',
);

export interface EgressAllowMatch {
  readonly cidr?: string;
  readonly prefixList?: string;
  readonly awsService?: string;
  readonly protocol?: string;
  /** '443', '1000-2000' or '80,443'. */
  readonly ports?: string;
  readonly sgId?: string;
  readonly vpcId?: string;
}

export interface EgressAllowEntry {
  readonly id: string;
  readonly owner: string;
  readonly reason: string;
  /** ISO date, inclusive (UTC). */
  readonly expires: string;
  readonly match: EgressAllowMatch;
}

/** A parsed allow-list: plain data. */
export interface EgressAllowList {
  readonly file: string;
  readonly version: 1;
  /** In file order: the first active entry that matches a destination names it. */
  readonly entries: readonly EgressAllowEntry[];
}

/**
 * Parses and validates an egress allow-list (YAML or JSON). Any malformed entry fails the file.
 *
 * @throws InputError naming the file, the line, the entry and the field, e.g.
 *   `egress-allowlist.yaml: line 9: destinations[1] (partner-api): match: exactly one of cidr, prefixList, awsService is required`.
 * @example parseEgressAllowList('version: 1\ndestinations: []\n', 'egress-allowlist.yaml').entries // []
 */
export function parseEgressAllowList(text: string, file: string): EgressAllowList {
  const data = parseListFile(text, file, egressAllowListFileSchema, 'destinations');
  return {
    file,
    version: 1,
    entries: data.destinations.map((entry) => ({
      id: entry.id,
      owner: entry.owner,
      reason: entry.reason,
      expires: entry.expires,
      match: Object.fromEntries(
        Object.entries(entry.match)
          .filter(([, value]) => value !== undefined)
          .map(([key, value]) => [key, String(value)]),
      ) as EgressAllowMatch,
    })),
  };
}

/** One external destination of one SG, as the allow-list judges it. */
export interface EgressCandidate {
  readonly sgId: string;
  readonly vpcId: string;
  readonly protocol: number;
  readonly port: number | null;
  readonly addr: IpAddress;
  /** The prefix lists (of the inventory) holding the address. */
  readonly prefixListIds: readonly string[];
  /** The AWS service the address belongs to, when known (lower case). */
  readonly service?: string;
}

interface CompiledEntry {
  readonly entry: EgressAllowEntry;
  readonly active: boolean;
  readonly cidr?: Cidr;
  readonly protocol?: number | 'all';
  readonly ports?: readonly PortRange[];
}

/**
 * Judges destinations against an allow-list at a time: the first active entry that matches, and
 * afterwards which entries expired or matched nothing.
 *
 * @example
 * const matcher = new EgressAllowMatcher(list, new Date());
 * matcher.match({ sgId: 'sg-app', vpcId: 'vpc-1', protocol: 6, port: 443, addr, prefixListIds: [] })?.id // 'partner-api'
 */
export class EgressAllowMatcher {
  private readonly compiled: CompiledEntry[];
  private readonly matched = new Set<string>();

  constructor(
    readonly list: EgressAllowList,
    now: Date,
  ) {
    this.compiled = list.entries.map((entry) => {
      const cidr = entry.match.cidr === undefined ? undefined : tryParseCidr(entry.match.cidr);
      return {
        entry,
        active: activeUntil(entry.expires, now),
        ...(cidr !== undefined ? { cidr } : {}),
        ...(entry.match.protocol !== undefined ? { protocol: protocolNumber(entry.match.protocol) } : {}),
        ...(entry.match.ports !== undefined ? { ports: parsePortList(entry.match.ports) } : {}),
      };
    });
  }

  /** The first active entry expecting the destination, or undefined. */
  match(candidate: EgressCandidate): EgressAllowEntry | undefined {
    for (const c of this.compiled) {
      if (!c.active || !matches(c, candidate)) continue;
      this.matched.add(c.entry.id);
      return c.entry;
    }
    return undefined;
  }

  /** Entries past their expiry date. */
  expired(): EgressAllowEntry[] {
    return this.compiled.filter((c) => !c.active).map((c) => c.entry);
  }

  /** Active entries that matched nothing so far. */
  unused(): EgressAllowEntry[] {
    return this.compiled.filter((c) => c.active && !this.matched.has(c.entry.id)).map((c) => c.entry);
  }
}

function matches(c: CompiledEntry, candidate: EgressCandidate): boolean {
  const { match } = c.entry;
  if (match.sgId !== undefined && match.sgId !== candidate.sgId) return false;
  if (match.vpcId !== undefined && match.vpcId !== candidate.vpcId) return false;
  if (c.protocol !== undefined && c.protocol !== candidate.protocol) return false;
  if (c.ports !== undefined && (candidate.port === null || !rangesContain(c.ports, candidate.port)))
    return false;
  if (c.cidr !== undefined) return cidrContainsIp(c.cidr, candidate.addr);
  if (match.prefixList !== undefined) {
    const id = match.prefixList.toLowerCase();
    return candidate.prefixListIds.some((pl) => pl.toLowerCase() === id);
  }
  if (match.awsService !== undefined) return candidate.service === match.awsService.toLowerCase();
  return false;
}
