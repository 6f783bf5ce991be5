import { mapBounded } from '../../shared/concurrency';

describe('mapBounded', () => {
  it('keeps input order and never runs more than the bound at once', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    const work = async (n: number) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return n * 2;
    };
    // Act
    const results = await mapBounded([5, 1, 4, 2, 3, 9, 7], 3, work);
    // Assess
    expect(results).toEqual([10, 2, 8, 4, 6, 18, 14]);
    expect(peak).toBe(3);
  });

  it('rejects with the first failure', async () => {
    // Act
    const act = mapBounded([1, 2, 3], 2, async (n) => {
      if (n === 2) throw new Error('boom 2');
      return n;
    });
    // Assess
    await expect(act).rejects.toThrow('boom 2');
  });

  it('returns an empty list for no items', async () => {
    // Act
    const results = await mapBounded([], 4, async (n: number) => n);
    // Assess
    expect(results).toEqual([]);
  });
});
