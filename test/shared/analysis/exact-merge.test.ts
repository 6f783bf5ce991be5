import { dropContainedEntries, mergeEntriesExactly } from '../../../shared/analysis/exact-merge';
import { describeEntry, entry } from './entry-fixtures';

describe('mergeEntriesExactly', () => {
  it('joins CIDRs of the same ports and ports of the same peer without widening', () => {
    // Prepare
    const entries = [
      entry('10.0.0.0/25', [443, 443]),
      entry('10.0.0.128/25', [443, 443]),
      entry('10.0.0.0/24', [444, 444]),
      entry('10.0.5.5/32', [443, 443]),
    ];

    // Act
    const merged = mergeEntriesExactly(entries);

    // Assess
    expect(merged.map(describeEntry).sort()).toEqual(['443-443 10.0.5.5/32', '443-444 10.0.0.0/24']);
    expect(merged.every((e) => e.basis === 'observed')).toBe(true);
  });
});

describe('dropContainedEntries', () => {
  it('drops entries another entry contains and keeps their sources', () => {
    // Prepare
    const entries = [
      entry('10.0.0.5/32', [443, 443], { sourceRuleIds: ['rule-b'] }),
      entry('10.0.0.0/16', [400, 500], { sourceRuleIds: ['rule-a'] }),
      entry('10.1.0.5/32', [443, 443]),
    ];

    // Act
    const kept = dropContainedEntries(entries);

    // Assess
    expect(kept.map(describeEntry).sort()).toEqual(['400-500 10.0.0.0/16', '443-443 10.1.0.5/32']);
    expect(kept.find((e) => e.addressCount === 65536n)?.sourceRuleIds).toEqual(['rule-a', 'rule-b']);
  });
});
