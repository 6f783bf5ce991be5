import fc from 'fast-check';
import { PEER_LIST_LIMIT, PeerIndex } from '../../../../shared/analysis/folding/peer-index';

interface Item {
  readonly peer: string;
  readonly rest: string;
  count: number;
}

/** Adds one to the item of (peer, rest), or adds the item: what the fold's connection tally does. */
function tallyInto(index: PeerIndex<Item>, peer: string, rest: string): void {
  const found = index.find(peer, { matches: (item) => item.rest === rest, rest: () => rest });
  if (found === undefined) index.add(peer, { peer, rest, count: 1 });
  else found.count++;
}

describe('PeerIndex', () => {
  it('finds and orders items exactly as a map keyed by the whole key, however many items a peer has', () => {
    // Few peers and many rests, so peers pass from one item to a short list to a map.
    const key = fc.tuple(
      fc.constantFrom('10.0.0.1', '10.0.0.2', '203.0.113.9'),
      fc.integer({ min: 0, max: 3 * PEER_LIST_LIMIT }),
    );
    fc.assert(
      fc.property(fc.array(key, { maxLength: 300 }), (keys) => {
        // Prepare
        const index = new PeerIndex<Item>((item) => item.rest);
        const reference = new Map<string, Item>();
        // Act
        for (const [peer, n] of keys) {
          const rest = `eni-1|${n}`;
          tallyInto(index, peer, rest);
          const whole = `${peer}|${rest}`;
          const seen = reference.get(whole);
          if (seen === undefined) reference.set(whole, { peer, rest, count: 1 });
          else seen.count++;
        }
        // Assess
        expect(index.size).toBe(reference.size);
        expect(index.values()).toEqual([...reference.values()]);
        expect([...index.drain()]).toEqual([...reference.values()]);
        expect(index.size).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('lets each item go as the drain reads it', () => {
    // Prepare
    const index = new PeerIndex<Item>((item) => item.rest);
    tallyInto(index, '10.0.0.1', 'a');
    tallyInto(index, '10.0.0.2', 'a');
    // Act
    const drain = index.drain();
    const first = drain.next().value;
    // Assess: the first is out of the index before the second is read.
    expect(first).toMatchObject({ peer: '10.0.0.1' });
    expect(index.values()[0]).toBeUndefined();
    expect(index.find('10.0.0.2', { matches: () => true, rest: () => 'a' })).toBeUndefined();
  });
});
