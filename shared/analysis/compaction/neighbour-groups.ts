/**
 * The ordered groups of a compaction: CIDR entries of one family and traffic key in address
 * order, tcp/udp entries of one protocol and peer in port order. Only neighbours in a group are
 * merge candidates, so the groups are doubly linked lists that a merge splices in O(1) (along the
 * merge) or O(log n) amortised (across it).
 */
import { entryPeerKey, entryTrafficKey, type RecommendedEntry } from '../recommended-entry';
import { type Dimension, type MergeNode, peerCidr, portsOf } from './merge-node';

function compareAddressOrder(a: MergeNode, b: MergeNode): number {
  const x = peerCidr(a);
  const y = peerCidr(b);
  if (a.first !== b.first) return a.first < b.first ? -1 : 1;
  return x.prefix - y.prefix || a.id - b.id;
}

function comparePortOrder(a: MergeNode, b: MergeNode): number {
  const x = portsOf(a);
  const y = portsOf(b);
  return x.from - y.from || x.to - y.to || a.id - b.id;
}

/** The order of each dimension's groups (ids break ties, so the order is total). */
export const GROUP_ORDER: Readonly<Record<Dimension, (a: MergeNode, b: MergeNode) => number>> = {
  addr: compareAddressOrder,
  port: comparePortOrder,
};

/**
 * The group of an entry in one dimension: its family and traffic key in address order (CIDR
 * peers only), its protocol and peer in port order (entries with ports only); undefined when the
 * entry joins no group of that dimension.
 *
 * @example groupOf('port', tcp443FromSgApp) // '6|sg:sg-app'
 */
export function groupOf(dim: Dimension, entry: RecommendedEntry): string | undefined {
  if (dim === 'addr') {
    return entry.peer.kind === 'cidr' ? `${entry.peer.cidr.family}|${entryTrafficKey(entry)}` : undefined;
  }
  return entry.ports === undefined ? undefined : `${entry.protocol}|${entryPeerKey(entry.peer)}`;
}

/**
 * A sorted snapshot of a group, to find where a node goes by binary search instead of walking
 * the whole list. It goes stale as the group changes (dead nodes stay, new nodes are missing)
 * and is rebuilt once the changes outnumber half of it, so its upkeep is amortised O(1).
 */
interface GroupIndex {
  nodes: MergeNode[];
  changes: number;
}

/** Groups shorter than this are walked; longer ones get a {@link GroupIndex}. */
const INDEXED_GROUP = 32;

/** The ordered groups of the compaction: doubly linked lists with their heads. */
export class NeighbourGroups {
  private readonly heads: Record<Dimension, Map<string, MergeNode>> = { addr: new Map(), port: new Map() };
  private readonly indexes: Record<Dimension, Map<string, GroupIndex>> = { addr: new Map(), port: new Map() };

  /** Links nodes already sorted in group order. */
  linkSorted(dim: Dimension, group: string, sorted: readonly MergeNode[]): void {
    sorted.forEach((node, i) => {
      node[dim].group = group;
      node[dim].prev = sorted[i - 1];
      node[dim].next = sorted[i + 1];
    });
    if (sorted[0] !== undefined) this.heads[dim].set(group, sorted[0]);
  }

  /** Removes a node; returns the neighbours that are now adjacent. */
  unlink(node: MergeNode, dim: Dimension): [MergeNode | undefined, MergeNode | undefined] {
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
    node: MergeNode,
    dim: Dimension,
    group: string,
    prev: MergeNode | undefined,
    next: MergeNode | undefined,
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
  insertSorted(node: MergeNode, dim: Dimension, group: string): void {
    const compare = GROUP_ORDER[dim];
    let prev: MergeNode | undefined;
    const index = this.indexFor(dim, group);
    if (index !== undefined) {
      let low = 0;
      let high = index.nodes.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (compare(index.nodes[mid] as MergeNode, node) < 0) low = mid + 1;
        else high = mid;
      }
      // The nearest live node before the position; nodes that died since the snapshot are skipped.
      for (let i = low - 1; i >= 0 && prev === undefined; i--) {
        if ((index.nodes[i] as MergeNode).alive) prev = index.nodes[i];
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
    const nodes: MergeNode[] = [];
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
