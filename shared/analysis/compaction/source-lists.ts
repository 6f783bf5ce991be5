/**
 * The source-rule lists of one compaction, one instance per content, with their unions
 * remembered: pricing a merge pools the sources of its run on each of the many candidate
 * evaluations, and sorting them anew each time dominated the compaction.
 */
import type { MergeNode } from './merge-node';

/** Interned source-rule lists and their remembered unions (one instance per compaction). */
export class SourceLists {
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
  pooled(parts: readonly MergeNode[]): readonly string[] {
    let pool = (parts[0] as MergeNode).entry.sourceRuleIds;
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
