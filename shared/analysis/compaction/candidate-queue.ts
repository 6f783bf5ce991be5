/**
 * The merge candidates of a compaction, cheapest first: a binary min-heap of neighbour pairs
 * with the cost they had when queued. Ties break by saving, then by node ids and kind, so the
 * order (and with it the compaction's result) never depends on insertion order.
 */
import type { MergeKind, MergeNode } from './merge-node';

/**
 * A queued merge: its neighbours and cost only. The run is evaluated again when the candidate
 * reaches the top (a run that did not change evaluates the same), so the queue holds no runs or
 * entries: its memory stays a few words per candidate.
 */
export interface Candidate {
  readonly kind: MergeKind;
  readonly cost: bigint;
  /** The cost as a double: Number() never reverses an order, so unequal ranks order exactly. */
  readonly rank: number;
  readonly saving: number;
  readonly left: MergeNode;
  readonly right: MergeNode;
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
export class CandidateQueue {
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
