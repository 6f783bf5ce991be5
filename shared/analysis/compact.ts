/**
 * Quota compaction of recommended entries: while an SG direction holds more (weighted) entries
 * than AWS allows, it takes the merge that admits the fewest extra addresses, never beyond a rule
 * that admitted the merged traffic today. Exact merges, which never admit anything new, live in
 * exact-merge.ts; the entry itself in recommended-entry.ts.
 *
 * Two merges exist: entries with the same protocol and ports merge their CIDR peers into the
 * smallest common supernet; entries with the same peer merge their ports into the spanning range.
 * Candidates are only neighbours (in address order within one protocol/ports group, in port order
 * within one peer group), kept in a priority queue with lazy re-evaluation, so n entries compact
 * in about O(n log n). The parts live in compaction/: the nodes and their neighbour groups, the
 * candidate queue, the pricing of a merge and the interned source lists.
 */
import { type Candidate, CandidateQueue } from './compaction/candidate-queue';
import {
  DIMENSION_OF,
  type Dimension,
  KIND_OF,
  type MergeKind,
  type MergeNode,
  peerBounds,
} from './compaction/merge-node';
import { type Merge, type MergeContext, priceMerge } from './compaction/merge-pricing';
import { GROUP_ORDER, groupOf, NeighbourGroups } from './compaction/neighbour-groups';
import { SourceLists } from './compaction/source-lists';
import type { RecommendedEntry } from './recommended-entry';

/**
 * The callbacks see a merge candidate's shape, sources, connections and exposure; its observed
 * peers (peerAddrs) are pooled only once the merge is taken.
 */
export interface CompactionOptions {
  /** Weight of an entry against the quota (1 per CIDR and SG reference, MaxEntries per prefix list). */
  readonly weightOf: (entry: RecommendedEntry) => number;
  /** Whether a merged entry lies inside one rule entry it names in sourceRuleIds. */
  readonly withinSourceRule: (entry: RecommendedEntry) => boolean;
  /**
   * A rank above the cost: of two merges, the one with the smaller surcharge is taken first,
   * whatever their costs (the NACL side surcharges the sensitive ports a merge opens to more
   * addresses). The exposure a merge adds (addedAddresses) stays its cost alone. None when absent.
   */
  readonly surchargeOf?: (merged: RecommendedEntry, parts: readonly RecommendedEntry[]) => bigint;
}

export interface CompactionResult {
  readonly entries: RecommendedEntry[];
  /** Exposure the merges added: the result's addedAddresses beyond the input's. */
  readonly addedAddresses: bigint;
  readonly merges: number;
  readonly weightedCount: number;
  /** False when no legal merge was left while still over the limit. */
  readonly withinQuota: boolean;
}

/** One compaction under way: its nodes, their neighbour groups and the queued candidates. */
interface Compaction extends MergeContext {
  /** The input entries, by id. */
  readonly nodes: readonly MergeNode[];
  /** Merged entries, ids following the input's. */
  readonly created: MergeNode[];
  readonly groups: NeighbourGroups;
  readonly queue: CandidateQueue;
}

const DIMENSIONS: readonly Dimension[] = ['addr', 'port'];

/**
 * The union of the parts' observed peers, built in the largest part's set: each address moves
 * O(log n) times over a whole compaction. A set the caller gave is copied before it grows.
 */
function poolPeers(parts: readonly MergeNode[]): Set<string> {
  let largest = parts[0] as MergeNode;
  for (const part of parts) if (part.entry.peerAddrs.size > largest.entry.peerAddrs.size) largest = part;
  const pool = largest.ownsPeers
    ? (largest.entry.peerAddrs as Set<string>)
    : new Set(largest.entry.peerAddrs);
  for (const part of parts) if (part !== largest) for (const addr of part.entry.peerAddrs) pool.add(addr);
  return pool;
}

function queueCandidate(
  compaction: Compaction,
  kind: MergeKind,
  left: MergeNode,
  right: MergeNode,
  merge: Merge,
): void {
  const { cost, saving } = merge;
  compaction.queue.push({ kind, cost, rank: Number(cost), saving, left, right });
}

/** Queues the merge of two neighbours when both are alive and merging them saves weight. */
function offer(
  compaction: Compaction,
  kind: MergeKind,
  left: MergeNode | undefined,
  right: MergeNode | undefined,
): void {
  if (left === undefined || right === undefined || !left.alive || !right.alive) return;
  const merge = priceMerge(compaction, kind, left, right);
  if (merge === undefined || merge.saving <= 0) return;
  queueCandidate(compaction, kind, left, right, merge);
}

/** Sorts each group once, links it in order and offers every pair of neighbours (O(n log n)). */
function linkInitialGroups(compaction: Compaction): void {
  for (const dim of DIMENSIONS) {
    const members = new Map<string, MergeNode[]>();
    for (const node of compaction.nodes) {
      const group = groupOf(dim, node.entry);
      if (group === undefined) continue;
      const list = members.get(group);
      if (list === undefined) members.set(group, [node]);
      else list.push(node);
    }
    for (const [group, list] of members) {
      list.sort(GROUP_ORDER[dim]);
      compaction.groups.linkSorted(dim, group, list);
      for (let i = 1; i < list.length; i++) offer(compaction, KIND_OF[dim], list[i - 1], list[i]);
    }
  }
}

/** Replaces the merged run by one node: in place along the merge, in order across it. */
function takeMerge(compaction: Compaction, merge: Merge): void {
  const { groups } = compaction;
  const entry = { ...merge.entry, peerAddrs: poolPeers(merge.absorbed) };
  const node: MergeNode = {
    ...peerBounds(entry),
    id: compaction.nodes.length + compaction.created.length,
    entry,
    weight: merge.weight,
    alive: true,
    ownsPeers: true,
    addr: {},
    port: {},
  };
  compaction.created.push(node);
  const along = DIMENSION_OF[merge.kind];
  const across: Dimension = along === 'addr' ? 'port' : 'addr';
  const runPrev = (merge.absorbed[0] as MergeNode)[along].prev;
  const runNext = (merge.absorbed[merge.absorbed.length - 1] as MergeNode)[along].next;
  const group = (merge.absorbed[0] as MergeNode)[along].group as string;
  const reopened: [MergeNode | undefined, MergeNode | undefined][] = [];
  for (const old of merge.absorbed) {
    old.alive = false;
    groups.unlink(old, along);
    reopened.push(groups.unlink(old, across));
  }
  groups.insertBetween(node, along, group, runPrev, runNext);
  const acrossGroup = groupOf(across, entry);
  if (acrossGroup !== undefined) groups.insertSorted(node, across, acrossGroup);
  // Entries that were apart across the merge may now be neighbours.
  for (const [prev, next] of reopened) offer(compaction, KIND_OF[across], prev, next);
  for (const dim of DIMENSIONS) {
    offer(compaction, KIND_OF[dim], node[dim].prev, node);
    offer(compaction, KIND_OF[dim], node, node[dim].next);
  }
}

/** Exposure the entries carry in total. */
function exposureOf(entries: readonly RecommendedEntry[]): bigint {
  return entries.reduce((sum, entry) => sum + entry.addedAddresses, 0n);
}

/**
 * Merges recommended entries until their weighted count is at most `limit`, always taking the
 * merge that adds the fewest addresses: a peer merge (same protocol and ports) adds the addresses
 * of the common supernet that none of the merged entries held; a port merge (same peer) adds the
 * new ports × the peer's addresses. A merge is legal only when the merged entry lies inside one of
 * the rule entries its parts came from (`withinSourceRule`); when none is left the result stays
 * over the limit (`withinQuota: false`). Merged entries get basis 'compacted' and carry the
 * exposure they add in `addedAddresses`.
 *
 * Only neighbours are candidates (address order within one protocol/ports group, port order
 * within one peer group), kept in a priority queue of (cost, neighbours) only. A candidate is
 * evaluated again when it reaches the top; when a change around it altered its cost it is queued
 * again at the new cost, so a merge beside it that lowers its cost takes effect then, and the
 * order is greedy up to such refreshes. Memory stays O(n): no run or entry waits in the queue.
 *
 * @example
 * const { entries, withinQuota } = compactToQuota(entries, 60, {
 *   weightOf: () => 1, withinSourceRule: (entry) => fitsSomeRule(entry) });
 */
export function compactToQuota(
  entries: readonly RecommendedEntry[],
  limit: number,
  options: CompactionOptions,
): CompactionResult {
  let count = entries.reduce((sum, entry) => sum + options.weightOf(entry), 0);
  if (count <= limit) {
    return { entries: [...entries], addedAddresses: 0n, merges: 0, weightedCount: count, withinQuota: true };
  }
  const sourceLists = new SourceLists();
  const compaction: Compaction = {
    options,
    sourceLists,
    // Nodes share the caller's observed-peer sets until a merge pools into one (copied then).
    nodes: entries.map((entry, id) => ({
      id,
      entry: { ...entry, sourceRuleIds: sourceLists.intern(entry.sourceRuleIds) },
      weight: options.weightOf(entry),
      alive: true,
      ownsPeers: false,
      ...peerBounds(entry),
      addr: {},
      port: {},
    })),
    created: [],
    groups: new NeighbourGroups(),
    queue: new CandidateQueue(),
  };
  linkInitialGroups(compaction);

  let merges = 0;
  // Each merge removes a node and queues a bounded number of candidates, and a stale candidate
  // is queued again only after a change around it: this bound is never the reason to stop.
  const maxSteps = 64 * (compaction.nodes.length + 4);
  for (let step = 0; count > limit && compaction.queue.size > 0 && step < maxSteps; step++) {
    const candidate = compaction.queue.pop() as Candidate;
    const { kind, left, right } = candidate;
    if (!left.alive || !right.alive) continue;
    // An unchanged run evaluates as it did when queued; a changed one may cost more or less now.
    const merge = priceMerge(compaction, kind, left, right);
    if (merge === undefined || merge.saving <= 0) continue;
    if (merge.cost !== candidate.cost || merge.saving !== candidate.saving) {
      // The neighbourhood changed since the candidate was queued: queue it at its current cost.
      queueCandidate(compaction, kind, left, right, merge);
      continue;
    }
    takeMerge(compaction, merge);
    count -= merge.saving;
    merges++;
  }

  const result = [...compaction.nodes, ...compaction.created]
    .filter((node) => node.alive)
    .map((node) => node.entry);
  // What the merges added: the exposure of the result beyond that of the input (entries a merge
  // swallowed whole take their exposure with them, so summing merge costs would count it twice).
  const addedAddresses = exposureOf(result) - exposureOf(entries);
  return { entries: result, addedAddresses, merges, weightedCount: count, withinQuota: count <= limit };
}
