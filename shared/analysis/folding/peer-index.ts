/**
 * Items keyed by a peer address and the rest of a key, kept in the order they were first added,
 * without building a key string per lookup: the peer is a string the caller already holds, and
 * most peers have one item (a week of scanners is millions of peers, each seen once or twice).
 * A peer's items are found through its one index, a short list compared field by field, or past
 * {@link PEER_LIST_LIMIT} a map by the rest of the key (an internal scanner makes thousands).
 */

/** Past this many items a peer's list becomes a map. */
export const PEER_LIST_LIMIT = 8;

type PeerItems = number | number[] | Map<string, number>;

/** How a lookup recognises its item among a peer's: field by field, or by the rest of the key. */
export interface PeerKey<T> {
  /** Whether `item` (one of the peer's) is the one looked up. */
  readonly matches: (item: T) => boolean;
  /** The key but its peer, of the item looked up (only built for peers with many items). */
  readonly rest: () => string;
}

/**
 * @example
 * const index = new PeerIndex<Group>((g) => `${g.eniId}|${g.port}`);
 * index.find(peer, { matches: (g) => g.eniId === eniId && g.port === port, rest: () => `${eniId}|${port}` }) ?? index.add(peer, group);
 */
export class PeerIndex<T> {
  private readonly items: (T | undefined)[] = [];
  private readonly byPeer = new Map<string, PeerItems>();

  /** @param restOf an item's key but its peer, equal to {@link PeerKey.rest} of a lookup that matches it. */
  constructor(private readonly restOf: (item: T) => string) {}

  get size(): number {
    return this.items.length;
  }

  /** The peer's item the key matches, if any. */
  find(peer: string, key: PeerKey<T>): T | undefined {
    const known = this.byPeer.get(peer);
    if (known === undefined) return undefined;
    if (typeof known === 'number') {
      const item = this.items[known] as T;
      return key.matches(item) ? item : undefined;
    }
    if (Array.isArray(known)) {
      for (const i of known) {
        const item = this.items[i] as T;
        if (key.matches(item)) return item;
      }
      return undefined;
    }
    const at = known.get(key.rest());
    return at === undefined ? undefined : this.items[at];
  }

  /** Adds an item the peer does not have yet (look it up with {@link find} first). */
  add(peer: string, item: T): void {
    const at = this.items.push(item) - 1;
    const known = this.byPeer.get(peer);
    if (known === undefined) this.byPeer.set(peer, at);
    else if (typeof known === 'number') this.byPeer.set(peer, [known, at]);
    else if (Array.isArray(known) && known.length < PEER_LIST_LIMIT) known.push(at);
    else if (Array.isArray(known)) {
      const map = new Map(known.map((i) => [this.restOf(this.items[i] as T), i]));
      map.set(this.restOf(item), at);
      this.byPeer.set(peer, map);
    } else known.set(this.restOf(item), at);
  }

  /** Every item, in the order first added. */
  values(): T[] {
    return this.items as T[];
  }

  /** Every item in the order first added, each let go as it is read; the index is empty after. */
  *drain(): Generator<T> {
    this.byPeer.clear();
    const { items } = this;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as T;
      items[i] = undefined;
      yield item;
    }
    items.length = 0;
  }
}
