/**
 * An entry as quota compaction holds it: alive until a merge absorbs it, with its bounds
 * precomputed for the hot loops, and linked to its neighbours in its two orders (address order
 * for peer merges, port order for port merges).
 */
import { type Cidr, cidrFirst, cidrLast } from '../../net/ip';
import type { PortRange } from '../../net/ports';
import type { RecommendedEntry } from '../recommended-entry';

/** A node's place in one ordered group: address order or port order. */
export interface Link {
  group?: string;
  prev?: MergeNode;
  next?: MergeNode;
}

/** An entry inside the compaction, linked to its neighbours in its two groups. */
export interface MergeNode {
  readonly id: number;
  readonly entry: RecommendedEntry;
  readonly weight: number;
  alive: boolean;
  /** Whether entry.peerAddrs was built by the compaction (so a merge may pool into it in place). */
  readonly ownsPeers: boolean;
  /** First and last address of a CIDR peer (0 otherwise), precomputed for the hot loops. */
  readonly first: bigint;
  readonly last: bigint;
  /** The same as numbers for IPv4 (exact below 2^53): IPv4 runs are walked without bigint churn. */
  readonly firstV4: number;
  readonly lastV4: number;
  /** Address order among CIDR entries with the same family and traffic key. */
  readonly addr: Link;
  /** Port order among tcp/udp entries with the same protocol and peer. */
  readonly port: Link;
}

export type Dimension = 'addr' | 'port';
export type MergeKind = 'peers' | 'ports';

/** A peer merge runs along the address order, a port merge along the port order. */
export const DIMENSION_OF: Readonly<Record<MergeKind, Dimension>> = { peers: 'addr', ports: 'port' };
export const KIND_OF: Readonly<Record<Dimension, MergeKind>> = { addr: 'peers', port: 'ports' };

/**
 * The address bounds of an entry's CIDR peer, as bigints and (IPv4 only) as numbers; zeros for
 * other peers.
 *
 * @example peerBounds(entryFor('10.0.0.0/30')) // { first: 167772160n, last: 167772163n, firstV4: 167772160, lastV4: 167772163 }
 */
export function peerBounds(
  entry: RecommendedEntry,
): Pick<MergeNode, 'first' | 'last' | 'firstV4' | 'lastV4'> {
  if (entry.peer.kind !== 'cidr') return { first: 0n, last: 0n, firstV4: 0, lastV4: 0 };
  const first = cidrFirst(entry.peer.cidr);
  const last = cidrLast(entry.peer.cidr);
  return entry.peer.cidr.family === 'ipv4'
    ? { first, last, firstV4: Number(first), lastV4: Number(last) }
    : { first, last, firstV4: 0, lastV4: 0 };
}

/**
 * The CIDR peer of a node in an address group (only CIDR entries join one).
 *
 * @example peerCidr(node).prefix // 32
 */
export function peerCidr(node: MergeNode): Cidr {
  return (node.entry.peer as { readonly cidr: Cidr }).cidr;
}

/**
 * The ports of a node in a port group (only tcp/udp entries join one).
 *
 * @example portsOf(node) // { from: 443, to: 443 }
 */
export function portsOf(node: MergeNode): PortRange {
  return node.entry.ports as PortRange;
}
