/** Plain recommended entries for the compaction and exact-merge tests. */
import type { EntryPeer, RecommendedEntry } from '../../../shared/analysis/recommended-entry';
import { cidrSize, formatCidr, formatIp, parseCidr } from '../../../shared/net/ip';

/** A tcp entry for one CIDR peer (or an SG / prefix-list peer with the given address count). */
export function entry(
  peer: string,
  ports: readonly [number, number],
  extra: Partial<RecommendedEntry> = {},
): RecommendedEntry {
  let entryPeer: EntryPeer;
  let addressCount = 1n;
  let family: 'ipv4' | 'ipv6' = 'ipv4';
  let observed = new Set<string>();
  if (peer.startsWith('pl-')) {
    entryPeer = { kind: 'prefix-list', prefixListId: peer };
    addressCount = 256n;
  } else if (peer.startsWith('sg-')) {
    entryPeer = { kind: 'sg', groupId: peer };
    addressCount = 2n;
  } else {
    const cidr = parseCidr(peer);
    entryPeer = { kind: 'cidr', cidr };
    addressCount = cidrSize(cidr);
    family = cidr.family;
    observed = new Set([formatIp(cidr.family, cidr.network)]);
  }
  return {
    family,
    protocol: 6,
    ports: { from: ports[0], to: ports[1] },
    peer: entryPeer,
    addressCount,
    connections: 1,
    peerAddrs: observed,
    sourceRuleIds: ['rule-a'],
    basis: 'observed',
    addedAddresses: 0n,
    ...extra,
  };
}

/** An entry as `from-to peer`, e.g. `443-443 10.0.0.0/24`. */
export function describeEntry(e: RecommendedEntry): string {
  const peer =
    e.peer.kind === 'cidr'
      ? formatCidr(e.peer.cidr)
      : e.peer.kind === 'sg'
        ? e.peer.groupId
        : e.peer.prefixListId;
  return `${e.ports?.from}-${e.ports?.to} ${peer}`;
}
