/**
 * The first `count` items in `compare` order, kept as they stream in without holding or sorting
 * them all: a max-heap of the best so far, O(n log count) time and O(count) memory. With a total
 * order, `sorted()` equals sorting every offered item and taking the first `count`.
 *
 * @example
 * const first = new FirstInOrder<number>(2, (a, b) => a - b);
 * for (const n of [5, 1, 4, 2]) first.offer(n);
 * first.sorted() // [1, 2]
 */
export class FirstInOrder<T> {
  private readonly heap: T[] = [];

  constructor(
    private readonly count: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  /** Keeps `item` when it is among the first `count` so far. */
  offer(item: T): void {
    const { heap, compare } = this;
    if (this.count <= 0) return;
    if (heap.length < this.count) {
      heap.push(item);
      for (let i = heap.length - 1; i > 0 && compare(heap[i] as T, heap[(i - 1) >> 1] as T) > 0; ) {
        const parent = (i - 1) >> 1;
        this.swap(i, parent);
        i = parent;
      }
    } else if (compare(item, heap[0] as T) < 0) {
      heap[0] = item;
      this.down(0);
    }
  }

  /** The items kept, in order (a new array; the kept set is unchanged). */
  sorted(): T[] {
    return [...this.heap].sort(this.compare);
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i] as T;
    this.heap[i] = this.heap[j] as T;
    this.heap[j] = t;
  }

  private down(from: number): void {
    const { heap, compare } = this;
    for (let i = from; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < heap.length && compare(heap[l] as T, heap[top] as T) > 0) top = l;
      if (r < heap.length && compare(heap[r] as T, heap[top] as T) > 0) top = r;
      if (top === i) return;
      this.swap(i, top);
      i = top;
    }
  }
}

/**
 * The first `count` items in `compare` order, sorted, without sorting them all ({@link FirstInOrder}).
 * With a total order it equals `[...items].sort(compare).slice(0, count)`.
 *
 * @example firstInOrder([5, 1, 4, 2], 2, (a, b) => a - b) // [1, 2]
 */
export function firstInOrder<T>(items: Iterable<T>, count: number, compare: (a: T, b: T) => number): T[] {
  const first = new FirstInOrder(count, compare);
  for (const item of items) first.offer(item);
  return first.sorted();
}
