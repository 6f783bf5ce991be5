/**
 * What a rule spec admits, for the plan's safety rules: whether an added entry stays inside the
 * rules it replaces, whether a connection is admitted by a rule set. SG references resolve to the
 * private addresses of the ENIs carrying the group (from the report's resources); prefix lists do
 * not resolve here, so they are only ever equal to themselves.
 */
import {
  type Cidr,
  cidrFirst,
  cidrLast,
  type IpInterval,
  mergeIntervals,
  parseIp,
  tryParseCidr,
} from '../net/ip';
import { isIcmp, protocolHasPorts, protocolNumber } from '../net/protocol';
import { peerKind, type RuleSpec, specKey } from './rule-spec';

/** Private addresses of the ENIs carrying each SG. */
export type GroupMembers = ReadonlyMap<string, readonly string[]>;

interface Space {
  readonly protocol: number | 'all';
  /** tcp/udp. */
  readonly ports?: { readonly from: number; readonly to: number };
  /** icmp/icmpv6: type and code, -1 = all. */
  readonly icmp?: { readonly type: number; readonly code: number };
  /** undefined: the peer does not resolve (a prefix list, an unknown CIDR text). */
  readonly addresses: readonly IpInterval[] | undefined;
}

function protocolOf(text: string): number | 'all' | undefined {
  try {
    return protocolNumber(text);
  } catch {
    return undefined;
  }
}

function hostCidrs(addrs: readonly string[]): Cidr[] {
  return addrs.flatMap((addr) => {
    const ip = parseIp(addr);
    return ip === undefined
      ? []
      : [{ family: ip.family, network: ip.value, prefix: ip.family === 'ipv4' ? 32 : 128 }];
  });
}

/** The addresses a peer stands for, or undefined when it does not resolve. */
export function peerAddresses(peer: string, members: GroupMembers): readonly IpInterval[] | undefined {
  switch (peerKind(peer)) {
    case 'prefix-list':
      return undefined;
    case 'sg': {
      const addrs = members.get(peer);
      return addrs === undefined ? undefined : mergeIntervals(hostCidrs(addrs));
    }
    case 'cidr': {
      const cidr = tryParseCidr(peer);
      return cidr === undefined
        ? undefined
        : [{ family: cidr.family, first: cidrFirst(cidr), last: cidrLast(cidr) }];
    }
  }
}

function spaceOf(spec: RuleSpec, members: GroupMembers): Space | undefined {
  const protocol = protocolOf(spec.protocol);
  if (protocol === undefined) return undefined;
  const addresses = peerAddresses(spec.peer, members);
  if (protocol !== 'all' && protocolHasPorts(protocol)) {
    return { protocol, ports: { from: spec.fromPort ?? 0, to: spec.toPort ?? 65535 }, addresses };
  }
  if (protocol !== 'all' && isIcmp(protocol)) {
    return { protocol, icmp: { type: spec.fromPort ?? -1, code: spec.toPort ?? -1 }, addresses };
  }
  return { protocol, addresses };
}

/** Whether `outer` admits every protocol, port and ICMP type `inner` does (addresses aside). */
function trafficWithin(inner: Space, outer: Space): boolean {
  if (outer.protocol === 'all') return true;
  if (inner.protocol !== outer.protocol) return false;
  if (outer.ports !== undefined) {
    return (
      inner.ports !== undefined && inner.ports.from >= outer.ports.from && inner.ports.to <= outer.ports.to
    );
  }
  if (outer.icmp !== undefined && inner.icmp !== undefined) {
    if (outer.icmp.type === -1) return true;
    if (inner.icmp.type !== outer.icmp.type) return false;
    return outer.icmp.code === -1 || inner.icmp.code === outer.icmp.code;
  }
  return true;
}

/** Whether every address of `needed` lies in `have` (both sorted, disjoint intervals). */
export function intervalsCover(have: readonly IpInterval[], needed: readonly IpInterval[]): boolean {
  return needed.every((need) =>
    have.some((h) => h.family === need.family && h.first <= need.first && h.last >= need.last),
  );
}

/**
 * Whether a rule admits nothing the rules of `originals` (of its SG) did not: equal to one of
 * them, or its traffic inside the union of those whose protocol and ports contain it. An SG
 * reference counts by its ENIs' addresses today; one without ENIs, and a prefix list, only
 * equal to an original.
 *
 * @example specWithin(add, sg.rules.map(specOfReportRule), members) // true for '22 from 203.0.113.0/24' under '22 from 0.0.0.0/0'
 */
export function specWithin(spec: RuleSpec, originals: readonly RuleSpec[], members: GroupMembers): boolean {
  const key = specKey(spec);
  const sameDirection = originals.filter((o) => o.direction === spec.direction);
  if (sameDirection.some((o) => specKey(o) === key)) return true;
  const inner = spaceOf(spec, members);
  if (inner?.addresses === undefined || inner.addresses.length === 0) return false;
  const have = mergeIntervalsOf(
    sameDirection.flatMap((o) => {
      const outer = spaceOf(o, members);
      return outer?.addresses !== undefined && trafficWithin(inner, outer) ? outer.addresses : [];
    }),
  );
  return intervalsCover(have, inner.addresses);
}

function mergeIntervalsOf(intervals: readonly IpInterval[]): IpInterval[] {
  const sorted = [...intervals].sort((a, b) =>
    a.family !== b.family
      ? a.family === 'ipv4'
        ? -1
        : 1
      : a.first < b.first
        ? -1
        : a.first > b.first
          ? 1
          : 0,
  );
  const merged: { family: IpInterval['family']; first: bigint; last: bigint }[] = [];
  for (const interval of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.family === interval.family && interval.first <= last.last + 1n) {
      if (interval.last > last.last) last.last = interval.last;
    } else {
      merged.push({ ...interval });
    }
  }
  return merged;
}

/** One connection as a rule set sees it. */
export interface Probe {
  readonly direction: 'ingress' | 'egress';
  readonly protocol: number;
  /** tcp/udp: the service port; icmp: the type; null otherwise. */
  readonly port: number | null;
  readonly peerAddr: string;
}

/**
 * Whether a rule admits a connection (SG references through their ENIs' addresses).
 *
 * @example admits({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' },
 *   { direction: 'ingress', protocol: 6, port: 22, peerAddr: '198.51.100.7' }, new Map()) // true
 */
export function admits(spec: RuleSpec, probe: Probe, members: GroupMembers): boolean {
  if (spec.direction !== probe.direction) return false;
  const space = spaceOf(spec, members);
  if (space?.addresses === undefined) return false;
  if (space.protocol !== 'all') {
    if (space.protocol !== probe.protocol) return false;
    if (
      space.ports !== undefined &&
      (probe.port === null || probe.port < space.ports.from || probe.port > space.ports.to)
    )
      return false;
    if (space.icmp !== undefined && space.icmp.type !== -1 && probe.port !== space.icmp.type) return false;
  }
  const ip = parseIp(probe.peerAddr);
  if (ip === undefined) return false;
  return space.addresses.some((a) => a.family === ip.family && a.first <= ip.value && a.last >= ip.value);
}

/** The ENIs' private addresses per SG, from report resources rows. */
export function groupMembersOf(
  resources: readonly { readonly sgIds: readonly string[]; readonly privateIps: readonly string[] }[],
): Map<string, string[]> {
  const members = new Map<string, string[]>();
  for (const row of resources) {
    for (const sgId of row.sgIds) members.set(sgId, [...(members.get(sgId) ?? []), ...row.privateIps]);
  }
  return members;
}
