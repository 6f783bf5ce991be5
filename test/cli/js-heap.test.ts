import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { collectGarbage } from '../../cli/js-heap';

/** Bytes V8 holds for its young generation now (used or not). */
function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}

describe('collectGarbage', () => {
  it('collects what nothing references any more', async () => {
    // Prepare: a WeakRef keeps its target alive until the job that made it ends.
    let target: number[] | undefined = new Array<number>(10_000).fill(7);
    const ref = new WeakRef(target);
    target = undefined;
    await new Promise((resolve) => setImmediate(resolve));
    // Act
    collectGarbage();
    // Assess
    expect(ref.deref()).toBeUndefined();
  });

  it("gives back the young generation's spare space, which a plain full collection keeps", () => {
    // Prepare: objects that survive scavenges make V8 grow its young generation.
    let survivors: object[] | undefined = [];
    for (let i = 0; i < 1_000_000; i += 1) survivors.push({ i });
    const grown = youngGenerationBytes();
    survivors = undefined;
    // Act
    collectGarbage();
    // Assess
    expect(grown).toBeGreaterThan(4 * 2 ** 20);
    expect(youngGenerationBytes()).toBeLessThan(grown / 2);
  });

  it('leaves gc unexposed to the program', () => {
    // Act
    collectGarbage();
    // Assess
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
