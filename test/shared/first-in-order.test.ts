import fc from 'fast-check';
import { FirstInOrder, firstInOrder } from '../../shared/first-in-order';

/** A total order: by key, then by position (ties in the key are common). */
const byKeyThenId = (a: { key: number; id: number }, b: { key: number; id: number }) =>
  a.key - b.key || a.id - b.id;

describe('firstInOrder', () => {
  it('equals sorting everything and taking the first ones, for any list and count', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }),
        fc.integer({ min: -2, max: 320 }),
        (keys, count) => {
          // Prepare
          const items = keys.map((key, id) => ({ key, id }));

          // Act
          const first = firstInOrder(items, count, byKeyThenId);

          // Assess
          expect(first).toEqual([...items].sort(byKeyThenId).slice(0, Math.max(0, count)));
        },
      ),
    );
  });

  it('leaves its input as it was', () => {
    // Prepare
    const items = [5, 1, 4, 2, 3];

    // Act
    const first = firstInOrder(items, 2, (a, b) => a - b);

    // Assess
    expect(first).toEqual([1, 2]);
    expect(items).toEqual([5, 1, 4, 2, 3]);
  });

  it('streams: at any point the kept items are the first of what was offered so far', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 50 }),
        (keys, count) => {
          // Prepare
          const items = keys.map((key, id) => ({ key, id }));
          const first = new FirstInOrder(count, byKeyThenId);

          // Act / Assess: after each offer.
          items.forEach((item, i) => {
            first.offer(item);
            expect(first.sorted()).toEqual(
              items
                .slice(0, i + 1)
                .sort(byKeyThenId)
                .slice(0, count),
            );
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
