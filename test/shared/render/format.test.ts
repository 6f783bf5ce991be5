import fc from 'fast-check';
import type { Finding } from '../../../shared/model/analysis';
import {
  compareFindings,
  findingLiveness,
  formatAddressCount,
  naclRuleNumberText,
} from '../../../shared/render/format';

describe('formatAddressCount', () => {
  it.each([
    ['4294967090', 'ipv4', 'about the whole IPv4 space'],
    ['2147483648', 'ipv4', 'about half the IPv4 space'],
    ['16777216', 'ipv4', '16.7 million addresses'],
    ['253', 'ipv4', '253 addresses'],
    ['1', 'ipv4', '1 address'],
    ['12345', 'ipv4', '12,345 addresses'],
    ['340282366920938463463374607431768211420', 'ipv6', 'about the whole IPv6 space'],
    ['4722366482869645213696', 'ipv6', 'about a /56 of IPv6 addresses'],
  ] as const)('says %s %s addresses as "%s"', (count, family, words) => {
    // Act / Assess
    expect(formatAddressCount(count, family)).toBe(words);
  });

  it('never prints a raw count of ten digits or more (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (n) => {
        expect(formatAddressCount(n.toString(), 'ipv4')).not.toMatch(/\d{10}/);
      }),
    );
  });
});

describe('compareFindings', () => {
  const base: Finding = {
    id: 'x',
    check: 'sensitive-port-world',
    severity: 'critical',
    sgId: 'sg-a',
    sgName: 'a',
    vpcId: 'vpc-1',
    reason: '',
    resources: {},
    evidence: '',
    controls: [],
  };

  it('ranks a used rule before an attached one, and both before an SG nothing carries', () => {
    // Prepare
    const unattached = { ...base, id: 'u', sgId: 'sg-a' };
    const attached = { ...base, id: 'a', sgId: 'sg-b', resources: { ec2: 1 }, ruleStatus: 'unused' as const };
    const used = { ...base, id: 'w', sgId: 'sg-c', resources: { ec2: 1 }, ruleStatus: 'used' as const };

    // Act
    const order = [unattached, attached, used].sort(compareFindings).map((f) => f.id);

    // Assess
    expect(order).toEqual(['w', 'a', 'u']);
    expect([used, attached, unattached].map(findingLiveness)).toEqual([0, 1, 2]);
  });

  it('keeps severity first', () => {
    // Act
    const order = [
      {
        ...base,
        id: 'used-high',
        severity: 'high' as const,
        resources: { ec2: 1 },
        ruleStatus: 'used' as const,
      },
      base,
    ]
      .sort(compareFindings)
      .map((f) => f.id);

    // Assess
    expect(order).toEqual(['x', 'used-high']);
  });
});

describe('naclRuleNumberText', () => {
  it('prints the default rule as *', () => {
    // Act / Assess
    expect(naclRuleNumberText({ ruleNumber: 32767, purpose: 'default-deny' })).toBe('*');
    expect(naclRuleNumberText({ ruleNumber: 110, purpose: 'service' })).toBe('110');
  });
});
