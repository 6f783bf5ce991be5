import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { recommendNacls } from '../../../shared/analysis/nacl';
import { DEFAULT_CONFIG } from '../../../shared/config';
import type { NaclRecommendation } from '../../../shared/model/analysis';
import { naclInput } from '../../../testkit/nacl-input';

/**
 * recommendNacls on generated accounts, against outputs recorded in test/fixtures/nacl-golden.json
 * (first recorded from the implementation before the 2026-11 rewrite for speed, which had to give
 * the same rules). A deliberate change of the rules re-records them:
 *   UPDATE_NACL_GOLDEN=1 npx jest test/shared/analysis/nacl-golden
 */
const FIXTURE = path.join(__dirname, '../../fixtures/nacl-golden.json');

interface GoldenCase {
  readonly size: number;
  readonly seed: number;
  readonly nacls: number;
  readonly quota: number;
  /** One line per rule, in order (what a reader compares). */
  readonly rules: readonly string[];
  /** sha256 of the whole output, reasons included. */
  readonly sha256: string;
}

const CASES: readonly (readonly [size: number, seed: number, nacls: number, quota: number])[] = [
  [2000, 1, 4, 20],
  [2000, 7, 4, 20],
  [2000, 42, 4, 20],
  [20000, 42, 4, 20],
  [3000, 5, 2, 6],
  [400, 9, 3, 1],
];

function ruleLine(r: NaclRecommendation): string {
  const ports = r.fromPort === undefined ? '' : ` ${r.fromPort}-${r.toPort}`;
  return `${r.naclId} ${r.direction} ${r.ruleNumber} ${r.protocol}${ports} ${r.cidr} ${r.action} ${r.purpose}`;
}

function run(size: number, seed: number, nacls: number, quota: number): GoldenCase {
  const { inventory, context, matched } = naclInput(size, seed, nacls);
  const rules = recommendNacls(inventory, matched, context, { ...DEFAULT_CONFIG, naclRuleQuota: quota });
  const sha256 = createHash('sha256').update(JSON.stringify(rules)).digest('hex');
  return { size, seed, nacls, quota, rules: rules.map(ruleLine), sha256 };
}

if (process.env.UPDATE_NACL_GOLDEN === '1') {
  writeFileSync(
    FIXTURE,
    `${JSON.stringify(
      CASES.map((c) => run(...c)),
      null,
      1,
    )}\n`,
  );
}
const golden = JSON.parse(readFileSync(FIXTURE, 'utf8')) as GoldenCase[];

describe('recommendNacls', () => {
  it.each(CASES)(
    'recommends the recorded rules for %i connections (seed %i, %i NACLs, quota %i)',
    (size, seed, nacls, quota) => {
      // Prepare
      const expected = golden.find(
        (g) => g.size === size && g.seed === seed && g.nacls === nacls && g.quota === quota,
      );

      // Act
      const actual = run(size, seed, nacls, quota);

      // Assess
      expect(expected).toBeDefined();
      expect(actual.rules).toEqual(expected?.rules);
      expect(actual.sha256).toBe(expected?.sha256);
      expect(actual.rules.some((line) => line.endsWith(' allow service'))).toBe(true);
    },
  );
});
