/**
 * What a merge of neighbours costs and saves, the quota arithmetic of compaction. A peer merge
 * (same protocol and ports) costs the addresses of the common supernet that none of its parts
 * held; a port merge (same peer) costs the new ports × the peer's addresses. Either absorbs the
 * whole run of neighbours the merged entry covers, saves their weight less the merged entry's,
 * and carries the exposure its parts already added. It is legal only inside a source rule.
 */
import { type Cidr, cidrFirst, cidrLast, commonSupernet } from '../../net/ip';
import { type PortRange, rangeContainsRange } from '../../net/ports';
import type { CompactionOptions } from '../compact';
import type { RecommendedEntry } from '../recommended-entry';
import type { MergeKind, MergeNode } from './merge-node';
import { peerCidr, portsOf } from './merge-node';
import type { SourceLists } from './source-lists';

/** What pricing reads besides the run: the caller's weights and rule bounds, the interned sources. */
export interface MergeContext {
  readonly options: CompactionOptions;
  readonly sourceLists: SourceLists;
}

/** A priced merge of a run of neighbours, ready to be taken. */
export interface Merge {
  readonly kind: MergeKind;
  /** What the merge adds (ports × addresses), above it any surcharge (ranks, not exposure). */
  readonly cost: bigint;
  /** Weight removed from the count. */
  readonly saving: number;
  /** The run of neighbouring nodes the merged entry replaces, in group order. */
  readonly absorbed: readonly MergeNode[];
  /** The merged entry without its observed peers (pooled only when the merge is taken). */
  readonly entry: RecommendedEntry;
  readonly weight: number;
}

const NO_PEERS: ReadonlySet<string> = new Set();

/**
 * Where a surcharge starts in a merge's rank: above every cost (at most 65,536 ports × 2^128
 * addresses = 2^144), so a smaller surcharge always ranks first.
 */
const SURCHARGE_SHIFT = 160n;

/** Runs of a port merge up to this length find nested parts by comparing pairs. */
const PAIRWISE_RUN = 16;

/**
 * Exposure the parts of a port merge already carry: a part whose ports lie inside another part's
 * adds none of its own (of equal ranges, the one with the lower id counts).
 */
function carriedByPorts(parts: readonly MergeNode[]): bigint {
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

/** The merge of a run into one entry of the given shape, or undefined when no source rule holds it. */
function mergeOf(
  context: MergeContext,
  kind: MergeKind,
  absorbed: readonly MergeNode[],
  shape: RecommendedEntry,
  cost: bigint,
  carried: bigint,
): Merge | undefined {
  // Exposure accumulates: what the parts already added plus what this merge adds.
  const exposure = carried + cost;
  let connections = 0;
  for (const node of absorbed) connections += node.entry.connections;
  // A probe: observed peers are pooled only when the merge is taken (candidates are many).
  const entry: RecommendedEntry = {
    ...shape,
    connections,
    peerAddrs: NO_PEERS,
    sourceRuleIds: context.sourceLists.pooled(absorbed),
    basis: 'compacted',
    addedAddresses: exposure,
  };
  const { options } = context;
  if (!options.withinSourceRule(entry)) return undefined;
  const weight = options.weightOf(entry);
  let saving = -weight;
  for (const node of absorbed) saving += node.weight;
  const surcharge =
    options.surchargeOf?.(
      entry,
      absorbed.map((node) => node.entry),
    ) ?? 0n;
  const rank = surcharge > 0n ? cost + (surcharge << SURCHARGE_SHIFT) : cost;
  return { kind, cost: rank, saving, absorbed, entry, weight };
}

/** {@link pricePeerMerge} for IPv4: the same walk in exact double arithmetic. */
function pricePeerMergeV4(
  context: MergeContext,
  left: MergeNode,
  right: MergeNode,
  supernet: Cidr,
): Merge | undefined {
  const low = Number(cidrFirst(supernet));
  const high = Number(cidrLast(supernet));
  let first = left;
  for (let prev = first.addr.prev; prev !== undefined && prev.firstV4 >= low && prev.lastV4 <= high; ) {
    first = prev;
    prev = prev.addr.prev;
  }
  const absorbed: MergeNode[] = [];
  let union = 0;
  let coveredTo = -1;
  let sawRight = false;
  let carried = 0n;
  for (
    let node: MergeNode | undefined = first;
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
  return mergeOf(context, 'peers', absorbed, shape, BigInt(size - union), carried);
}

/** The merge of two address neighbours into their common supernet, with every entry inside it. */
function pricePeerMerge(context: MergeContext, left: MergeNode, right: MergeNode): Merge | undefined {
  const supernet = commonSupernet(peerCidr(left), peerCidr(right));
  if (supernet.family === 'ipv4') return pricePeerMergeV4(context, left, right, supernet);
  const low = cidrFirst(supernet);
  const high = cidrLast(supernet);
  // CIDRs nest or are disjoint, so the entries inside the supernet are one run of the address order
  // (every node after the first starts inside it).
  let first = left;
  for (let prev = first.addr.prev; prev !== undefined && prev.first >= low && prev.last <= high; ) {
    first = prev;
    prev = prev.addr.prev;
  }
  const absorbed: MergeNode[] = [];
  let union = 0n;
  let coveredTo = -1n;
  let sawRight = false;
  // Exposure the parts already carry; a part nested in another part adds none of its own.
  let carried = 0n;
  for (
    let node: MergeNode | undefined = first;
    node !== undefined && node.last <= high;
    node = node.addr.next
  ) {
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
  return mergeOf(context, 'peers', absorbed, shape, size - union, carried);
}

/** The merge of two port neighbours into their spanning range, with every range touching it. */
function pricePortMerge(context: MergeContext, left: MergeNode, right: MergeNode): Merge | undefined {
  let from = Math.min(portsOf(left).from, portsOf(right).from);
  let to = Math.max(portsOf(left).to, portsOf(right).to);
  // Port ranges may overlap without nesting: earlier and later entries touching the span join it.
  let first = left;
  while (first.port.prev !== undefined && portsOf(first.port.prev).to >= from - 1) {
    first = first.port.prev;
    from = Math.min(from, portsOf(first).from);
  }
  const absorbed: MergeNode[] = [];
  // Ports the parts cover, swept in port order (ranges sorted by start).
  let covered = 0;
  let coveredTo = -1;
  let sawRight = false;
  for (let node: MergeNode | undefined = first; node !== undefined; node = node.port.next) {
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
  return mergeOf(context, 'ports', absorbed, { ...left.entry, ports: span }, cost, carriedByPorts(absorbed));
}

/**
 * Prices the merge of two live neighbours of one group: the run it absorbs, the addresses it adds
 * (cost), the weight it removes (saving). Undefined when the run no longer holds both neighbours
 * or the merged entry would lie outside every source rule.
 *
 * @example priceMerge(compaction, 'peers', nodeOf('10.0.0.4/32'), nodeOf('10.0.0.7/32')) // cost 2n, saving 1
 */
export function priceMerge(
  context: MergeContext,
  kind: MergeKind,
  left: MergeNode,
  right: MergeNode,
): Merge | undefined {
  return kind === 'peers' ? pricePeerMerge(context, left, right) : pricePortMerge(context, left, right);
}
