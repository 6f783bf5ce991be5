/**
 * IP address and CIDR algebra for IPv4 and IPv6 alike. Addresses are bigints so both families
 * share one code path; every set operation works on intervals and prefixes, never on single
 * addresses, so a /8 or an IPv6 /32 costs O(prefix length), not O(addresses).
 */
import { InvalidValueError } from '../errors';
import type { IpFamily } from '../model/inventory';

/** A CIDR block with its host bits cleared. */
export interface Cidr {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly prefix: number;
}

/** One parsed IP address. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** Where a value came from, passed through to {@link InvalidValueError}. */
export interface ValueOrigin {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
}

const IPV4_BITS = 32;
const IPV6_BITS = 128;
const IPV4_MAX = (1n << 32n) - 1n;
const IPV6_MAX = (1n << 128n) - 1n;
/** ::ffff:0:0/96, the IPv4-mapped block RFC 5952 §5 writes in mixed notation. */
const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

/**
 * Address width of a family in bits.
 *
 * @example familyBits('ipv6') // 128
 */
export function familyBits(family: IpFamily): number {
  return family === 'ipv4' ? IPV4_BITS : IPV6_BITS;
}

function familyMax(family: IpFamily): bigint {
  return family === 'ipv4' ? IPV4_MAX : IPV6_MAX;
}

/** Number of significant bits of a non-negative bigint (0 for 0). */
function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/** Mask of the host bits below `prefix`. */
function hostMask(family: IpFamily, prefix: number): bigint {
  return (1n << BigInt(familyBits(family) - prefix)) - 1n;
}

/**
 * A dotted-quad IPv4 address as a number (0 to 2^32-1), or undefined when it is not one: four
 * decimal octets 0–255, read character by character (no split, no regular expression: flow logs
 * and exports hand over millions of addresses). Leading zeros are rejected: some parsers read them
 * as octal, so '010' is ambiguous.
 *
 * @example ipv4Number('10.0.1.5') // 167772421
 */
export function ipv4Number(text: string): number | undefined {
  let value = 0;
  let octets = 0;
  let octet = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 46; // the end closes the last octet like a '.'
    if (code === 46) {
      if (digits === 0 || octets === 4) return undefined;
      value = value * 256 + octet;
      octets++;
      octet = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      if (digits > 0 && octet === 0) return undefined; // a leading zero
      octet = octet * 10 + (code - 48);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return octets === 4 ? value : undefined;
}

/** {@link ipv4Number} as the bigint an {@link IpAddress} holds. */
function parseIpv4Value(text: string): bigint | undefined {
  const value = ipv4Number(text);
  return value === undefined ? undefined : BigInt(value);
}

/** Parses the 16-bit groups of one side of '::' into `groups`; false when malformed. */
function parseIpv6Groups(side: string, groups: number[], allowIpv4Tail: boolean): boolean {
  if (side === '') return true;
  const parts = side.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (allowIpv4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4Value(part);
      if (v4 === undefined) return false;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return false;
    groups.push(Number.parseInt(part, 16));
  }
  return true;
}

function parseIpv6Value(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head: number[] = [];
  const tail: number[] = [];
  if (halves.length === 1) {
    if (!parseIpv6Groups(text, head, true) || head.length !== 8) return undefined;
  } else {
    const [left = '', right = ''] = halves;
    if (!parseIpv6Groups(left, head, false) || !parseIpv6Groups(right, tail, true)) return undefined;
    // '::' stands for at least one zero group.
    if (head.length + tail.length > 7) return undefined;
  }
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/**
 * Parses one IPv4 or IPv6 address (surrounding whitespace ignored). IPv6 accepts every RFC 4291
 * text form: compressed ('::', '2001:db8::1'), uncompressed, any case, and an IPv4 tail
 * ('::ffff:1.2.3.4'). Zone ids ('%eth0') and IPv4 octets with leading zeros are not accepted.
 *
 * @returns the address, or undefined when the text is not an address.
 * @example parseIp('10.0.0.1') // { family: 'ipv4', value: 167772161n }
 */
export function parseIp(text: string): IpAddress | undefined {
  const trimmed = text.trim();
  if (trimmed.includes(':')) {
    const value = parseIpv6Value(trimmed);
    return value === undefined ? undefined : { family: 'ipv6', value };
  }
  const value = parseIpv4Value(trimmed);
  return value === undefined ? undefined : { family: 'ipv4', value };
}

/**
 * Parses an address, throwing when it is not one.
 *
 * @throws InvalidValueError naming the text.
 * @example parseIpOrThrow('::1').value // 1n
 */
export function parseIpOrThrow(text: string, origin: ValueOrigin = {}): IpAddress {
  const ip = parseIp(text);
  if (ip === undefined) throw new InvalidValueError(`invalid IP address '${text}'`, origin);
  return ip;
}

function formatIpv4(value: bigint): string {
  const n = Number(value);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function formatIpv6(value: bigint): string {
  if (value >> 32n === IPV4_MAPPED_PREFIX >> 32n) {
    return `::ffff:${formatIpv4(value & IPV4_MAX)}`;
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLength).join(':');
  return `${left}::${right}`;
}

/**
 * Formats an address canonically: dotted quad for IPv4, RFC 5952 for IPv6 (lowercase, no
 * leading zeros, the longest run of two or more zero groups compressed, IPv4-mapped addresses in
 * mixed notation '::ffff:1.2.3.4').
 *
 * @throws InvalidValueError when the value is outside the family's range.
 * @example formatIp('ipv6', 0x20010db8000000000000000000000001n) // '2001:db8::1'
 */
export function formatIp(family: IpFamily, value: bigint): string {
  if (value < 0n || value > familyMax(family)) {
    throw new InvalidValueError(`${family} address value ${value} is out of range`);
  }
  return family === 'ipv4' ? formatIpv4(value) : formatIpv6(value);
}

/**
 * The canonical text of an address ({@link formatIp} of {@link parseIp}), or undefined when the
 * text is not an address. Use it to compare addresses written by different tools.
 *
 * @example canonicalIp('2001:DB8:0:0::1') // '2001:db8::1'
 */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip.family, ip.value);
}

/**
 * Parses a CIDR, or undefined when it is not one. A bare address is its /32 or /128; host bits
 * are cleared ('10.0.0.5/24' gives 10.0.0.0/24, although AWS rejects such a CIDR in a rule).
 *
 * @example tryParseCidr('10.0.0.5/24') // { family: 'ipv4', network: 167772160n, prefix: 24 }
 */
export function tryParseCidr(text: string): Cidr | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const ip = parseIp(addressText);
  if (ip === undefined || addressText !== addressText.trim()) return undefined;
  const bits = familyBits(ip.family);
  let prefix = bits;
  if (slash >= 0) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > bits) return undefined;
  }
  return { family: ip.family, network: ip.value & ~hostMask(ip.family, prefix), prefix };
}

/**
 * Parses a CIDR ('10.0.0.0/8', '2001:db8::/32', or a bare address = /32 or /128), clearing host
 * bits.
 *
 * @throws InvalidValueError naming the text (and the origin, when given).
 * @example formatCidr(parseCidr('10.0.0.5/24')) // '10.0.0.0/24'
 */
export function parseCidr(text: string, origin: ValueOrigin = {}): Cidr {
  const cidr = tryParseCidr(text);
  if (cidr === undefined) throw new InvalidValueError(`invalid CIDR '${text}'`, origin);
  return cidr;
}

/**
 * Whether a CIDR text has host bits set ('10.0.0.5/24'): it parses, but AWS rejects it in rules.
 * False for text that is not a CIDR.
 *
 * @example hasHostBits('10.0.0.5/24') // true
 */
export function hasHostBits(text: string): boolean {
  const cidr = tryParseCidr(text);
  if (cidr === undefined) return false;
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  return ip !== undefined && ip.value !== cidr.network;
}

/**
 * CIDR text with the canonical address form.
 *
 * @example formatCidr({ family: 'ipv6', network: 0n, prefix: 0 }) // '::/0'
 */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.family, cidr.network)}/${cidr.prefix}`;
}

/**
 * The /32 or /128 of one address.
 *
 * @throws InvalidValueError when the text is not an address.
 * @example formatCidr(hostCidr('2001:db8::1')) // '2001:db8::1/128'
 */
export function hostCidr(addrText: string, origin: ValueOrigin = {}): Cidr {
  const ip = parseIpOrThrow(addrText, origin);
  return { family: ip.family, network: ip.value, prefix: familyBits(ip.family) };
}

/**
 * First address of a CIDR (its network address).
 *
 * @example cidrFirst(parseCidr('10.0.0.0/24')) // 167772160n
 */
export function cidrFirst(cidr: Cidr): bigint {
  return cidr.network;
}

/**
 * Last address of a CIDR.
 *
 * @example formatIp('ipv4', cidrLast(parseCidr('10.0.0.0/24'))) // '10.0.0.255'
 */
export function cidrLast(cidr: Cidr): bigint {
  return cidr.network | hostMask(cidr.family, cidr.prefix);
}

/**
 * Number of addresses in a CIDR (a bigint: an IPv6 /0 holds 2^128).
 *
 * @example cidrSize(parseCidr('10.0.0.0/24')) // 256n
 */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(familyBits(cidr.family) - cidr.prefix);
}

/**
 * Whether the CIDR contains the address; false across families.
 *
 * @throws InvalidValueError when `ip` is text that is not an address.
 * @example cidrContainsIp(parseCidr('10.0.0.0/8'), '10.1.2.3') // true
 */
export function cidrContainsIp(cidr: Cidr, ip: IpAddress | string): boolean {
  const address = typeof ip === 'string' ? parseIpOrThrow(ip) : ip;
  if (address.family !== cidr.family) return false;
  return (address.value & ~hostMask(cidr.family, cidr.prefix)) === cidr.network;
}

/**
 * Whether `outer` contains every address of `inner` (a CIDR contains itself); false across families.
 *
 * @example cidrContains(parseCidr('10.0.0.0/8'), parseCidr('10.1.0.0/16')) // true
 */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  return (inner.network & ~hostMask(outer.family, outer.prefix)) === outer.network;
}

/**
 * Whether two CIDRs share an address (for prefixes: one contains the other).
 *
 * @example cidrsOverlap(parseCidr('10.0.0.0/8'), parseCidr('10.0.0.0/24')) // true
 */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/**
 * Whether the CIDR is all addresses of its family (0.0.0.0/0 or ::/0).
 *
 * @example isWorld(parseCidr('::/0')) // true
 */
export function isWorld(cidr: Cidr): boolean {
  return cidr.prefix === 0;
}

const PRIVATE_BLOCKS: readonly Cidr[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10', // carrier-grade NAT (RFC 6598)
  '169.254.0.0/16', // link-local
  '127.0.0.0/8',
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  '::1/128',
].map((text) => parseCidr(text));

/**
 * Whether the CIDR lies entirely inside non-public space: RFC 1918, CGNAT 100.64/10, link-local
 * (169.254/16, fe80::/10), loopback (127/8, ::1) or IPv6 unique-local fc00::/7. A CIDR that only
 * partly overlaps private space (e.g. 0.0.0.0/0) is not private.
 *
 * @example isPrivate(parseCidr('10.1.0.0/16')) // true
 */
export function isPrivate(cidr: Cidr): boolean {
  return PRIVATE_BLOCKS.some((block) => cidrContains(block, cidr));
}

/**
 * The CIDR of the given (shorter or equal) prefix that contains `cidr`; `cidr` itself when it is
 * already that wide or wider.
 *
 * @throws InvalidValueError when the prefix is outside 0..32 / 0..128.
 * @example formatCidr(supernetOf(parseCidr('10.1.2.3/32'), 24)) // '10.1.2.0/24'
 */
export function supernetOf(cidr: Cidr, prefix: number): Cidr {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > familyBits(cidr.family)) {
    throw new InvalidValueError(`invalid ${cidr.family} prefix length ${prefix}`);
  }
  if (prefix >= cidr.prefix) return cidr;
  return { family: cidr.family, network: cidr.network & ~hostMask(cidr.family, prefix), prefix };
}

/**
 * The smallest CIDR that contains both.
 *
 * @throws InvalidValueError when the families differ.
 * @example formatCidr(commonSupernet(parseCidr('10.0.0.1'), parseCidr('10.0.0.6'))) // '10.0.0.0/29'
 */
export function commonSupernet(a: Cidr, b: Cidr): Cidr {
  if (a.family !== b.family) {
    throw new InvalidValueError(
      `no common supernet of ${formatCidr(a)} and ${formatCidr(b)}: families differ`,
    );
  }
  const commonBits = familyBits(a.family) - bitLength(a.network ^ b.network);
  return supernetOf(a, Math.min(a.prefix, b.prefix, commonBits));
}

/**
 * The fewest CIDRs that cover exactly the addresses first..last (inclusive); at most
 * 2 × (address bits) blocks, computed per block, not per address.
 *
 * @throws InvalidValueError when a bound is outside the family's range.
 * @example rangeToCidrs('ipv4', 167772160n, 167772416n).map(formatCidr) // ['10.0.0.0/24', '10.0.1.0/32']
 */
export function rangeToCidrs(family: IpFamily, first: bigint, last: bigint): Cidr[] {
  const max = familyMax(family);
  if (first < 0n || last < 0n || first > max || last > max) {
    throw new InvalidValueError(`${family} range ${first}..${last} is out of range`);
  }
  const bits = familyBits(family);
  const cidrs: Cidr[] = [];
  let start = first;
  // Each block is the largest aligned one that starts at `start` and ends by `last`.
  for (let guard = 0; start <= last && guard <= 2 * bits; guard++) {
    const alignment = start === 0n ? bits : bitLength(start & -start) - 1;
    const fit = bitLength(last - start + 1n) - 1;
    const hostBits = Math.min(alignment, fit);
    cidrs.push({ family, network: start, prefix: bits - hostBits });
    start += 1n << BigInt(hostBits);
  }
  return cidrs;
}

/**
 * Orders CIDRs: IPv4 before IPv6, then by network address, then wider first.
 *
 * @example [b, a].sort(compareCidrs)
 */
export function compareCidrs(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family === 'ipv4' ? -1 : 1;
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  return a.prefix - b.prefix;
}

/** An inclusive address interval of one family. */
export interface IpInterval {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

/**
 * Union of CIDRs as sorted, disjoint, non-adjacent intervals (IPv4 first).
 *
 * @example mergeIntervals([parseCidr('10.0.0.0/25'), parseCidr('10.0.0.128/25')]) // one interval 10.0.0.0..10.0.0.255
 */
export function mergeIntervals(cidrs: readonly Cidr[]): IpInterval[] {
  const sorted = [...cidrs].sort(compareCidrs);
  const merged: IpInterval[] = [];
  let current: { family: IpFamily; first: bigint; last: bigint } | undefined;
  for (const cidr of sorted) {
    const first = cidrFirst(cidr);
    const last = cidrLast(cidr);
    if (current !== undefined && current.family === cidr.family && first <= current.last + 1n) {
      if (last > current.last) current.last = last;
      continue;
    }
    if (current !== undefined) merged.push(current);
    current = { family: cidr.family, first, last };
  }
  if (current !== undefined) merged.push(current);
  return merged;
}

/**
 * The minimal set of CIDRs covering exactly the union of the input (overlaps removed, adjacent
 * and nested blocks joined), sorted IPv4 first then by address.
 *
 * @example mergeCidrs([parseCidr('10.0.0.0/25'), parseCidr('10.0.0.128/25')]).map(formatCidr) // ['10.0.0.0/24']
 */
export function mergeCidrs(cidrs: readonly Cidr[]): Cidr[] {
  return mergeIntervals(cidrs).flatMap((interval) =>
    rangeToCidrs(interval.family, interval.first, interval.last),
  );
}
