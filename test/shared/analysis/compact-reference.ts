/**
 * TEST-ONLY reference: shared/analysis/compact.ts as it was before the session-4 scaling work
 * (commit b5e1859), kept verbatim so the equivalence tests can check that the faster
 * implementation returns exactly the same entries. Do not import it from shared/.
 */
import type { RecommendationBasis } from '../../../shared/model/analysis';
import type { IpFamily } from '../../../shared/model/inventory';
import {
  type Cidr,
  cidrContains,
  cidrFirst,
  cidrLast,
  cidrSize,
  commonSupernet,
  compareCidrs,
  mergeCidrs,
  supernetOf,
} from '../../../shared/net/ip';
import { normalizeRanges, type PortRange, rangeContainsRange, rangesSize } from '../../../shared/net/ports';

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
  /** Exposure beyond what was observed (summarisation + compaction), see {@link compactToQuota}. */
  readonly addedAddresses: bigint;
}

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
  /** First and last address of a CIDR peer (0 otherwise), precomputed for the hot loops. */
  readonly first: bigint;
  readonly last: bigint;
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
  readonly entry: RecommendedEntry;
  readonly weight: number;
  /** Whether a neighbour of the run would have joined it (the run's boundary condition). */
  readonly joins: (node: Node | undefined) => boolean;
}

interface Candidate {
  readonly kind: MergeKind;
  readonly cost: bigint;
  readonly saving: number;
  readonly left: Node;
  readonly right: Node;
  /** The merge as evaluated when queued; still valid while its run is unchanged. */
  readonly merge: Merge;
}

function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.cost !== b.cost) return a.cost < b.cost ? -1 : 1;
  if (a.saving !== b.saving) return b.saving - a.saving;
  if (a.left.id !== b.left.id) return a.left.id - b.left.id;
  if (a.right.id !== b.right.id) return a.right.id - b.right.id;
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/** A binary min-heap of merge candidates. */
class CandidateQueue {
  private readonly items: Candidate[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: Candidate): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareCandidates(items[i] as Candidate, items[parent] as Candidate) >= 0) break;
      [items[i], items[parent]] = [items[parent] as Candidate, items[i] as Candidate];
      i = parent;
    }
  }

  pop(): Candidate | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (
        left < items.length &&
        compareCandidates(items[left] as Candidate, items[smallest] as Candidate) < 0
      ) {
        smallest = left;
      }
      if (
        right < items.length &&
        compareCandidates(items[right] as Candidate, items[smallest] as Candidate) < 0
      ) {
        smallest = right;
      }
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest] as Candidate, items[i] as Candidate];
      i = smallest;
    }
    return top;
  }
}

const NO_PEERS: ReadonlySet<string> = new Set();

/**
 * The union of the parts' observed peers, built in the largest part's set: each address moves
 * O(log n) times over a whole compaction. The parts' sets must be owned by the compaction.
 */
function poolPeers(parts: readonly RecommendedEntry[]): Set<string> {
  let largest = parts[0] as RecommendedEntry;
  for (const part of parts) if (part.peerAddrs.size > largest.peerAddrs.size) largest = part;
  const pool = largest.peerAddrs as Set<string>;
  for (const part of parts) if (part !== largest) for (const addr of part.peerAddrs) pool.add(addr);
  return pool;
}

function bounds(entry: RecommendedEntry): { first: bigint; last: bigint } {
  return entry.peer.kind === 'cidr'
    ? { first: cidrFirst(entry.peer.cidr), last: cidrLast(entry.peer.cidr) }
    : { first: 0n, last: 0n };
}

/** Sorted union of source-rule lists; the common case (all alike) costs no allocation. */
function pooledSources(lists: readonly (readonly string[])[]): readonly string[] {
  const first = lists[0] ?? [];
  const alike = lists.every(
    (list) => list === first || (list.length === first.length && list.every((id, i) => id === first[i])),
  );
  if (alike) return first;
  return [...new Set(lists.flat())].sort();
}

/**
 * Number of ports in a range, as a bigint for exposure arithmetic.
 *
 * @example portCount({ from: 80, to: 443 }) // 364n
 */
export function portCount(range: PortRange): bigint {
  return BigInt(range.to - range.from + 1);
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
 * within one peer group), kept in a priority queue. A queued candidate is re-costed when it
 * reaches the top and its run has changed; a merge beside it that lowers its cost takes effect
 * then, so the order is greedy up to such refreshes.
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
  // Each node owns its observed-peer set, so merges can pool sets in place (small into large).
  const nodes: Node[] = entries.map((entry, id) => ({
    id,
    entry: { ...entry, peerAddrs: new Set(entry.peerAddrs) },
    weight: options.weightOf(entry),
    alive: true,
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
    shape: Parameters<typeof combineEntries>[1],
    cost: bigint,
    carried: bigint,
    joins: Merge['joins'],
  ): Merge | undefined => {
    // Exposure accumulates: what the parts already added plus what this merge adds.
    const exposure = carried + cost;
    let connections = 0;
    for (const node of absorbed) connections += node.entry.connections;
    const sourceRuleIds = pooledSources(absorbed.map((node) => node.entry.sourceRuleIds));
    // A probe: observed peers are pooled only when the merge is taken (candidates are many).
    const entry: RecommendedEntry = {
      ...shape,
      connections,
      peerAddrs: NO_PEERS,
      sourceRuleIds,
      basis: 'compacted',
      addedAddresses: exposure,
    };
    if (!options.withinSourceRule(entry)) return undefined;
    const weight = options.weightOf(entry);
    const saving = absorbed.reduce((sum, node) => sum + node.weight, 0) - weight;
    return { kind, cost, saving, absorbed, entry, weight, joins };
  };

  const evaluatePeers = (left: Node, right: Node): Merge | undefined => {
    const supernet = commonSupernet(peerCidr(left), peerCidr(right));
    const low = cidrFirst(supernet);
    const high = cidrLast(supernet);
    const inside = (node: Node | undefined): node is Node =>
      node !== undefined && node.first >= low && node.last <= high;
    // CIDRs nest or are disjoint, so the entries inside the supernet are one run of the address order.
    let first = left;
    while (inside(first.addr.prev)) first = first.addr.prev;
    const absorbed: Node[] = [];
    let union = 0n;
    let coveredTo = -1n;
    let sawRight = false;
    // Exposure the parts already carry; a part nested in another part adds none of its own.
    let carried = 0n;
    for (let node: Node | undefined = first; inside(node); node = node.addr.next) {
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
    const shape = {
      ...left.entry,
      peer: { kind: 'cidr', cidr: supernet } as const,
      addressCount: cidrSize(supernet),
    };
    return finishMerge('peers', absorbed, shape, cidrSize(supernet) - union, carried, inside);
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
    for (let node: Node | undefined = first; node !== undefined; node = node.port.next) {
      if (portsOf(node).from > to + 1) break;
      absorbed.push(node);
      to = Math.max(to, portsOf(node).to);
    }
    if (!absorbed.includes(right)) return undefined;
    const span: PortRange = { from, to };
    const cost = (portCount(span) - BigInt(rangesSize(absorbed.map(portsOf)))) * left.entry.addressCount;
    const touches = (node: Node | undefined): boolean =>
      node !== undefined && portsOf(node).from <= span.to + 1 && portsOf(node).to >= span.from - 1;
    // A part whose ports lie inside another part's adds no exposure of its own.
    let carried = 0n;
    for (const node of absorbed) {
      const own = portsOf(node);
      const inside = absorbed.some(
        (other) =>
          other !== node &&
          rangeContainsRange(portsOf(other), own) &&
          (other.id < node.id || !rangeContainsRange(own, portsOf(other))),
      );
      if (!inside) carried += node.entry.addedAddresses;
    }
    return finishMerge('ports', absorbed, { ...left.entry, ports: span }, cost, carried, touches);
  };

  const evaluate = (kind: MergeKind, left: Node, right: Node): Merge | undefined =>
    kind === 'peers' ? evaluatePeers(left, right) : evaluatePorts(left, right);

  const offer = (kind: MergeKind, left: Node | undefined, right: Node | undefined): void => {
    if (left === undefined || right === undefined || !left.alive || !right.alive) return;
    const merge = evaluate(kind, left, right);
    if (merge === undefined || merge.saving <= 0) return;
    queue.push({ kind, cost: merge.cost, saving: merge.saving, left, right, merge });
  };

  /** Whether a queued merge would evaluate the same now: its run is alive, contiguous and bounded as before. */
  const isCurrent = (merge: Merge): boolean => {
    const dim = DIMENSION_OF[merge.kind];
    const run = merge.absorbed;
    for (let i = 0; i < run.length; i++) {
      const node = run[i] as Node;
      if (!node.alive || (i > 0 && (run[i - 1] as Node)[dim].next !== node)) return false;
    }
    return !merge.joins((run[0] as Node)[dim].prev) && !merge.joins((run[run.length - 1] as Node)[dim].next);
  };

  /** Replaces the merged run by one node: in place along the merge, in order across it. */
  const apply = (merge: Merge): Node => {
    const entry = { ...merge.entry, peerAddrs: poolPeers(merge.absorbed.map((old) => old.entry)) };
    const node: Node = {
      ...bounds(entry),
      id: nodes.length + created.length,
      entry,
      weight: merge.weight,
      alive: true,
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
    if (!candidate.left.alive || !candidate.right.alive) continue;
    let merge = candidate.merge;
    if (!isCurrent(merge)) {
      const fresh = evaluate(candidate.kind, candidate.left, candidate.right);
      if (fresh === undefined || fresh.saving <= 0) continue;
      if (fresh.cost !== candidate.cost || fresh.saving !== candidate.saving) {
        // The neighbourhood changed since the candidate was queued: queue it at its current cost.
        queue.push({ ...candidate, cost: fresh.cost, saving: fresh.saving, merge: fresh });
        continue;
      }
      merge = fresh;
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
const CONSOLIDATION_ROUNDS = 64;

const BASIS_RANK: Readonly<Record<RecommendationBasis, number>> = {
  observed: 0,
  'port-group': 1,
  'summarised-/24': 2,
  'sg-reference': 3,
  compacted: 4,
};

/** Exposure of an exact merge: what its parts added (an exact union adds nothing of its own). */
function summedExposure(parts: readonly RecommendedEntry[]): bigint {
  return parts.reduce((sum, part) => sum + part.addedAddresses, 0n);
}

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
    const merged = mergeCidrs(group.map(cidrOf));
    const sorted = [...group].sort((a, b) => compareCidrs(cidrOf(a), cidrOf(b)));
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
    const merged = normalizeRanges(group.map(rangeOf));
    const sorted = [...group].sort((a, b) => rangeOf(a).from - rangeOf(b).from);
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
