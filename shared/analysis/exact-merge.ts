/**
 * Exact merges of recommended entries: they never admit anything the entries did not admit
 * already. Identical entries pool, CIDR peers of the same traffic become their minimal CIDR union,
 * ports of the same peer become their normalized ranges, and entries another entry contains are
 * dropped into it. Quota compaction (compact.ts) is the merge that may widen.
 */
import type { IpFamily } from '../model/inventory';
import {
  type Cidr,
  cidrContains,
  cidrFirst,
  cidrLast,
  cidrSize,
  compareCidrs,
  mergeCidrs,
  supernetOf,
} from '../net/ip';
import { normalizeRanges, type PortRange, rangeContainsRange } from '../net/ports';
import {
  combineEntries,
  type EntryPeer,
  entryPeerKey,
  entryTrafficKey,
  portCount,
  type RecommendedEntry,
  strongestBasis,
  trafficWithin,
} from './recommended-entry';

/** Exact merging converges in a few rounds; the bound only guards against a logic error. */
const CONSOLIDATION_ROUNDS = 64;

/** Exposure of an exact merge: what its parts added (an exact union adds nothing of its own). */
function summedExposure(parts: readonly RecommendedEntry[]): bigint {
  return parts.reduce((sum, part) => sum + part.addedAddresses, 0n);
}

/** Groups items by a key, in first-seen order. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return [...groups.values()];
}

/**
 * Exact merging, repeated until nothing changes: identical entries pool; CIDR peers with the same
 * protocol and ports become their minimal CIDR union; ports of the same peer become their
 * normalized ranges. Nothing is widened.
 *
 * @example mergeEntriesExactly([tcp443From('10.0.0.0/25'), tcp443From('10.0.0.128/25')]) // one entry, 10.0.0.0/24
 */
export function mergeEntriesExactly(entries: readonly RecommendedEntry[]): RecommendedEntry[] {
  let current = groupBy(entries, (e) => `${entryTrafficKey(e)}|${entryPeerKey(e.peer)}`).map((group) =>
    group.length === 1
      ? (group[0] as RecommendedEntry)
      : combineEntries(group, group[0] as RecommendedEntry, strongestBasis(group), summedExposure(group)),
  );
  for (let round = 0; round < CONSOLIDATION_ROUNDS; round++) {
    const before = current.length;
    current = mergeCidrPeers(current);
    current = mergePortRanges(current);
    if (current.length === before) break;
  }
  return current;
}

/** Whether CIDRs in address order leave a gap after each one (so their union is themselves). */
function cidrsApart(sorted: readonly Cidr[]): boolean {
  let end = -2n;
  for (const cidr of sorted) {
    if (cidrFirst(cidr) <= end + 1n) return false;
    end = cidrLast(cidr);
  }
  return true;
}

/** Whether port ranges in start order leave a gap after each one (so they normalise to themselves). */
function rangesApart(sorted: readonly PortRange[]): boolean {
  let end = -2;
  for (const range of sorted) {
    if (range.from <= end + 1) return false;
    end = range.to;
  }
  return true;
}

function mergeCidrPeers(entries: readonly RecommendedEntry[]): RecommendedEntry[] {
  const result: RecommendedEntry[] = [];
  const groups = groupBy(entries, (e) =>
    e.peer.kind === 'cidr' ? `${e.peer.cidr.family}|${entryTrafficKey(e)}` : '',
  );
  for (const group of groups) {
    const first = group[0] as RecommendedEntry;
    if (first.peer.kind !== 'cidr' || group.length === 1) {
      result.push(...group);
      continue;
    }
    const cidrOf = (e: RecommendedEntry): Cidr => (e.peer as { readonly cidr: Cidr }).cidr;
    const sorted = [...group].sort((a, b) => compareCidrs(cidrOf(a), cidrOf(b)));
    // Most groups hold no two blocks that touch: each entry is its own block of the union.
    if (cidrsApart(sorted.map(cidrOf))) {
      for (const entry of sorted) result.push(entry);
      continue;
    }
    const merged = mergeCidrs(group.map(cidrOf));
    // Both lists are in address order and every entry lies in exactly one merged block.
    let i = 0;
    for (const block of merged) {
      const parts: RecommendedEntry[] = [];
      while (i < sorted.length && cidrContains(block, cidrOf(sorted[i] as RecommendedEntry))) {
        parts.push(sorted[i] as RecommendedEntry);
        i++;
      }
      if (parts.length === 1) result.push(parts[0] as RecommendedEntry);
      else if (parts.length > 1) {
        const peer: EntryPeer = { kind: 'cidr', cidr: block };
        result.push(
          combineEntries(
            parts,
            { ...first, peer, addressCount: cidrSize(block) },
            strongestBasis(parts),
            summedExposure(parts),
          ),
        );
      }
    }
  }
  return result;
}

function mergePortRanges(entries: readonly RecommendedEntry[]): RecommendedEntry[] {
  const result: RecommendedEntry[] = [];
  const groups = groupBy(entries, (e) =>
    e.ports === undefined ? '' : `${e.protocol}|${entryPeerKey(e.peer)}`,
  );
  for (const group of groups) {
    const first = group[0] as RecommendedEntry;
    if (first.ports === undefined || group.length === 1) {
      result.push(...group);
      continue;
    }
    const rangeOf = (e: RecommendedEntry): PortRange => e.ports as PortRange;
    const sorted = [...group].sort((a, b) => rangeOf(a).from - rangeOf(b).from);
    if (rangesApart(sorted.map(rangeOf))) {
      for (const entry of sorted) result.push(entry);
      continue;
    }
    const merged = normalizeRanges(group.map(rangeOf));
    let i = 0;
    for (const range of merged) {
      const parts: RecommendedEntry[] = [];
      while (i < sorted.length && rangeContainsRange(range, rangeOf(sorted[i] as RecommendedEntry))) {
        parts.push(sorted[i] as RecommendedEntry);
        i++;
      }
      if (parts.length === 1) result.push(parts[0] as RecommendedEntry);
      else if (parts.length > 1)
        result.push(
          combineEntries(parts, { ...first, ports: range }, strongestBasis(parts), summedExposure(parts)),
        );
    }
  }
  return result;
}

/**
 * Drops entries another entry contains (same protocol, wider ports, a containing peer), pooling
 * their traffic and sources into the container. Containers are found by key lookups of the peer
 * and its supernets, not by comparing all pairs.
 *
 * @example dropContainedEntries([tcp443From('10.0.0.5/32'), tcp400to500From('10.0.0.0/16')]) // the /16 entry only
 */
export function dropContainedEntries(entries: readonly RecommendedEntry[]): RecommendedEntry[] {
  // Widest first, so every container is kept before what it contains.
  const ordered = entries
    .map((entry) => ({
      entry,
      size: entry.addressCount * (entry.ports === undefined ? 1n : portCount(entry.ports)),
    }))
    .sort((a, b) => (a.size === b.size ? 0 : a.size > b.size ? -1 : 1))
    .map(({ entry }) => entry);
  const kept: RecommendedEntry[] = [];
  const inside: RecommendedEntry[][] = [];
  const byPeer = new Map<string, number[]>();
  // Prefix lengths of the kept CIDR peers: only supernets of those lengths can hold a container.
  const prefixes: Record<IpFamily, Set<number>> = { ipv4: new Set(), ipv6: new Set() };
  const containerOf = (entry: RecommendedEntry, key: string): number | undefined =>
    byPeer.get(key)?.find((index) => trafficWithin(entry, kept[index] as RecommendedEntry));
  for (const entry of ordered) {
    let container: number | undefined;
    const peer = entry.peer;
    if (peer.kind === 'cidr') {
      for (const prefix of prefixes[peer.cidr.family]) {
        if (prefix > peer.cidr.prefix) continue;
        container = containerOf(entry, entryPeerKey({ kind: 'cidr', cidr: supernetOf(peer.cidr, prefix) }));
        if (container !== undefined) break;
      }
    } else {
      container = containerOf(entry, entryPeerKey(peer));
    }
    if (container !== undefined) {
      inside[container]?.push(entry);
      continue;
    }
    const key = entryPeerKey(peer);
    const indexes = byPeer.get(key);
    if (indexes === undefined) byPeer.set(key, [kept.length]);
    else indexes.push(kept.length);
    if (peer.kind === 'cidr') prefixes[peer.cidr.family].add(peer.cidr.prefix);
    kept.push(entry);
    inside.push([]);
  }
  // Pool each container's contents once, so a container of many entries costs linear time.
  return kept.map((outer, i) => {
    const contents = inside[i] ?? [];
    return contents.length === 0
      ? outer
      : combineEntries([outer, ...contents], outer, outer.basis, outer.addedAddresses);
  });
}
