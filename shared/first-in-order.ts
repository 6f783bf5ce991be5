/**
 * The first `count` items in `compare` order, sorted, without sorting them all: a max-heap of the
 * best so far, O(n log count). With a total order it equals `[...items].sort(compare).slice(0, count)`.
 *
 * @example firstInOrder([5, 1, 4, 2], 2, (a, b) => a - b) // [1, 2]
 */
export function firstInOrder<T>(items: readonly T[], count: number, compare: (a: T, b: T) => number): T[] {
  if (count <= 0) return [];
  if (items.length <= count) return [...items].sort(compare);
  const heap: T[] = [];
  const swap = (i: number, j: number) => {
    const t = heap[i] as T;
    heap[i] = heap[j] as T;
    heap[j] = t;
  };
  const down = (from: number) => {
    for (let i = from; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < heap.length && compare(heap[l] as T, heap[top] as T) > 0) top = l;
      if (r < heap.length && compare(heap[r] as T, heap[top] as T) > 0) top = r;
      if (top === i) return;
      swap(i, top);
      i = top;
    }
  };
  for (const item of items) {
    if (heap.length < count) {
      heap.push(item);
      for (
        let i = heap.length - 1;
        i > 0 && compare(heap[i] as T, heap[(i - 1) >> 1] as T) > 0;
        i = (i - 1) >> 1
      )
        swap(i, (i - 1) >> 1);
    } else if (compare(item, heap[0] as T) < 0) {
      heap[0] = item;
      down(0);
    }
  }
  return heap.sort(compare);
}
