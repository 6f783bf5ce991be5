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

/** One dimension entries merge along (CIDR peers, port ranges): how to read, order and merge its values. */
interface MergeAxis<T> {
  /** The group an entry merges within (the same everything else). */
  readonly groupKey: (e: RecommendedEntry) => string;
  /** Whether the entry has a value on this axis (others are left as they are). */
  readonly has: (e: RecommendedEntry) => boolean;
  readonly valueOf: (e: RecommendedEntry) => T;
  readonly compare: (a: T, b: T) => number;
  /** Whether values in order leave a gap after each one (so each is its own block of the union). */
  readonly apart: (sorted: readonly T[]) => boolean;
  /** The union as blocks, in order. */
  readonly merge: (values: readonly T[]) => readonly T[];
  readonly contains: (block: T, value: T) => boolean;
  /** The entry standing for a merged block, before its parts' traffic is combined into it. */
  readonly blockEntry: (first: RecommendedEntry, block: T) => RecommendedEntry;
}

/** Merges each group's entries into the blocks of their union along one axis, combining their traffic. */
function mergeAlong<T>(entries: readonly RecommendedEntry[], axis: MergeAxis<T>): RecommendedEntry[] {
  const result: RecommendedEntry[] = [];
  for (const group of groupBy(entries, axis.groupKey)) {
    const first = group[0] as RecommendedEntry;
    if (!axis.has(first) || group.length === 1) {
      for (const entry of group) result.push(entry); // a group can outnumber a call's arguments
      continue;
    }
    const sorted = [...group].sort((a, b) => axis.compare(axis.valueOf(a), axis.valueOf(b)));
    // Most groups hold no two values that touch: each entry is its own block of the union.
    if (axis.apart(sorted.map(axis.valueOf))) {
      for (const entry of sorted) result.push(entry);
      continue;
    }
    // Both lists are in order and every entry lies in exactly one merged block.
    let i = 0;
    for (const block of axis.merge(group.map(axis.valueOf))) {
      const parts: RecommendedEntry[] = [];
      while (i < sorted.length && axis.contains(block, axis.valueOf(sorted[i] as RecommendedEntry))) {
        parts.push(sorted[i] as RecommendedEntry);
        i++;
      }
      if (parts.length === 1) result.push(parts[0] as RecommendedEntry);
      else if (parts.length > 1) {
        result.push(
          combineEntries(parts, axis.blockEntry(first, block), strongestBasis(parts), summedExposure(parts)),
        );
      }
    }
  }
  return result;
}

const CIDR_PEERS: MergeAxis<Cidr> = {
  groupKey: (e) => (e.peer.kind === 'cidr' ? `${e.peer.cidr.family}|${entryTrafficKey(e)}` : ''),
  has: (e) => e.peer.kind === 'cidr',
  valueOf: (e) => (e.peer as { readonly cidr: Cidr }).cidr,
  compare: compareCidrs,
  apart: cidrsApart,
  merge: mergeCidrs,
  contains: cidrContains,
  blockEntry: (first, block) => ({
    ...first,
    peer: { kind: 'cidr', cidr: block },
    addressCount: cidrSize(block),
  }),
};

const PORT_RANGES: MergeAxis<PortRange> = {
  groupKey: (e) => (e.ports === undefined ? '' : `${e.protocol}|${entryPeerKey(e.peer)}`),
  has: (e) => e.ports !== undefined,
  valueOf: (e) => e.ports as PortRange,
  compare: (a, b) => a.from - b.from,
  apart: rangesApart,
  merge: normalizeRanges,
  contains: rangeContainsRange,
  blockEntry: (first, range) => ({ ...first, ports: range }),
};

function mergeCidrPeers(entries: readonly RecommendedEntry[]): RecommendedEntry[] {
  return mergeAlong(entries, CIDR_PEERS);
}

function mergePortRanges(entries: readonly RecommendedEntry[]): RecommendedEntry[] {
  return mergeAlong(entries, PORT_RANGES);
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
