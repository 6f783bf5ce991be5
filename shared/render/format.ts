/**
 * How report values read in every renderer: ports, timestamps, sizes, severities and resource
 * counts. One place, so the CSV, the workbook, Markdown, HTML and the console agree.
 */
import type { Finding } from '../model/analysis';
import { severityRank } from '../model/analysis';
import type { ResourceType } from '../model/inventory';
import { RESOURCE_TYPES } from '../model/inventory';

/** AWS IpProtocol values (names or numbers) whose FromPort/ToPort are a port range. */
const PORT_PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', '6', '17']);
/** AWS IpProtocol values whose FromPort/ToPort are an ICMP type and code. */
const ICMP_PROTOCOLS: ReadonlySet<string> = new Set(['icmp', 'icmpv6', '1', '58']);

/**
 * Whether a rule's FromPort/ToPort carry meaning for its protocol (ports for tcp/udp, type and
 * code for icmp/icmpv6); they do not for '-1' and other portless protocols.
 *
 * @example protocolKeepsPorts('icmp') // true; protocolKeepsPorts('-1') // false
 */
export function protocolKeepsPorts(protocol: string): boolean {
  const p = protocol.toLowerCase();
  return PORT_PROTOCOLS.has(p) || ICMP_PROTOCOLS.has(p);
}

/** Whether the protocol is tcp or udp (a port range, not an ICMP type/code). */
export function protocolHasPortRange(protocol: string): boolean {
  return PORT_PROTOCOLS.has(protocol.toLowerCase());
}

/** Whether the protocol is icmp or icmpv6. */
export function protocolIsIcmp(protocol: string): boolean {
  return ICMP_PROTOCOLS.has(protocol.toLowerCase());
}

/**
 * The from/to cells of the CSV contract: empty for '-1' and portless protocols, the numbers
 * otherwise (ICMP keeps its type and code, -1 included).
 *
 * @example contractPorts('-1', undefined, undefined) // [undefined, undefined]
 */
export function contractPorts(
  protocol: string,
  fromPort: number | undefined,
  toPort: number | undefined,
): [number | undefined, number | undefined] {
  if (!protocolKeepsPorts(protocol)) return [undefined, undefined];
  return [fromPort, toPort];
}

/**
 * A rule's ports as people read them: '443', '1024-65535', 'all' (protocol -1 or 0-65535),
 * 'type 8 code 0' / 'all types' for ICMP, '' for other portless protocols.
 *
 * @example describePorts('tcp', 20000, 30000) // '20000-30000'
 */
export function describePorts(protocol: string, fromPort?: number, toPort?: number): string {
  if (protocol === '-1') return 'all';
  if (protocolIsIcmp(protocol)) {
    if (fromPort === undefined || fromPort === -1) return 'all types';
    if (toPort === undefined || toPort === -1) return `type ${fromPort}`;
    return `type ${fromPort} code ${toPort}`;
  }
  if (!protocolHasPortRange(protocol) || fromPort === undefined) return '';
  const to = toPort ?? fromPort;
  if (fromPort === -1) return 'all';
  return fromPort === to ? String(fromPort) : `${fromPort}-${to}`;
}

/**
 * Epoch seconds as ISO 8601 UTC to the second, or '' when absent.
 *
 * @example isoSeconds(0) // '1970-01-01T00:00:00Z'
 */
export function isoSeconds(epochSeconds: number | undefined): string {
  if (epochSeconds === undefined || !Number.isFinite(epochSeconds)) return '';
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * An ISO 8601 timestamp shortened for people: '2025-11-17 00:00 UTC'. Unparseable text is
 * returned as given.
 *
 * @example readableTime('2025-11-17T00:00:00.000Z') // '2025-11-17 00:00 UTC'
 */
export function readableTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * A count with thousands separators.
 *
 * @example formatCount(1234567) // '1,234,567'
 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * A count with its noun, singular or plural.
 *
 * @example formatQuantity(1, 'query', 'queries') // '1 query'
 */
export function formatQuantity(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/**
 * Bytes in decimal units with one decimal: '1.2 MB'.
 *
 * @example formatBytes(1_250_000) // '1.3 MB'
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/**
 * Resources counted by type in the CSV contract's form, in the model's type order.
 *
 * @example resourceCounts({ lambda: 1, ec2: 2 }) // 'ec2:2;lambda:1'
 */
export function resourceCounts(resources: Readonly<Partial<Record<ResourceType, number>>>): string {
  return RESOURCE_TYPES.filter((type) => (resources[type] ?? 0) > 0)
    .map((type) => `${type}:${resources[type]}`)
    .join(';');
}

export { severityRank };

/**
 * How live a finding's exposure is, most first: 0 a rule carrying traffic, 1 an SG that network
 * interfaces carry, 2 an SG nothing carries (no resource behind it reaches anything today).
 *
 * @example findingLiveness(finding) // 0
 */
export function findingLiveness(finding: Finding): number {
  const attached = Object.values(finding.resources).some((n) => (n ?? 0) > 0);
  if (!attached) return 2;
  return finding.ruleStatus === 'used' ? 0 : 1;
}

/**
 * Worst first; within a severity what is live first (a used world-open SSH before an SG nothing
 * carries); then by SG id and check, so every renderer lists findings in the same order.
 *
 * @example [...findings].sort(compareFindings)
 */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    findingLiveness(a) - findingLiveness(b) ||
    a.sgId.localeCompare(b.sgId) ||
    a.check.localeCompare(b.check) ||
    a.id.localeCompare(b.id)
  );
}

/**
 * A finding's rule in one line: 'ingress tcp 22 from 0.0.0.0/0', or '' for SG-level findings.
 *
 * @example findingRuleText(finding) // 'ingress tcp 22 from 0.0.0.0/0'
 */
export function findingRuleText(finding: Finding): string {
  if (finding.direction === undefined || finding.protocol === undefined) return '';
  const ports = describePorts(finding.protocol, finding.fromPort, finding.toPort);
  const preposition = finding.direction === 'ingress' ? 'from' : 'to';
  const protocol = finding.protocol === '-1' ? 'all traffic' : finding.protocol;
  const portText = finding.protocol === '-1' || ports === '' ? '' : ` ${ports}`;
  return `${finding.direction} ${protocol}${portText} ${preposition} ${finding.peer ?? '?'}`;
}

const LARGE_UNITS: readonly (readonly [bigint, string])[] = [
  [1_000_000_000_000n, 'trillion'],
  [1_000_000_000n, 'billion'],
  [1_000_000n, 'million'],
];

/**
 * A count of addresses (a decimal string: IPv6 counts exceed 2^53) as people grasp it: the whole
 * or half of the family's space, "4.2 million addresses", "about a /56 of IPv6 addresses".
 *
 * @example formatAddressCount('4294967090', 'ipv4') // 'about the whole IPv4 space'
 */
export function formatAddressCount(count: string, family: 'ipv4' | 'ipv6'): string {
  let n: bigint;
  try {
    n = BigInt(count);
  } catch {
    return `${count} addresses`;
  }
  const bits = family === 'ipv4' ? 32 : 128;
  const space = 1n << BigInt(bits);
  const name = family === 'ipv4' ? 'IPv4' : 'IPv6';
  // Per mille of the family's space, exactly (bigint), to place the count within it.
  const perMille = (n * 1000n) / space;
  if (perMille >= 950n) return `about the whole ${name} space`;
  if (perMille >= 450n && perMille <= 550n) return `about half the ${name} space`;
  if (family === 'ipv6' && n >= 1n << 64n) {
    const prefix = bits - (n.toString(2).length - 1);
    return `about a /${prefix} of IPv6 addresses`;
  }
  for (const [unit, word] of LARGE_UNITS) {
    if (n >= unit) {
      const tenths = (n * 10n) / unit;
      const whole = tenths / 10n;
      const decimal = tenths % 10n;
      return `${whole}${whole < 100n && decimal > 0n ? `.${decimal}` : ''} ${word} addresses`;
    }
  }
  return `${formatCount(Number(n))} ${n === 1n ? 'address' : 'addresses'}`;
}

/** The rule number NACL recommendations give the default rule, which AWS lists as '*'. */
const NACL_DEFAULT_RULE_NUMBER = 32767;

/**
 * A NACL rule number as the console shows it: the default rule is '*'.
 *
 * @example naclRuleNumberText({ ruleNumber: 32767, purpose: 'default-deny' }) // '*'
 */
export function naclRuleNumberText(rule: { readonly ruleNumber: number; readonly purpose: string }): string {
  return rule.purpose === 'default-deny' || rule.ruleNumber === NACL_DEFAULT_RULE_NUMBER
    ? '*'
    : String(rule.ruleNumber);
}
