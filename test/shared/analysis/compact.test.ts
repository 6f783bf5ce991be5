import { type CompactionOptions, compactToQuota } from '../../../shared/analysis/compact';
import type { RecommendedEntry } from '../../../shared/analysis/recommended-entry';
import { cidrContains, parseCidr } from '../../../shared/net/ip';
import { describeEntry, entry } from './entry-fixtures';

const ANY_MERGE: CompactionOptions = { weightOf: () => 1, withinSourceRule: () => true };
/** Any merge, tcp 22 ones surcharged. */
const SURCHARGED_SSH: CompactionOptions = {
  ...ANY_MERGE,
  surchargeOf: (merged) => (merged.ports?.from === 22 ? 1n : 0n),
};

// --- tests -----------------------------------------------------------------------------------

describe('compactToQuota', () => {
  it('returns the entries unchanged when they are within the quota', () => {
    // Prepare
    const entries = [entry('10.0.0.1/32', [443, 443]), entry('10.0.0.9/32', [443, 443])];

    // Act
    const result = compactToQuota(entries, 2, ANY_MERGE);

    // Assess
    expect(result).toEqual({ entries, addedAddresses: 0n, merges: 0, weightedCount: 2, withinQuota: true });
  });

  it('merges the pair whose supernet adds the fewest addresses', () => {
    // Prepare
    const entries = [
      entry('10.0.0.4/32', [443, 443]),
      entry('10.0.0.6/32', [443, 443]),
      entry('10.0.0.16/32', [443, 443]),
    ];

    // Act
    const result = compactToQuota(entries, 2, ANY_MERGE);

    // Assess
    expect(result.entries.map(describeEntry).sort()).toEqual(['443-443 10.0.0.16/32', '443-443 10.0.0.4/30']);
    expect(result).toMatchObject({ addedAddresses: 2n, merges: 1, weightedCount: 2, withinQuota: true });
    const merged = result.entries.find((e) => e.basis === 'compacted');
    expect(merged).toMatchObject({ addedAddresses: 2n, connections: 2, addressCount: 4n });
    expect([...(merged?.peerAddrs ?? [])].sort()).toEqual(['10.0.0.4', '10.0.0.6']);
  });

  it('prefers a cheap peer merge over a port merge that exposes more', () => {
    // Prepare
    const entries = [
      entry('10.1.0.0/24', [80, 80]),
      entry('10.1.0.0/24', [82, 82]),
      entry('10.0.0.4/32', [443, 443]),
      entry('10.0.0.8/32', [443, 443]),
    ];

    // Act
    const result = compactToQuota(entries, 3, ANY_MERGE);

    // Assess
    expect(result.entries.map(describeEntry).sort()).toEqual([
      '443-443 10.0.0.0/28',
      '80-80 10.1.0.0/24',
      '82-82 10.1.0.0/24',
    ]);
    expect(result.addedAddresses).toBe(14n);
  });

  it('prefers a port merge when its added ports × addresses are fewer', () => {
    // Prepare
    const entries = [
      entry('10.0.0.5/32', [80, 80]),
      entry('10.0.0.5/32', [82, 82]),
      entry('10.0.0.4/32', [443, 443]),
      entry('10.0.0.8/32', [443, 443]),
    ];

    // Act
    const result = compactToQuota(entries, 3, ANY_MERGE);

    // Assess
    expect(result.entries.map(describeEntry).sort()).toEqual([
      '443-443 10.0.0.4/32',
      '443-443 10.0.0.8/32',
      '80-82 10.0.0.5/32',
    ]);
    expect(result.addedAddresses).toBe(1n);
  });

  it('takes a merge with a smaller surcharge first, and reports its cost alone as exposure', () => {
    // Prepare: merging the 443 pair costs 2 addresses, the 22 pair 14; 22 merges are surcharged
    const entries = [
      entry('10.0.0.4/32', [443, 443]),
      entry('10.0.0.6/32', [443, 443]),
      entry('10.0.1.0/32', [22, 22]),
      entry('10.0.1.8/32', [22, 22]),
    ];
    const cheapFirst = compactToQuota(entries, 3, ANY_MERGE);

    // Act
    const result = compactToQuota(entries.slice(2).concat(entries.slice(0, 2)), 3, SURCHARGED_SSH);
    const twoMerges = compactToQuota(entries, 2, SURCHARGED_SSH);

    // Assess: without the surcharge the cheaper 443 merge wins too; with it, the 22 pair stays
    // apart until no other merge is left
    expect(cheapFirst.entries.map(describeEntry).sort()).toEqual([
      '22-22 10.0.1.0/32',
      '22-22 10.0.1.8/32',
      '443-443 10.0.0.4/30',
    ]);
    expect(result.entries.map(describeEntry).sort()).toEqual(cheapFirst.entries.map(describeEntry).sort());
    expect(result.addedAddresses).toBe(2n);
    expect(twoMerges.entries.map(describeEntry).sort()).toEqual(['22-22 10.0.1.0/28', '443-443 10.0.0.4/30']);
    expect(twoMerges.addedAddresses).toBe(16n);
  });

  it('ranks a surcharged merge after every unsurcharged one, however costly', () => {
    // Prepare: the 22 pair is cheap (2 addresses); the 443 pair spans half the address space
    const entries = [
      entry('10.0.0.4/32', [22, 22]),
      entry('10.0.0.6/32', [22, 22]),
      entry('1.0.0.1/32', [443, 443]),
      entry('100.0.0.1/32', [443, 443]),
    ];

    // Act
    const plain = compactToQuota(entries, 3, ANY_MERGE);
    const result = compactToQuota(entries, 3, SURCHARGED_SSH);

    // Assess
    expect(plain.entries.map(describeEntry)).toContain('22-22 10.0.0.4/30');
    expect(result.entries.map(describeEntry).sort()).toEqual([
      '22-22 10.0.0.4/32',
      '22-22 10.0.0.6/32',
      '443-443 0.0.0.0/1',
    ]);
    expect(result.addedAddresses).toBe(2n ** 31n - 2n);
  });

  it('weighs prefix lists by their max entries', () => {
    // Prepare
    const entries = [
      entry('pl-corp', [80, 80]),
      entry('pl-corp', [443, 443]),
      entry('10.0.0.1/32', [22, 22]),
      entry('10.0.0.3/32', [22, 22]),
      entry('10.0.0.5/32', [22, 22]),
    ];
    const options: CompactionOptions = {
      weightOf: (e) => (e.peer.kind === 'prefix-list' ? 10 : 1),
      withinSourceRule: () => true,
    };

    // Act
    const result = compactToQuota(entries, 15, options);

    // Assess
    expect(result.withinQuota).toBe(true);
    expect(result.weightedCount).toBe(11);
    expect(result.entries.map(describeEntry).sort()).toEqual(['22-22 10.0.0.0/29', '80-443 pl-corp']);
    const list = result.entries.find((e) => e.peer.kind === 'prefix-list');
    expect(list?.addedAddresses).toBe(362n * 256n);
  });

  it('stops at the rule boundary and reports the SG over quota', () => {
    // Prepare
    const rule = parseCidr('10.0.0.0/30');
    const entries = [
      entry('10.0.0.0/32', [443, 443]),
      entry('10.0.0.2/32', [443, 443]),
      entry('10.0.0.8/32', [443, 443]),
    ];
    const options: CompactionOptions = {
      weightOf: () => 1,
      withinSourceRule: (e) => e.peer.kind === 'cidr' && cidrContains(rule, e.peer.cidr),
    };

    // Act
    const result = compactToQuota(entries, 1, options);

    // Assess
    expect(result.entries.map(describeEntry).sort()).toEqual(['443-443 10.0.0.0/30', '443-443 10.0.0.8/32']);
    expect(result).toMatchObject({ withinQuota: false, weightedCount: 2, merges: 1, addedAddresses: 2n });
  });

  it('reports the exposure on top of what the parts already added', () => {
    // Prepare
    const entries = [
      entry('10.0.0.0/24', [443, 443], { addedAddresses: 250n, basis: 'summarised-/24' }),
      entry('10.0.1.0/24', [443, 443], { addedAddresses: 253n, basis: 'summarised-/24' }),
    ];

    // Act
    const result = compactToQuota(entries, 1, ANY_MERGE);

    // Assess
    expect(result.addedAddresses).toBe(0n);
    expect(result.entries).toHaveLength(1);
    expect(result.entries[0]).toMatchObject({ basis: 'compacted', addedAddresses: 503n, addressCount: 512n });
    expect(describeEntry(result.entries[0] as RecommendedEntry)).toBe('443-443 10.0.0.0/23');
  });

  it('absorbs entries inside a wider one at no cost and pools their traffic', () => {
    // Prepare
    const entries = [
      entry('10.0.0.0/24', [443, 443], { connections: 5, sourceRuleIds: ['rule-a'] }),
      entry('10.0.0.5/32', [443, 443], { connections: 2, sourceRuleIds: ['rule-b'] }),
      entry('10.0.9.0/32', [443, 443]),
    ];

    // Act
    const result = compactToQuota(entries, 2, ANY_MERGE);

    // Assess
    expect(result.addedAddresses).toBe(0n);
    const wide = result.entries.find((e) => e.addressCount === 256n);
    expect(wide).toMatchObject({ connections: 7, sourceRuleIds: ['rule-a', 'rule-b'] });
  });

  it('merges the ports of one SG reference', () => {
    // Prepare
    const entries = [entry('sg-app', [8080, 8080]), entry('sg-app', [8443, 8443])];

    // Act
    const result = compactToQuota(entries, 1, ANY_MERGE);

    // Assess
    expect(result.entries.map(describeEntry)).toEqual(['8080-8443 sg-app']);
    expect(result.addedAddresses).toBe(362n * 2n);
  });

  it('compacts thousands of single addresses down to the quota', () => {
    // Prepare
    const entries = Array.from({ length: 5000 }, (_, i) =>
      entry(`10.${(i * 7919) % 256}.${(i * 31) % 256}.${i % 256}/32`, [443, 443]),
    );
    const unique = [...new Map(entries.map((e) => [describeEntry(e), e])).values()];

    // Act
    const result = compactToQuota(unique, 60, ANY_MERGE);

    // Assess
    expect(result.withinQuota).toBe(true);
    expect(result.entries.length).toBeLessThanOrEqual(60);
    const observed = result.entries.reduce((sum, e) => sum + e.peerAddrs.size, 0);
    expect(observed).toBe(unique.length);
  });
});
