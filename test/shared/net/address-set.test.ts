import fc from 'fast-check';
import { AddressSet } from '../../../shared/net/address-set';
import { type Cidr, cidrContainsIp, formatCidr, parseCidr, parseIpOrThrow } from '../../../shared/net/ip';

const set = (...texts: string[]): AddressSet => AddressSet.of(texts.map((text) => parseCidr(text)));

describe('AddressSet.has', () => {
  it('holds the addresses of its CIDRs in both families', () => {
    // Prepare
    const addresses = set('10.0.0.0/24', '10.0.2.5', '2001:db8::/32');
    // Act / Assess
    expect(addresses.has(parseIpOrThrow('10.0.0.255'))).toBe(true);
    expect(addresses.has(parseIpOrThrow('10.0.1.0'))).toBe(false);
    expect(addresses.has(parseIpOrThrow('10.0.2.5'))).toBe(true);
    expect(addresses.has(parseIpOrThrow('10.0.2.6'))).toBe(false);
    expect(addresses.has(parseIpOrThrow('2001:db8:ffff::1'))).toBe(true);
    expect(addresses.has(parseIpOrThrow('2001:db9::'))).toBe(false);
  });

  it('keeps families apart', () => {
    expect(set('0.0.0.0/0').has(parseIpOrThrow('::'))).toBe(false);
    expect(set('::/0').has(parseIpOrThrow('0.0.0.0'))).toBe(false);
    expect(set('::/0').has(parseIpOrThrow('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'))).toBe(true);
  });

  it('holds nothing when empty', () => {
    expect(AddressSet.EMPTY.has(parseIpOrThrow('10.0.0.1'))).toBe(false);
    expect(AddressSet.EMPTY.isEmpty).toBe(true);
    expect(set('::1').isEmpty).toBe(false);
  });

  it('agrees with membership in any of its CIDRs', () => {
    const nearby = fc
      .tuple(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 22, max: 32 }))
      .map(([offset, prefix]) => parseCidr(`10.0.${offset >> 8}.${offset & 255}/${prefix}`));
    fc.assert(
      fc.property(
        fc.array(nearby, { maxLength: 20 }),
        fc.array(fc.integer({ min: -8, max: 1100 })),
        (cidrs, probes) => {
          const addresses = AddressSet.of(cidrs);
          for (const probe of probes) {
            const ip = { family: 'ipv4' as const, value: 0x0a000000n + BigInt(probe) };
            expect(addresses.has(ip)).toBe(cidrs.some((c: Cidr) => cidrContainsIp(c, ip)));
          }
        },
      ),
    );
  });
});

describe('AddressSet.hasFamily', () => {
  it('tells which families the set holds', () => {
    const addresses = set('10.0.0.0/8');
    expect(addresses.hasFamily('ipv4')).toBe(true);
    expect(addresses.hasFamily('ipv6')).toBe(false);
  });
});

describe('AddressSet.toCidrs', () => {
  it('gives the minimal CIDRs, IPv4 first', () => {
    expect(set('fe80::/10', '10.0.0.128/25', '10.0.0.0/25').toCidrs().map(formatCidr)).toEqual([
      '10.0.0.0/24',
      'fe80::/10',
    ]);
  });
});
