/**
 * IP protocols as AWS writes them (IpProtocol: 'tcp', 'udp', 'icmp', 'icmpv6', '-1', or a
 * number as text) and as flow logs write them (IANA numbers).
 */
import { InvalidValueError } from '../errors';
import type { ValueOrigin } from './ip';

export const PROTOCOL_ICMP = 1;
export const PROTOCOL_TCP = 6;
export const PROTOCOL_UDP = 17;
export const PROTOCOL_ICMPV6 = 58;

/** Protocol keywords accepted in rule text (IANA keywords; AWS itself writes only the first four). */
const NAMED_PROTOCOLS: ReadonlyMap<string, number> = new Map([
  ['tcp', PROTOCOL_TCP],
  ['udp', PROTOCOL_UDP],
  ['icmp', PROTOCOL_ICMP],
  ['icmpv6', PROTOCOL_ICMPV6],
  ['ipv6-icmp', PROTOCOL_ICMPV6],
  ['gre', 47],
  ['esp', 50],
  ['ah', 51],
  ['sctp', 132],
]);

/**
 * IANA number of an AWS IpProtocol, or 'all' for '-1' (also 'all'). Case-insensitive; numbers
 * 0..255 as text are taken as they are ('6' is tcp).
 *
 * @throws InvalidValueError naming the text.
 * @example protocolNumber('TCP') // 6
 */
export function protocolNumber(ipProtocol: string, origin: ValueOrigin = {}): number | 'all' {
  const text = ipProtocol.trim().toLowerCase();
  if (text === '-1' || text === 'all') return 'all';
  const named = NAMED_PROTOCOLS.get(text);
  if (named !== undefined) return named;
  if (/^\d{1,3}$/.test(text)) {
    const n = Number(text);
    if (n <= 255) return n;
  }
  throw new InvalidValueError(
    `invalid IP protocol '${ipProtocol}' (expected tcp, udp, icmp, icmpv6, -1 or 0-255)`,
    origin,
  );
}

/**
 * The AWS IpProtocol text of a protocol number: 'tcp', 'udp', 'icmp', 'icmpv6', '-1' for all,
 * else the number as text.
 *
 * @example protocolName(50) // '50'
 */
export function protocolName(n: number | 'all'): string {
  switch (n) {
    case 'all':
      return '-1';
    case PROTOCOL_TCP:
      return 'tcp';
    case PROTOCOL_UDP:
      return 'udp';
    case PROTOCOL_ICMP:
      return 'icmp';
    case PROTOCOL_ICMPV6:
      return 'icmpv6';
    default:
      return String(n);
  }
}

/**
 * Whether rules of the protocol carry a port range: tcp and udp only (icmp's FromPort/ToPort are
 * type/code, and every other protocol admits all of its traffic).
 *
 * @example protocolHasPorts(17) // true
 */
export function protocolHasPorts(n: number | 'all'): boolean {
  return n === PROTOCOL_TCP || n === PROTOCOL_UDP;
}

/**
 * Whether the protocol is ICMP or ICMPv6.
 *
 * @example isIcmp(58) // true
 */
export function isIcmp(n: number | 'all'): boolean {
  return n === PROTOCOL_ICMP || n === PROTOCOL_ICMPV6;
}
