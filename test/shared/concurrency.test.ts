import { mapBounded, Semaphore } from '../../shared/concurrency';
import { InvalidValueError } from '../../shared/errors';

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

describe('Semaphore', () => {
  /** A task that runs until released, recording when it starts. */
  function gate(started: string[], name: string) {
    let release: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    return {
      task: async () => {
        started.push(name);
        await done;
        return name;
      },
      release: () => release(),
    };
  }

  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('never runs more than the limit at once', async () => {
    // Prepare
    const semaphore = new Semaphore(2);
    let inFlight = 0;
    let peak = 0;
    const work = async (n: number) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await settle();
      inFlight -= 1;
      return n;
    };

    // Act
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => semaphore.run(() => work(n))));

    // Assess
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });

  it('starts waiting tasks in call order, one as each running task ends', async () => {
    // Prepare
    const semaphore = new Semaphore(1);
    const started: string[] = [];
    const [a, b, c] = [gate(started, 'a'), gate(started, 'b'), gate(started, 'c')];

    // Act
    const runs = [semaphore.run(a.task), semaphore.run(b.task), semaphore.run(c.task)];
    await settle();
    const whileAHolds = [...started];
    a.release();
    await settle();
    const afterA = [...started];
    b.release();
    c.release();
    await Promise.all(runs);

    // Assess
    expect(whileAHolds).toEqual(['a']);
    expect(afterA).toEqual(['a', 'b']);
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('frees the slot of a task that rejects, and rejects with its error', async () => {
    // Prepare
    const semaphore = new Semaphore(1);

    // Act
    const failed = semaphore.run(async () => {
      throw new Error('query failed');
    });
    const next = semaphore.run(async () => 'next');

    // Assess
    await expect(failed).rejects.toThrow('query failed');
    await expect(next).resolves.toBe('next');
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a limit of %p', (limit) => {
    // Act
    const act = () => new Semaphore(limit);

    // Assess
    expect(act).toThrow(InvalidValueError);
  });
});
