/**
 * A recommended rule entry while it is built, merged and compacted: one peer (CIDR, SG reference
 * or prefix list), one protocol with its ports or ICMP type, and what it pools of the observed
 * traffic (connections, peers, source rules) and of the exposure beyond it. Recommendations for
 * SGs and for NACLs are both built from these entries.
 */
import type { RecommendationBasis } from '../model/analysis';
import type { IpFamily } from '../model/inventory';
import { type Cidr, compareCidrs } from '../net/ip';
import { type PortRange, rangeContainsRange } from '../net/ports';

/** The peer of a recommended entry: a CIDR, an SG reference, or a prefix list. */
export type EntryPeer =
  | { readonly kind: 'cidr'; readonly cidr: Cidr }
  | { readonly kind: 'sg'; readonly groupId: string }
  | { readonly kind: 'prefix-list'; readonly prefixListId: string };

/** ICMP type and code as the source rule names them (-1 = any code); absent on an entry = all ICMP. */
export interface IcmpTypeCode {
  readonly type: number;
  readonly code: number;
}

/** One recommended rule entry while it is being built and compacted (one peer, one port range). */
export interface RecommendedEntry {
  readonly family: IpFamily;
  /** IANA protocol number; recommendations never use '-1'. */
  readonly protocol: number;
  /** tcp/udp only. */
  readonly ports?: PortRange;
  /** icmp/icmpv6 only, when the source rule admits one type. */
  readonly icmp?: IcmpTypeCode;
  readonly peer: EntryPeer;
  /** Addresses the peer stands for (CIDR size, the ENI addresses of a group, prefix-list entries). */
  readonly addressCount: bigint;
  readonly connections: number;
  /** Distinct observed peer addresses (canonical text) this entry admits. */
  readonly peerAddrs: ReadonlySet<string>;
  /** Sorted ids of the rule entries that admitted the traffic this entry admits. */
  readonly sourceRuleIds: readonly string[];
  readonly basis: RecommendationBasis;
  /** Exposure beyond what was observed (summarisation + compaction), see compactToQuota. */
  readonly addedAddresses: bigint;
}

/**
 * Stable text key of a peer.
 *
 * @example entryPeerKey({ kind: 'sg', groupId: 'sg-1' }) // 'sg:sg-1'
 */
export function entryPeerKey(peer: EntryPeer): string {
  switch (peer.kind) {
    case 'cidr':
      return `cidr:${peer.cidr.family}:${peer.cidr.network}/${peer.cidr.prefix}`;
    case 'sg':
      return `sg:${peer.groupId}`;
    case 'prefix-list':
      return `pl:${peer.prefixListId}`;
  }
}

/**
 * Stable text key of what an entry admits besides its peer: protocol, ports, ICMP type.
 *
 * @example entryTrafficKey(entry) // '6|443-443|'
 */
export function entryTrafficKey(entry: Pick<RecommendedEntry, 'protocol' | 'ports' | 'icmp'>): string {
  const ports = entry.ports === undefined ? '' : `${entry.ports.from}-${entry.ports.to}`;
  const icmp = entry.icmp === undefined ? '' : `${entry.icmp.type}/${entry.icmp.code}`;
  return `${entry.protocol}|${ports}|${icmp}`;
}

/**
 * One entry of the given shape standing for the parts merged into it: their connections,
 * observed peers and source rules are pooled; basis and exposure are the caller's.
 *
 * @example combineEntries([a, b], { ...a, ports: { from: 80, to: 443 } }, 'observed', 0n)
 */
export function combineEntries(
  parts: readonly RecommendedEntry[],
  shape: Pick<RecommendedEntry, 'family' | 'protocol' | 'ports' | 'icmp' | 'peer' | 'addressCount'>,
  basis: RecommendationBasis,
  addedAddresses: bigint,
): RecommendedEntry {
  const peerAddrs = new Set<string>();
  const sources = new Set<string>();
  let connections = 0;
  for (const part of parts) {
    connections += part.connections;
    for (const addr of part.peerAddrs) peerAddrs.add(addr);
    for (const id of part.sourceRuleIds) sources.add(id);
  }
  return {
    family: shape.family,
    protocol: shape.protocol,
    ...(shape.ports === undefined ? {} : { ports: shape.ports }),
    ...(shape.icmp === undefined ? {} : { icmp: shape.icmp }),
    peer: shape.peer,
    addressCount: shape.addressCount,
    connections,
    peerAddrs,
    sourceRuleIds: [...sources].sort(),
    basis,
    addedAddresses,
  };
}

/**
 * Number of ports in a range, as a bigint for exposure arithmetic.
 *
 * @example portCount({ from: 80, to: 443 }) // 364n
 */
export function portCount(range: PortRange): bigint {
  return BigInt(range.to - range.from + 1);
}

const BASIS_RANK: Readonly<Record<RecommendationBasis, number>> = {
  observed: 0,
  'port-group': 1,
  'summarised-/24': 2,
  'sg-reference': 3,
  'aws-prefix-list': 3,
  compacted: 4,
  // Never compacted: kept-as-written rules are added after compaction.
  unproven: 5,
};

/**
 * The strongest basis among merged parts (compacted > sg-reference > summarised > port-group > observed).
 *
 * @example strongestBasis([observedEntry, groupedEntry]) // 'port-group'
 */
export function strongestBasis(parts: readonly RecommendedEntry[]): RecommendationBasis {
  let basis: RecommendationBasis = 'observed';
  for (const part of parts) if (BASIS_RANK[part.basis] > BASIS_RANK[basis]) basis = part.basis;
  return basis;
}

/**
 * Whether an ICMP type/code admits nothing beyond another (absent inner = all types: never within).
 *
 * @example icmpWithin({ type: 8, code: 0 }, { type: 8, code: -1 }) // true
 */
export function icmpWithin(entry: IcmpTypeCode | undefined, rule: IcmpTypeCode): boolean {
  return entry !== undefined && entry.type === rule.type && (rule.code === -1 || entry.code === rule.code);
}

/**
 * Whether the entry's protocol, ports and ICMP type lie within the other's (peers aside).
 *
 * @example trafficWithin(tcp443Entry, tcp0to1023Entry) // true
 */
export function trafficWithin(inner: RecommendedEntry, outer: RecommendedEntry): boolean {
  if (inner.protocol !== outer.protocol) return false;
  if (
    outer.ports !== undefined &&
    (inner.ports === undefined || !rangeContainsRange(outer.ports, inner.ports))
  ) {
    return false;
  }
  return outer.icmp === undefined || icmpWithin(inner.icmp, outer.icmp);
}

const PEER_KIND_RANK: Readonly<Record<EntryPeer['kind'], number>> = { cidr: 0, sg: 1, 'prefix-list': 2 };

/**
 * Report order of entries: IPv4 first, then protocol, ports (ICMP type/code), peer (CIDRs in
 * address order, then SG references, then prefix lists).
 *
 * @example entries.sort(compareRecommendedEntries)
 */
export function compareRecommendedEntries(a: RecommendedEntry, b: RecommendedEntry): number {
  if (a.family !== b.family) return a.family === 'ipv4' ? -1 : 1;
  if (a.protocol !== b.protocol) return a.protocol - b.protocol;
  const fromA = a.ports?.from ?? a.icmp?.type ?? -1;
  const fromB = b.ports?.from ?? b.icmp?.type ?? -1;
  if (fromA !== fromB) return fromA - fromB;
  const toA = a.ports?.to ?? a.icmp?.code ?? -1;
  const toB = b.ports?.to ?? b.icmp?.code ?? -1;
  if (toA !== toB) return toA - toB;
  if (a.peer.kind !== b.peer.kind) return PEER_KIND_RANK[a.peer.kind] - PEER_KIND_RANK[b.peer.kind];
  if (a.peer.kind === 'cidr' && b.peer.kind === 'cidr') return compareCidrs(a.peer.cidr, b.peer.cidr);
  const x = entryPeerKey(a.peer);
  const y = entryPeerKey(b.peer);
  return x < y ? -1 : x > y ? 1 : 0;
}
