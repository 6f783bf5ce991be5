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
 * in about O(n log n).
 */
import { type Cidr, cidrFirst, cidrLast, commonSupernet } from '../net/ip';
import { type PortRange, rangeContainsRange } from '../net/ports';
import { entryPeerKey, entryTrafficKey, type RecommendedEntry } from './recommended-entry';

/**
 * The callbacks see a merge candidate's shape, sources, connections and exposure; its observed
 * peers (peerAddrs) are pooled only once the merge is taken.
 */
export interface CompactionOptions {
  /** Weight of an entry against the quota (1 per CIDR and SG reference, MaxEntries per prefix list). */
  readonly weightOf: (entry: RecommendedEntry) => number;
  /** Whether a merged entry lies inside one rule entry it names in sourceRuleIds. */
  readonly withinSourceRule: (entry: RecommendedEntry) => boolean;
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

/** A node's place in one ordered group: address order or port order. */
interface Link {
  group?: string;
  prev?: Node;
  next?: Node;
}

/** An entry inside the compaction, linked to its neighbours in its two groups. */
interface Node {
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

type Dimension = 'addr' | 'port';
type MergeKind = 'peers' | 'ports';

/** A peer merge runs along the address order, a port merge along the port order. */
const DIMENSION_OF: Readonly<Record<MergeKind, Dimension>> = { peers: 'addr', ports: 'port' };
const KIND_OF: Readonly<Record<Dimension, MergeKind>> = { addr: 'peers', port: 'ports' };

interface Merge {
  readonly kind: MergeKind;
  readonly cost: bigint;
  /** Weight removed from the count. */
  readonly saving: number;
  /** The run of neighbouring nodes the merged entry replaces, in group order. */
  readonly absorbed: readonly Node[];
  /** The merged entry without its observed peers (pooled only when the merge is taken). */
  readonly entry: RecommendedEntry;
  readonly weight: number;
}

/**
 * A queued merge: its neighbours and cost only. The run is evaluated again when the candidate
 * reaches the top (a run that did not change evaluates the same), so the queue holds no runs or
 * entries: its memory stays a few words per candidate.
 */
interface Candidate {
  readonly kind: MergeKind;
  readonly cost: bigint;
  /** The cost as a double: Number() never reverses an order, so unequal ranks order exactly. */
  readonly rank: number;
  readonly saving: number;
  readonly left: Node;
  readonly right: Node;
}

function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  if (a.cost !== b.cost) return a.cost < b.cost ? -1 : 1;
  if (a.saving !== b.saving) return b.saving - a.saving;
  if (a.left.id !== b.left.id) return a.left.id - b.left.id;
  if (a.right.id !== b.right.id) return a.right.id - b.right.id;
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/**
 * A binary min-heap of merge candidates. The ranks sit in their own packed array beside the
 * candidates, so most comparisons read no candidate at all.
 */
class CandidateQueue {
  private readonly items: Candidate[] = [];
  private readonly ranks: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: Candidate): void {
    const { items, ranks } = this;
    const rank = item.rank;
    let i = items.length;
    items.push(item);
    ranks.push(rank);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentRank = ranks[parent] as number;
      if (
        parentRank < rank ||
        (parentRank === rank && compareCandidates(items[parent] as Candidate, item) <= 0)
      ) {
        break;
      }
      items[i] = items[parent] as Candidate;
      ranks[i] = parentRank;
      i = parent;
    }
    items[i] = item;
    ranks[i] = rank;
  }

  pop(): Candidate | undefined {
    const { items, ranks } = this;
    const top = items[0];
    const last = items.pop();
    ranks.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    const size = items.length;
    const rank = last.rank;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.before(child + 1, items[child] as Candidate, ranks[child] as number))
        child++;
      if (!this.before(child, last, rank)) break;
      items[i] = items[child] as Candidate;
      ranks[i] = ranks[child] as number;
      i = child;
    }
    items[i] = last;
    ranks[i] = rank;
    return top;
  }

  /** Whether the candidate at index i sorts before the given one. */
  private before(i: number, other: Candidate, otherRank: number): boolean {
    const rank = this.ranks[i] as number;
    return (
      rank < otherRank || (rank === otherRank && compareCandidates(this.items[i] as Candidate, other) < 0)
    );
  }
}

const NO_PEERS: ReadonlySet<string> = new Set();

/**
 * The union of the parts' observed peers, built in the largest part's set: each address moves
 * O(log n) times over a whole compaction. A set the caller gave is copied before it grows.
 */
function poolPeers(parts: readonly Node[]): Set<string> {
  let largest = parts[0] as Node;
  for (const part of parts) if (part.entry.peerAddrs.size > largest.entry.peerAddrs.size) largest = part;
  const pool = largest.ownsPeers
    ? (largest.entry.peerAddrs as Set<string>)
    : new Set(largest.entry.peerAddrs);
  for (const part of parts) if (part !== largest) for (const addr of part.entry.peerAddrs) pool.add(addr);
  return pool;
}

function bounds(entry: RecommendedEntry): Pick<Node, 'first' | 'last' | 'firstV4' | 'lastV4'> {
  if (entry.peer.kind !== 'cidr') return { first: 0n, last: 0n, firstV4: 0, lastV4: 0 };
  const first = cidrFirst(entry.peer.cidr);
  const last = cidrLast(entry.peer.cidr);
  return entry.peer.cidr.family === 'ipv4'
    ? { first, last, firstV4: Number(first), lastV4: Number(last) }
    : { first, last, firstV4: 0, lastV4: 0 };
}

/**
 * Source-rule lists of one compaction, one instance per content, with their unions remembered:
 * pooling the sources of a run costs a map lookup per part, where sorting them anew on each of
 * the many candidate evaluations dominated the compaction.
 */
class SourceLists {
  private readonly byText = new Map<string, readonly string[]>();
  private readonly unions = new Map<readonly string[], Map<readonly string[], readonly string[]>>();
  private lastA: readonly string[] = [];
  private lastB: readonly string[] = [];
  private lastUnion: readonly string[] = [];

  /** The one instance of a list with this content. */
  intern(list: readonly string[]): readonly string[] {
    // One id (the common case) is its own key; longer lists are keyed by their JSON text.
    const text = list.length === 1 ? `\u0001${list[0]}` : JSON.stringify(list);
    const known = this.byText.get(text);
    if (known !== undefined) return known;
    this.byText.set(text, list);
    return list;
  }

  /** Sorted union of the parts' lists; a run whose parts share one list keeps it as it is. */
  pooled(parts: readonly Node[]): readonly string[] {
    let pool = (parts[0] as Node).entry.sourceRuleIds;
    for (const part of parts) pool = this.union(pool, part.entry.sourceRuleIds);
    return pool;
  }

  private union(a: readonly string[], b: readonly string[]): readonly string[] {
    if (a === b) return a;
    // Runs alternate between a few lists: the last pair answers most lookups.
    if (a === this.lastA && b === this.lastB) return this.lastUnion;
    this.lastA = a;
    this.lastB = b;
    this.lastUnion = this.unionOf(a, b);
    return this.lastUnion;
  }

  private unionOf(a: readonly string[], b: readonly string[]): readonly string[] {
    let byOther = this.unions.get(a);
    if (byOther === undefined) {
      byOther = new Map();
      this.unions.set(a, byOther);
    }
    let union = byOther.get(b);
    if (union === undefined) {
      union = this.intern([...new Set([...a, ...b])].sort());
      byOther.set(b, union);
    }
    return union;
  }
}

/** Runs of a port merge up to this length find nested parts by comparing pairs. */
const PAIRWISE_RUN = 16;

/**
 * Exposure the parts of a port merge already carry: a part whose ports lie inside another part's
 * adds none of its own (of equal ranges, the one with the lower id counts).
 */
function carriedByPorts(parts: readonly Node[]): bigint {
  let carried = 0n;
  if (parts.length <= PAIRWISE_RUN) {
    for (const node of parts) {
      const own = portsOf(node);
      const inside = parts.some(
        (other) =>
          other !== node &&
          rangeContainsRange(portsOf(other), own) &&
          (other.id < node.id || !rangeContainsRange(own, portsOf(other))),
      );
      if (!inside) carried += node.entry.addedAddresses;
    }
    return carried;
  }
  // Ordered by start, widest first, then id: a part lies inside another exactly when a part
  // before it reaches as far.
  const ordered = [...parts].sort((a, b) => {
    const x = portsOf(a);
    const y = portsOf(b);
    return x.from - y.from || y.to - x.to || a.id - b.id;
  });
  let reach = -1;
  for (const node of ordered) {
    const { to } = portsOf(node);
    if (to > reach) {
      carried += node.entry.addedAddresses;
      reach = to;
    }
  }
  return carried;
}

function peerCidr(node: Node): Cidr {
  return (node.entry.peer as { readonly cidr: Cidr }).cidr;
}

function portsOf(node: Node): PortRange {
  return node.entry.ports as PortRange;
}

function compareAddressOrder(a: Node, b: Node): number {
  const x = peerCidr(a);
  const y = peerCidr(b);
  if (a.first !== b.first) return a.first < b.first ? -1 : 1;
  return x.prefix - y.prefix || a.id - b.id;
}

function comparePortOrder(a: Node, b: Node): number {
  const x = portsOf(a);
  const y = portsOf(b);
  return x.from - y.from || x.to - y.to || a.id - b.id;
}

const COMPARE: Readonly<Record<Dimension, (a: Node, b: Node) => number>> = {
  addr: compareAddressOrder,
  port: comparePortOrder,
};

function addrGroupOf(entry: RecommendedEntry): string | undefined {
  return entry.peer.kind === 'cidr' ? `${entry.peer.cidr.family}|${entryTrafficKey(entry)}` : undefined;
}

function portGroupOf(entry: RecommendedEntry): string | undefined {
  return entry.ports === undefined ? undefined : `${entry.protocol}|${entryPeerKey(entry.peer)}`;
}

/**
 * A sorted snapshot of a group, to find where a node goes by binary search instead of walking
 * the whole list. It goes stale as the group changes (dead nodes stay, new nodes are missing)
 * and is rebuilt once the changes outnumber half of it, so its upkeep is amortised O(1).
 */
interface GroupIndex {
  nodes: Node[];
  changes: number;
}

/** Groups shorter than this are walked; longer ones get a {@link GroupIndex}. */
const INDEXED_GROUP = 32;

/** The ordered groups of the compaction: doubly linked lists with their heads. */
class Groups {
  private readonly heads: Record<Dimension, Map<string, Node>> = { addr: new Map(), port: new Map() };
  private readonly indexes: Record<Dimension, Map<string, GroupIndex>> = { addr: new Map(), port: new Map() };

  /** Links nodes already sorted in group order. */
  linkSorted(dim: Dimension, group: string, sorted: readonly Node[]): void {
    sorted.forEach((node, i) => {
      node[dim].group = group;
      node[dim].prev = sorted[i - 1];
      node[dim].next = sorted[i + 1];
    });
    if (sorted[0] !== undefined) this.heads[dim].set(group, sorted[0]);
  }

  /** Removes a node; returns the neighbours that are now adjacent. */
  unlink(node: Node, dim: Dimension): [Node | undefined, Node | undefined] {
    const link = node[dim];
    if (link.group === undefined) return [undefined, undefined];
    const { prev, next } = link;
    if (prev !== undefined) prev[dim].next = next;
    if (next !== undefined) next[dim].prev = prev;
    if (this.heads[dim].get(link.group) === node) {
      if (next === undefined) this.heads[dim].delete(link.group);
      else this.heads[dim].set(link.group, next);
    }
    this.touch(dim, link.group);
    return [prev, next];
  }

  /** Puts a node between two neighbours (either may be absent). */
  insertBetween(
    node: Node,
    dim: Dimension,
    group: string,
    prev: Node | undefined,
    next: Node | undefined,
  ): void {
    node[dim].group = group;
    node[dim].prev = prev;
    node[dim].next = next;
    if (prev === undefined) this.heads[dim].set(group, node);
    else prev[dim].next = node;
    if (next !== undefined) next[dim].prev = node;
    this.touch(dim, group);
  }

  /** Puts a node in order: a binary search in the group's index, then a short walk. */
  insertSorted(node: Node, dim: Dimension, group: string): void {
    const compare = COMPARE[dim];
    let prev: Node | undefined;
    const index = this.indexFor(dim, group);
    if (index !== undefined) {
      let low = 0;
      let high = index.nodes.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (compare(index.nodes[mid] as Node, node) < 0) low = mid + 1;
        else high = mid;
      }
      // The nearest live node before the position; nodes that died since the snapshot are skipped.
      for (let i = low - 1; i >= 0 && prev === undefined; i--) {
        if ((index.nodes[i] as Node).alive) prev = index.nodes[i];
      }
    }
    // Nodes added since the snapshot are not in it: walk past the ones that still sort before.
    let next = prev === undefined ? this.heads[dim].get(group) : prev[dim].next;
    while (next !== undefined && compare(next, node) < 0) {
      prev = next;
      next = next[dim].next;
    }
    this.insertBetween(node, dim, group, prev, next);
  }

  private touch(dim: Dimension, group: string): void {
    const index = this.indexes[dim].get(group);
    if (index !== undefined) index.changes++;
  }

  private indexFor(dim: Dimension, group: string): GroupIndex | undefined {
    let index = this.indexes[dim].get(group);
    if (index !== undefined && index.changes <= index.nodes.length / 2 + INDEXED_GROUP) return index;
    const nodes: Node[] = [];
    for (let node = this.heads[dim].get(group); node !== undefined; node = node[dim].next) nodes.push(node);
    if (nodes.length < INDEXED_GROUP) {
      this.indexes[dim].delete(group);
      return undefined;
    }
    index = { nodes, changes: 0 };
    this.indexes[dim].set(group, index);
    return index;
  }
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
  // Nodes share the caller's observed-peer sets until a merge pools into one (copied then).
  const nodes: Node[] = entries.map((entry, id) => ({
    id,
    entry: { ...entry, sourceRuleIds: sourceLists.intern(entry.sourceRuleIds) },
    weight: options.weightOf(entry),
    alive: true,
    ownsPeers: false,
    ...bounds(entry),
    addr: {},
    port: {},
  }));
  const created: Node[] = [];
  const groups = new Groups();
  const queue = new CandidateQueue();

  const finishMerge = (
    kind: MergeKind,
    absorbed: readonly Node[],
    shape: RecommendedEntry,
    cost: bigint,
    carried: bigint,
  ): Merge | undefined => {
    // Exposure accumulates: what the parts already added plus what this merge adds.
    const exposure = carried + cost;
    let connections = 0;
    for (const node of absorbed) connections += node.entry.connections;
    // A probe: observed peers are pooled only when the merge is taken (candidates are many).
    const entry: RecommendedEntry = {
      ...shape,
      connections,
      peerAddrs: NO_PEERS,
      sourceRuleIds: sourceLists.pooled(absorbed),
      basis: 'compacted',
      addedAddresses: exposure,
    };
    if (!options.withinSourceRule(entry)) return undefined;
    const weight = options.weightOf(entry);
    let saving = -weight;
    for (const node of absorbed) saving += node.weight;
    return { kind, cost, saving, absorbed, entry, weight };
  };

  /** {@link evaluatePeers} for IPv4: the same walk in exact double arithmetic. */
  const evaluatePeersV4 = (left: Node, right: Node, supernet: Cidr): Merge | undefined => {
    const low = Number(cidrFirst(supernet));
    const high = Number(cidrLast(supernet));
    let first = left;
    for (let prev = first.addr.prev; prev !== undefined && prev.firstV4 >= low && prev.lastV4 <= high; ) {
      first = prev;
      prev = prev.addr.prev;
    }
    const absorbed: Node[] = [];
    let union = 0;
    let coveredTo = -1;
    let sawRight = false;
    let carried = 0n;
    for (
      let node: Node | undefined = first;
      node !== undefined && node.lastV4 <= high;
      node = node.addr.next
    ) {
      absorbed.push(node);
      sawRight ||= node === right;
      if (node.firstV4 > coveredTo) {
        union += node.lastV4 - node.firstV4 + 1;
        coveredTo = node.lastV4;
        const added = node.entry.addedAddresses;
        if (added !== 0n) carried += added;
      }
    }
    if (!sawRight) return undefined;
    const size = high - low + 1;
    const shape = {
      ...left.entry,
      peer: { kind: 'cidr', cidr: supernet } as const,
      addressCount: BigInt(size),
    };
    return finishMerge('peers', absorbed, shape, BigInt(size - union), carried);
  };

  const evaluatePeers = (left: Node, right: Node): Merge | undefined => {
    const supernet = commonSupernet(peerCidr(left), peerCidr(right));
    if (supernet.family === 'ipv4') return evaluatePeersV4(left, right, supernet);
    const low = cidrFirst(supernet);
    const high = cidrLast(supernet);
    // CIDRs nest or are disjoint, so the entries inside the supernet are one run of the address order
    // (every node after the first starts inside it).
    let first = left;
    for (let prev = first.addr.prev; prev !== undefined && prev.first >= low && prev.last <= high; ) {
      first = prev;
      prev = prev.addr.prev;
    }
    const absorbed: Node[] = [];
    let union = 0n;
    let coveredTo = -1n;
    let sawRight = false;
    // Exposure the parts already carry; a part nested in another part adds none of its own.
    let carried = 0n;
    for (let node: Node | undefined = first; node !== undefined && node.last <= high; node = node.addr.next) {
      absorbed.push(node);
      sawRight ||= node === right;
      // In address order, a CIDR that starts inside the previous block is nested in it.
      if (node.first > coveredTo) {
        union += node.last - node.first + 1n;
        coveredTo = node.last;
        carried += node.entry.addedAddresses;
      }
    }
    if (!sawRight) return undefined;
    const size = high - low + 1n;
    const shape = { ...left.entry, peer: { kind: 'cidr', cidr: supernet } as const, addressCount: size };
    return finishMerge('peers', absorbed, shape, size - union, carried);
  };

  const evaluatePorts = (left: Node, right: Node): Merge | undefined => {
    let from = Math.min(portsOf(left).from, portsOf(right).from);
    let to = Math.max(portsOf(left).to, portsOf(right).to);
    // Port ranges may overlap without nesting: earlier and later entries touching the span join it.
    let first = left;
    while (first.port.prev !== undefined && portsOf(first.port.prev).to >= from - 1) {
      first = first.port.prev;
      from = Math.min(from, portsOf(first).from);
    }
    const absorbed: Node[] = [];
    // Ports the parts cover, swept in port order (ranges sorted by start).
    let covered = 0;
    let coveredTo = -1;
    let sawRight = false;
    for (let node: Node | undefined = first; node !== undefined; node = node.port.next) {
      const ports = portsOf(node);
      if (ports.from > to + 1) break;
      absorbed.push(node);
      sawRight ||= node === right;
      to = Math.max(to, ports.to);
      if (ports.to > coveredTo) {
        covered += ports.to - Math.max(ports.from, coveredTo + 1) + 1;
        coveredTo = ports.to;
      }
    }
    if (!sawRight) return undefined;
    const span: PortRange = { from, to };
    const cost = BigInt(to - from + 1 - covered) * left.entry.addressCount;
    return finishMerge('ports', absorbed, { ...left.entry, ports: span }, cost, carriedByPorts(absorbed));
  };

  const evaluate = (kind: MergeKind, left: Node, right: Node): Merge | undefined =>
    kind === 'peers' ? evaluatePeers(left, right) : evaluatePorts(left, right);

  const queueCandidate = (kind: MergeKind, left: Node, right: Node, merge: Merge): void => {
    const { cost, saving } = merge;
    queue.push({ kind, cost, rank: Number(cost), saving, left, right });
  };

  const offer = (kind: MergeKind, left: Node | undefined, right: Node | undefined): void => {
    if (left === undefined || right === undefined || !left.alive || !right.alive) return;
    const merge = evaluate(kind, left, right);
    if (merge === undefined || merge.saving <= 0) return;
    queueCandidate(kind, left, right, merge);
  };

  /** Replaces the merged run by one node: in place along the merge, in order across it. */
  const apply = (merge: Merge): Node => {
    const entry = { ...merge.entry, peerAddrs: poolPeers(merge.absorbed) };
    const node: Node = {
      ...bounds(entry),
      id: nodes.length + created.length,
      entry,
      weight: merge.weight,
      alive: true,
      ownsPeers: true,
      addr: {},
      port: {},
    };
    created.push(node);
    const along = DIMENSION_OF[merge.kind];
    const across: Dimension = along === 'addr' ? 'port' : 'addr';
    const runPrev = (merge.absorbed[0] as Node)[along].prev;
    const runNext = (merge.absorbed[merge.absorbed.length - 1] as Node)[along].next;
    const group = (merge.absorbed[0] as Node)[along].group as string;
    const reopened: [Node | undefined, Node | undefined][] = [];
    for (const old of merge.absorbed) {
      old.alive = false;
      groups.unlink(old, along);
      reopened.push(groups.unlink(old, across));
    }
    groups.insertBetween(node, along, group, runPrev, runNext);
    const acrossGroup = across === 'addr' ? addrGroupOf(entry) : portGroupOf(entry);
    if (acrossGroup !== undefined) groups.insertSorted(node, across, acrossGroup);
    // Entries that were apart across the merge may now be neighbours.
    for (const [prev, next] of reopened) offer(KIND_OF[across], prev, next);
    for (const dim of ['addr', 'port'] as const) {
      offer(KIND_OF[dim], node[dim].prev, node);
      offer(KIND_OF[dim], node, node[dim].next);
    }
    return node;
  };

  // Initial groups: sort once per group, then link in order (O(n log n)).
  for (const dim of ['addr', 'port'] as const) {
    const members = new Map<string, Node[]>();
    for (const node of nodes) {
      const group = dim === 'addr' ? addrGroupOf(node.entry) : portGroupOf(node.entry);
      if (group === undefined) continue;
      const list = members.get(group);
      if (list === undefined) members.set(group, [node]);
      else list.push(node);
    }
    for (const [group, list] of members) {
      list.sort(COMPARE[dim]);
      groups.linkSorted(dim, group, list);
      for (let i = 1; i < list.length; i++) offer(KIND_OF[dim], list[i - 1], list[i]);
    }
  }

  let merges = 0;
  // Each merge removes a node and queues a bounded number of candidates, and a stale candidate
  // is queued again only after a change around it: this bound is never the reason to stop.
  const maxSteps = 64 * (nodes.length + 4);
  for (let step = 0; count > limit && queue.size > 0 && step < maxSteps; step++) {
    const candidate = queue.pop() as Candidate;
    const { kind, left, right } = candidate;
    if (!left.alive || !right.alive) continue;
    // An unchanged run evaluates as it did when queued; a changed one may cost more or less now.
    const merge = evaluate(kind, left, right);
    if (merge === undefined || merge.saving <= 0) continue;
    if (merge.cost !== candidate.cost || merge.saving !== candidate.saving) {
      // The neighbourhood changed since the candidate was queued: queue it at its current cost.
      queueCandidate(kind, left, right, merge);
      continue;
    }
    apply(merge);
    count -= merge.saving;
    merges++;
  }

  const result = [...nodes, ...created].filter((node) => node.alive).map((node) => node.entry);
  // What the merges added: the exposure of the result beyond that of the input (entries a merge
  // swallowed whole take their exposure with them, so summing merge costs would count it twice).
  const exposureOf = (list: readonly RecommendedEntry[]): bigint =>
    list.reduce((sum, entry) => sum + entry.addedAddresses, 0n);
  const addedAddresses = exposureOf(result) - exposureOf(entries);
  return { entries: result, addedAddresses, merges, weightedCount: count, withinQuota: count <= limit };
}

/** Exact merging converges in a few rounds; the bound only guards against a logic error. */
