import fc from 'fast-check';
import { recommendNacls } from '../../../shared/analysis/nacl';
import { type AnalysisConfig, DEFAULT_CONFIG } from '../../../shared/config';
import type { MatchedConnection } from '../../../shared/model/analysis';
import { naclInput } from './nacl-input';
import { recommendNacls as referenceRecommendNacls } from './nacl-reference';

// --- tests -----------------------------------------------------------------------------------

describe('recommendNacls', () => {
  it.each([
    [2000, 1],
    [2000, 7],
    [2000, 42],
    [20000, 42],
  ])(
    'recommends the same rules as the reference implementation for %i connections (seed %i)',
    (size, seed) => {
      // Prepare
      const { inventory, context, matched } = naclInput(size, seed);

      // Act
      const rules = recommendNacls(inventory, matched, context, DEFAULT_CONFIG);

      // Assess
      expect(rules).toEqual(referenceRecommendNacls(inventory, matched, context, DEFAULT_CONFIG));
      expect(rules.filter((r) => r.action === 'allow').length).toBeGreaterThan(8);
    },
  );

  it('recommends the same rules as the reference on random inputs and quotas', () => {
    // Prepare
    const inputs = fc.record({
      size: fc.integer({ min: 1, max: 400 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      nacls: fc.integer({ min: 1, max: 3 }),
      quota: fc.integer({ min: 1, max: 25 }),
      firstHalf: fc.boolean(),
    });

    // Act / Assess
    fc.assert(
      fc.property(inputs, ({ size, seed, nacls, quota, firstHalf }) => {
        const { inventory, context, matched } = naclInput(size, seed, nacls);
        const config: AnalysisConfig = { ...DEFAULT_CONFIG, naclRuleQuota: quota };
        const input: MatchedConnection[] = firstHalf ? matched.slice(0, size >> 1) : matched;
        expect(recommendNacls(inventory, input, context, config)).toEqual(
          referenceRecommendNacls(inventory, input, context, config),
        );
      }),
      { numRuns: 150 },
    );
  });
});
