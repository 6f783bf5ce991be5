import { isIP } from 'node:net';
import fc from 'fast-check';
import { InvalidValueError } from '../../../shared/errors';
import type { IpFamily } from '../../../shared/model/inventory';
import {
  type Cidr,
  canonicalIp,
  cidrContains,
  cidrContainsIp,
  cidrFirst,
  cidrLast,
  cidrSize,
  cidrsOverlap,
  commonSupernet,
  compareCidrs,
  familyBits,
  formatCidr,
  formatIp,
  hasHostBits,
  hostCidr,
  ipv4Number,
  isPrivate,
  isWorld,
  mergeCidrs,
  mergeIntervals,
  parseCidr,
  parseIp,
  parseIpOrThrow,
  rangeToCidrs,
  supernetOf,
  tryParseCidr,
} from '../../../shared/net/ip';

const IPV4_MAX = (1n << 32n) - 1n;
const IPV6_MAX = (1n << 128n) - 1n;
const maxOf = (family: IpFamily): bigint => (family === 'ipv4' ? IPV4_MAX : IPV6_MAX);
const cidrs = (...texts: string[]): Cidr[] => texts.map((text) => parseCidr(text));
const texts = (list: readonly Cidr[]): string[] => list.map(formatCidr);

/** IPv6 values built from groups that are often zero, so zero-run compression gets exercised. */
const ipv6Value = fc
  .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((groups) => groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n));
const ipv4Value = fc.bigInt({ min: 0n, max: IPV4_MAX });
const familyValue = fc.oneof(
  ipv4Value.map((value) => ({ family: 'ipv4' as const, value })),
  ipv6Value.map((value) => ({ family: 'ipv6' as const, value })),
);
const anyCidr: fc.Arbitrary<Cidr> = familyValue.chain(({ family, value }) =>
  fc.integer({ min: 0, max: familyBits(family) }).map((prefix) => {
    const mask = (1n << BigInt(familyBits(family) - prefix)) - 1n;
    return { family, network: value & ~mask, prefix };
  }),
);
/** CIDRs inside 10.0.0.0/20, so random sets overlap, nest and touch. */
const nearbyCidr: fc.Arbitrary<Cidr> = fc
  .tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 20, max: 32 }))
  .map(([offset, prefix]) =>
    supernetOf({ family: 'ipv4', network: 0x0a000000n + BigInt(offset), prefix: 32 }, prefix),
  );

describe('parseIp', () => {
  it('parses dotted-quad IPv4 addresses as bigints', () => {
    // Prepare / Act
    const ip = parseIp('10.0.0.1');
    // Assess
    expect(ip).toEqual({ family: 'ipv4', value: 0x0a000001n });
  });

  it('parses the IPv4 boundaries 0.0.0.0 and 255.255.255.255', () => {
    expect(parseIp('0.0.0.0')).toEqual({ family: 'ipv4', value: 0n });
    expect(parseIp('255.255.255.255')).toEqual({ family: 'ipv4', value: IPV4_MAX });
  });

  it.each([
    ['::', 0n],
    ['::1', 1n],
    ['1::', 1n << 112n],
    ['2001:db8::1', 0x20010db8000000000000000000000001n],
    ['2001:DB8:0:0:0:0:0:1', 0x20010db8000000000000000000000001n],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 0x20010db8000000000000000000000001n],
    ['fe80::1:0:0:2', 0xfe800000000000000001000000000002n],
    ['1:2:3:4:5:6:7::', 0x00010002000300040005000600070000n],
    ['::2:3:4:5:6:7:8', 0x00000002000300040005000600070008n],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', IPV6_MAX],
    ['::ffff:1.2.3.4', 0xffff01020304n],
    ['::FFFF:1.2.3.4', 0xffff01020304n],
    ['0:0:0:0:0:ffff:1.2.3.4', 0xffff01020304n],
    ['64:ff9b::192.0.2.33', 0x0064ff9b0000000000000000c0000221n],
  ])('parses the IPv6 form %s', (text, value) => {
    expect(parseIp(text)).toEqual({ family: 'ipv6', value });
  });

  it('ignores surrounding whitespace', () => {
    expect(parseIp(' 10.0.0.1\n')).toEqual({ family: 'ipv4', value: 0x0a000001n });
  });

  it.each([
    '',
    'abc',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3.-4',
    '1.2.3.4/32',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7::8',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:',
    '12345::',
    'g::1',
    '::1.2.3.4:5',
    '1.2.3.4::',
    '::ffff:1.2.3.256',
    'fe80::1%eth0',
    '10.0.0 .1',
  ])('returns undefined for %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it('accepts only text that node:net also accepts as an address', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.'.split('')) }), (text) => {
        if (parseIp(text) !== undefined) expect(isIP(text)).not.toBe(0);
      }),
    );
  });

  it('accepts dotted text exactly when node:net reads it as IPv4, with the value of its octets', () => {
    const octets = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), maxLength: 4 }),
    );
    const dotted = fc.oneof(
      fc.array(octets, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.')),
      fc.string({ unit: fc.constantFrom(...'0123456789.'.split('')), maxLength: 18 }),
    );
    fc.assert(
      fc.property(dotted, (text) => {
        const ip = parseIp(text);
        expect(ip !== undefined).toBe(isIP(text) === 4);
        if (ip !== undefined) {
          const value = text.split('.').reduce((v, octet) => v * 256n + BigInt(octet), 0n);
          expect(ip).toEqual({ family: 'ipv4', value });
          expect(ipv4Number(text)).toBe(Number(value));
        } else {
          expect(ipv4Number(text)).toBeUndefined();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('parses every address fast-check generates, in the family node:net sees', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        expect(parseIp(text)?.family).toBe(isIP(text) === 4 ? 'ipv4' : 'ipv6');
      }),
    );
  });
});

describe('parseIpOrThrow', () => {
  it('throws InvalidValueError naming the text', () => {
    expect(() => parseIpOrThrow('not-an-ip', { field: 'srcaddr' })).toThrow(InvalidValueError);
    expect(() => parseIpOrThrow('not-an-ip', { field: 'srcaddr' })).toThrow(
      /srcaddr: invalid IP address 'not-an-ip'/,
    );
  });
});

describe('formatIp', () => {
  it.each([
    ['ipv4', 0n, '0.0.0.0'],
    ['ipv4', IPV4_MAX, '255.255.255.255'],
    ['ipv4', 0xc0a80101n, '192.168.1.1'],
    ['ipv6', 0n, '::'],
    ['ipv6', 1n, '::1'],
    ['ipv6', IPV6_MAX, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['ipv6', 0x20010db8000000000000000000000001n, '2001:db8::1'],
    // A single zero group is not compressed (RFC 5952 §4.2.2).
    ['ipv6', 0x20010db8000000010001000100010001n, '2001:db8:0:1:1:1:1:1'],
    // The longest run wins; on a tie, the first one.
    ['ipv6', 0x00010000000000020000000000000003n, '1:0:0:2::3'],
    ['ipv6', 0x20010000000000010000000000010001n, '2001::1:0:0:1:1'],
    ['ipv6', 0x20010000000000010000000000000001n, '2001:0:0:1::1'],
    ['ipv6', 0x20010db8000000000001000000000001n, '2001:db8::1:0:0:1'],
    ['ipv6', 0x00000000000000000000000000000100n, '::100'],
    ['ipv6', 0xabcd0000000000000000000000000000n, 'abcd::'],
    ['ipv6', 0xffff01020304n, '::ffff:1.2.3.4'],
  ] as const)('formats %s %s as %s', (family, value, text) => {
    expect(formatIp(family, value)).toBe(text);
  });

  it('throws InvalidValueError for a value outside the family', () => {
    expect(() => formatIp('ipv4', IPV4_MAX + 1n)).toThrow(InvalidValueError);
    expect(() => formatIp('ipv6', -1n)).toThrow(InvalidValueError);
  });

  it('round-trips random IPv4 values through parseIp', () => {
    fc.assert(
      fc.property(ipv4Value, (value) => {
        expect(parseIp(formatIp('ipv4', value))).toEqual({ family: 'ipv4', value });
      }),
    );
  });

  it('round-trips random IPv6 values through parseIp', () => {
    fc.assert(
      fc.property(ipv6Value, (value) => {
        expect(parseIp(formatIp('ipv6', value))).toEqual({ family: 'ipv6', value });
      }),
    );
  });

  it('writes IPv6 as the WHATWG URL serializer does (RFC 5952 outside IPv4-mapped addresses)', () => {
    fc.assert(
      fc.property(ipv6Value, (value) => {
        fc.pre(value >> 32n !== 0xffffn);
        expect(formatIp('ipv6', value)).toBe(
          new URL(`http://[${formatIp('ipv6', value)}]/`).hostname.slice(1, -1),
        );
        expect(`[${formatIp('ipv6', value)}]`).toBe(
          new URL(
            `http://[${value
              .toString(16)
              .padStart(32, '0')
              .replace(/(.{4})(?!$)/g, '$1:')}]/`,
          ).hostname,
        );
      }),
    );
  });

  it('gives one canonical text for every written form of fast-check addresses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const ip = parseIpOrThrow(text);
        const canonical = formatIp(ip.family, ip.value);
        expect(canonicalIp(canonical)).toBe(canonical);
        expect(canonical).toBe(canonical.toLowerCase());
      }),
    );
  });
});

describe('canonicalIp', () => {
  it('maps different IPv6 spellings of one address to one text', () => {
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('2001:db8::0:1')).toBe('2001:db8::1');
  });

  it('returns undefined for text that is not an address', () => {
    expect(canonicalIp('-')).toBeUndefined();
  });
});

describe('parseCidr', () => {
  it('parses IPv4 and IPv6 CIDRs', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ family: 'ipv4', network: 0x0a000000n, prefix: 8 });
    expect(parseCidr('2001:db8::/32')).toEqual({ family: 'ipv6', network: 0x20010db8n << 96n, prefix: 32 });
  });

  it('clears host bits', () => {
    expect(formatCidr(parseCidr('10.0.0.5/24'))).toBe('10.0.0.0/24');
    expect(formatCidr(parseCidr('2001:db8::1/64'))).toBe('2001:db8::/64');
  });

  it('reads a bare address as its /32 or /128', () => {
    expect(formatCidr(parseCidr('10.0.0.5'))).toBe('10.0.0.5/32');
    expect(formatCidr(parseCidr('2001:DB8::5'))).toBe('2001:db8::5/128');
  });

  it('parses the world and host boundaries /0, /32 and /128', () => {
    expect(parseCidr('0.0.0.0/0')).toEqual({ family: 'ipv4', network: 0n, prefix: 0 });
    expect(parseCidr('::/0')).toEqual({ family: 'ipv6', network: 0n, prefix: 0 });
    expect(parseCidr('255.255.255.255/32').network).toBe(IPV4_MAX);
    expect(parseCidr('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128').network).toBe(IPV6_MAX);
    expect(formatCidr(parseCidr('1.2.3.4/0'))).toBe('0.0.0.0/0');
  });

  it.each([
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '10.0.0.0/x',
    'garbage',
    '/8',
    '',
  ])('throws InvalidValueError naming %j', (text) => {
    expect(() => parseCidr(text)).toThrow(InvalidValueError);
    expect(() => parseCidr(text)).toThrow(`'${text}'`);
  });

  it('names the origin of the value in the error', () => {
    expect(() => parseCidr('10.0.0.0/40', { file: 'security-groups.json', field: 'CidrIp' })).toThrow(
      "security-groups.json: CidrIp: invalid CIDR '10.0.0.0/40'",
    );
  });
});

describe('tryParseCidr', () => {
  it('returns undefined instead of throwing', () => {
    expect(tryParseCidr('10.0.0.0/33')).toBeUndefined();
    expect(tryParseCidr(' 10.0.0.0/8 ')).toEqual(parseCidr('10.0.0.0/8'));
  });
});

describe('hasHostBits', () => {
  it('tells CIDRs AWS would reject from canonical ones', () => {
    expect(hasHostBits('10.0.0.5/24')).toBe(true);
    expect(hasHostBits('2001:db8::1/64')).toBe(true);
    expect(hasHostBits('10.0.0.0/24')).toBe(false);
    expect(hasHostBits('10.0.0.5')).toBe(false);
    expect(hasHostBits('garbage')).toBe(false);
  });
});

describe('formatCidr', () => {
  it('writes the canonical address and the prefix', () => {
    expect(formatCidr({ family: 'ipv6', network: 0n, prefix: 0 })).toBe('::/0');
    expect(formatCidr({ family: 'ipv4', network: 0n, prefix: 0 })).toBe('0.0.0.0/0');
  });

  it('round-trips random CIDRs through parseCidr', () => {
    fc.assert(
      fc.property(anyCidr, (cidr) => {
        expect(parseCidr(formatCidr(cidr))).toEqual(cidr);
      }),
    );
  });
});

describe('hostCidr', () => {
  it('gives the /32 or /128 of an address', () => {
    expect(formatCidr(hostCidr('10.1.2.3'))).toBe('10.1.2.3/32');
    expect(formatCidr(hostCidr('2001:DB8::1'))).toBe('2001:db8::1/128');
  });

  it('throws InvalidValueError for a CIDR or garbage', () => {
    expect(() => hostCidr('10.0.0.0/8')).toThrow(InvalidValueError);
    expect(() => hostCidr('x')).toThrow("'x'");
  });
});

describe('cidrFirst / cidrLast / cidrSize', () => {
  it('bounds a /24', () => {
    const cidr = parseCidr('10.0.0.0/24');
    expect(formatIp('ipv4', cidrFirst(cidr))).toBe('10.0.0.0');
    expect(formatIp('ipv4', cidrLast(cidr))).toBe('10.0.0.255');
    expect(cidrSize(cidr)).toBe(256n);
  });

  it('bounds the worlds and the hosts of both families', () => {
    expect(cidrLast(parseCidr('0.0.0.0/0'))).toBe(IPV4_MAX);
    expect(cidrSize(parseCidr('0.0.0.0/0'))).toBe(1n << 32n);
    expect(cidrLast(parseCidr('::/0'))).toBe(IPV6_MAX);
    expect(cidrSize(parseCidr('::/0'))).toBe(1n << 128n);
    expect(cidrSize(parseCidr('10.0.0.1/32'))).toBe(1n);
    expect(cidrSize(parseCidr('::1/128'))).toBe(1n);
    expect(cidrLast(parseCidr('::1/128'))).toBe(1n);
  });

  it('sizes an IPv6 /64', () => {
    expect(cidrSize(parseCidr('2001:db8::/64'))).toBe(1n << 64n);
    expect(formatIp('ipv6', cidrLast(parseCidr('2001:db8::/64')))).toBe('2001:db8::ffff:ffff:ffff:ffff');
  });
});

describe('cidrContainsIp', () => {
  it('contains addresses inside and not outside', () => {
    const cidr = parseCidr('10.0.0.0/24');
    expect(cidrContainsIp(cidr, '10.0.0.0')).toBe(true);
    expect(cidrContainsIp(cidr, '10.0.0.255')).toBe(true);
    expect(cidrContainsIp(cidr, '10.0.1.0')).toBe(false);
    expect(cidrContainsIp(cidr, '9.255.255.255')).toBe(false);
  });

  it('never matches across families', () => {
    expect(cidrContainsIp(parseCidr('0.0.0.0/0'), '::1')).toBe(false);
    expect(cidrContainsIp(parseCidr('::/0'), '10.0.0.1')).toBe(false);
    expect(cidrContainsIp(parseCidr('::/0'), '::ffff:10.0.0.1')).toBe(true);
  });

  it('accepts a parsed address', () => {
    expect(cidrContainsIp(parseCidr('2001:db8::/32'), { family: 'ipv6', value: 0x20010db8n << 96n })).toBe(
      true,
    );
  });

  it('throws InvalidValueError for text that is not an address', () => {
    expect(() => cidrContainsIp(parseCidr('10.0.0.0/8'), 'nope')).toThrow(InvalidValueError);
  });

  it('agrees with first <= ip <= last', () => {
    fc.assert(
      fc.property(
        anyCidr,
        fc.bigInt({ min: 0n, max: IPV6_MAX }),
        fc.bigInt({ min: -2n, max: 2n }),
        (cidr, r, d) => {
          // Probe random addresses and the edges of the block.
          const max = maxOf(cidr.family);
          const candidates = [r % (max + 1n), cidrFirst(cidr) + d, cidrLast(cidr) + d].filter(
            (v) => v >= 0n && v <= max,
          );
          for (const value of candidates) {
            const inside = cidrFirst(cidr) <= value && value <= cidrLast(cidr);
            expect(cidrContainsIp(cidr, { family: cidr.family, value })).toBe(inside);
          }
        },
      ),
    );
  });
});

describe('cidrContains', () => {
  it('contains itself and narrower blocks inside it', () => {
    expect(cidrContains(parseCidr('10.0.0.0/8'), parseCidr('10.0.0.0/8'))).toBe(true);
    expect(cidrContains(parseCidr('10.0.0.0/8'), parseCidr('10.255.0.0/16'))).toBe(true);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseCidr('255.255.255.255/32'))).toBe(true);
    expect(cidrContains(parseCidr('::/0'), parseCidr('ffff::/16'))).toBe(true);
  });

  it('does not contain wider, disjoint or other-family blocks', () => {
    expect(cidrContains(parseCidr('10.0.0.0/16'), parseCidr('10.0.0.0/8'))).toBe(false);
    expect(cidrContains(parseCidr('10.0.0.0/16'), parseCidr('10.1.0.0/16'))).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseCidr('::/128'))).toBe(false);
  });

  it('agrees with interval containment', () => {
    fc.assert(
      fc.property(nearbyCidr, nearbyCidr, (a, b) => {
        const inside = cidrFirst(a) <= cidrFirst(b) && cidrLast(b) <= cidrLast(a);
        expect(cidrContains(a, b)).toBe(inside);
      }),
    );
  });
});

describe('cidrsOverlap', () => {
  it('overlaps nested blocks and not neighbours', () => {
    expect(cidrsOverlap(parseCidr('10.0.0.0/24'), parseCidr('10.0.0.0/8'))).toBe(true);
    expect(cidrsOverlap(parseCidr('10.0.0.0/25'), parseCidr('10.0.0.128/25'))).toBe(false);
    expect(cidrsOverlap(parseCidr('::/0'), parseCidr('0.0.0.0/0'))).toBe(false);
  });

  it('agrees with interval intersection', () => {
    fc.assert(
      fc.property(nearbyCidr, nearbyCidr, (a, b) => {
        const overlap = cidrFirst(a) <= cidrLast(b) && cidrFirst(b) <= cidrLast(a);
        expect(cidrsOverlap(a, b)).toBe(overlap);
      }),
    );
  });
});

describe('isWorld', () => {
  it('is true for /0 of either family only', () => {
    expect(isWorld(parseCidr('0.0.0.0/0'))).toBe(true);
    expect(isWorld(parseCidr('::/0'))).toBe(true);
    expect(isWorld(parseCidr('0.0.0.0/1'))).toBe(false);
    expect(isWorld(parseCidr('::/1'))).toBe(false);
  });
});

describe('isPrivate', () => {
  it.each([
    '10.0.0.0/8',
    '10.1.2.3/32',
    '172.16.0.0/12',
    '172.31.255.255/32',
    '192.168.0.0/16',
    '100.64.0.0/10',
    '169.254.169.254/32',
    '127.0.0.1/32',
    'fc00::/7',
    'fd12:3456::/48',
    'fe80::/10',
    'fe80::1/128',
    '::1/128',
  ])('is true for %s', (text) => {
    expect(isPrivate(parseCidr(text))).toBe(true);
  });

  it.each([
    '0.0.0.0/0',
    '::/0',
    '8.8.8.8/32',
    '10.0.0.0/7',
    '172.32.0.0/16',
    '172.15.255.255/32',
    '100.128.0.0/10',
    '192.169.0.0/16',
    '2001:db8::/32',
    'fe00::/7',
    '::/128',
    '::2/128',
  ])('is false for %s', (text) => {
    expect(isPrivate(parseCidr(text))).toBe(false);
  });
});

describe('supernetOf', () => {
  it('widens a host to its /24 and an IPv6 host to its /64', () => {
    expect(formatCidr(supernetOf(parseCidr('10.1.2.3'), 24))).toBe('10.1.2.0/24');
    expect(formatCidr(supernetOf(parseCidr('2001:db8::1:2'), 64))).toBe('2001:db8::/64');
    expect(formatCidr(supernetOf(parseCidr('2001:db8::1:2'), 0))).toBe('::/0');
  });

  it('returns the CIDR itself when it is already as wide', () => {
    expect(formatCidr(supernetOf(parseCidr('10.0.0.0/16'), 24))).toBe('10.0.0.0/16');
  });

  it('throws InvalidValueError for a prefix outside the family', () => {
    expect(() => supernetOf(parseCidr('10.0.0.0/16'), 33)).toThrow(InvalidValueError);
    expect(() => supernetOf(parseCidr('::/16'), -1)).toThrow(InvalidValueError);
  });
});

describe('commonSupernet', () => {
  it('finds the smallest block holding two hosts', () => {
    expect(formatCidr(commonSupernet(parseCidr('10.0.0.1'), parseCidr('10.0.0.6')))).toBe('10.0.0.0/29');
    expect(formatCidr(commonSupernet(parseCidr('10.0.0.1'), parseCidr('10.0.0.1')))).toBe('10.0.0.1/32');
    expect(formatCidr(commonSupernet(parseCidr('0.0.0.0'), parseCidr('255.255.255.255')))).toBe('0.0.0.0/0');
    expect(formatCidr(commonSupernet(parseCidr('2001:db8::1'), parseCidr('2001:db8:1::1')))).toBe(
      '2001:db8::/47',
    );
  });

  it('is the wider CIDR when one contains the other', () => {
    expect(formatCidr(commonSupernet(parseCidr('10.0.0.0/8'), parseCidr('10.9.0.0/16')))).toBe('10.0.0.0/8');
  });

  it('throws InvalidValueError across families', () => {
    expect(() => commonSupernet(parseCidr('10.0.0.0/8'), parseCidr('::/0'))).toThrow(InvalidValueError);
  });

  it('contains both, and no narrower block does', () => {
    fc.assert(
      fc.property(
        anyCidr.chain((a) => anyCidr.filter((b) => b.family === a.family).map((b) => [a, b] as const)),
        ([a, b]) => {
          const supernet = commonSupernet(a, b);
          expect(cidrContains(supernet, a) && cidrContains(supernet, b)).toBe(true);
          if (supernet.prefix < familyBits(a.family)) {
            const narrower = supernetOf({ ...a, prefix: familyBits(a.family) }, supernet.prefix + 1);
            expect(cidrContains(narrower, a) && cidrContains(narrower, b)).toBe(false);
          }
        },
      ),
    );
  });
});

describe('rangeToCidrs', () => {
  it('covers a range with aligned blocks', () => {
    expect(texts(rangeToCidrs('ipv4', 0x0a000000n, 0x0a000100n))).toEqual(['10.0.0.0/24', '10.0.1.0/32']);
    expect(texts(rangeToCidrs('ipv4', 0x0a000001n, 0x0a000006n))).toEqual([
      '10.0.0.1/32',
      '10.0.0.2/31',
      '10.0.0.4/31',
      '10.0.0.6/32',
    ]);
  });

  it('covers whole families with one block', () => {
    expect(texts(rangeToCidrs('ipv4', 0n, IPV4_MAX))).toEqual(['0.0.0.0/0']);
    expect(texts(rangeToCidrs('ipv6', 0n, IPV6_MAX))).toEqual(['::/0']);
  });

  it('needs 2 × bits − 2 blocks for the world without its first and last address', () => {
    expect(rangeToCidrs('ipv4', 1n, IPV4_MAX - 1n)).toHaveLength(62);
    expect(rangeToCidrs('ipv6', 1n, IPV6_MAX - 1n)).toHaveLength(254);
  });

  it('covers a single address and the last address of each family', () => {
    expect(texts(rangeToCidrs('ipv4', IPV4_MAX, IPV4_MAX))).toEqual(['255.255.255.255/32']);
    expect(texts(rangeToCidrs('ipv6', IPV6_MAX, IPV6_MAX))).toEqual([
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128',
    ]);
  });

  it('returns no blocks for an empty range', () => {
    expect(rangeToCidrs('ipv4', 5n, 4n)).toEqual([]);
  });

  it('throws InvalidValueError for bounds outside the family', () => {
    expect(() => rangeToCidrs('ipv4', 0n, IPV4_MAX + 1n)).toThrow(InvalidValueError);
    expect(() => rangeToCidrs('ipv6', -1n, 0n)).toThrow(InvalidValueError);
  });

  it('covers exactly [first, last] with at most 2 × bits blocks that cannot pair up', () => {
    const familyRange = fc
      .constantFrom<IpFamily>('ipv4', 'ipv6')
      .chain((family) =>
        fc
          .tuple(fc.bigInt({ min: 0n, max: maxOf(family) }), fc.bigInt({ min: 0n, max: maxOf(family) }))
          .map(([x, y]) => (x <= y ? { family, first: x, last: y } : { family, first: y, last: x })),
      );
    fc.assert(
      fc.property(familyRange, ({ family, first, last }) => {
        const blocks = rangeToCidrs(family, first, last);
        expect(blocks.length).toBeLessThanOrEqual(2 * familyBits(family));
        expect(cidrFirst(blocks[0] as Cidr)).toBe(first);
        expect(cidrLast(blocks[blocks.length - 1] as Cidr)).toBe(last);
        let size = 0n;
        blocks.forEach((block, i) => {
          size += cidrSize(block);
          const next = blocks[i + 1];
          if (next === undefined) return;
          // Contiguous, and no two neighbours form one aligned block (else the cover is not minimal).
          expect(cidrFirst(next)).toBe(cidrLast(block) + 1n);
          const joined = supernetOf(block, block.prefix - 1);
          expect(block.prefix === next.prefix && cidrContains(joined, next)).toBe(false);
        });
        expect(size).toBe(last - first + 1n);
      }),
    );
  });
});

describe('mergeIntervals', () => {
  it('joins overlapping and adjacent blocks per family', () => {
    const merged = mergeIntervals(cidrs('10.0.1.0/24', '10.0.0.0/24', '::/1', '10.0.0.5/32', '8000::/1'));
    expect(merged).toEqual([
      { family: 'ipv4', first: 0x0a000000n, last: 0x0a0001ffn },
      { family: 'ipv6', first: 0n, last: IPV6_MAX },
    ]);
  });
});

describe('mergeCidrs', () => {
  it('joins adjacent halves into their parent', () => {
    expect(texts(mergeCidrs(cidrs('10.0.0.128/25', '10.0.0.0/25')))).toEqual(['10.0.0.0/24']);
    expect(texts(mergeCidrs(cidrs('::/1', '8000::/1')))).toEqual(['::/0']);
  });

  it('drops nested and duplicate blocks', () => {
    expect(texts(mergeCidrs(cidrs('10.0.0.0/8', '10.1.0.0/16', '10.0.0.0/8')))).toEqual(['10.0.0.0/8']);
  });

  it('keeps adjacent blocks that do not form an aligned parent apart', () => {
    expect(texts(mergeCidrs(cidrs('10.0.1.0/24', '10.0.2.0/24')))).toEqual(['10.0.1.0/24', '10.0.2.0/24']);
  });

  it('sorts IPv4 before IPv6 and never merges across families', () => {
    expect(texts(mergeCidrs(cidrs('2001:db8::/32', '0.0.0.0/0', '::/0')))).toEqual(['0.0.0.0/0', '::/0']);
  });

  it('returns nothing for nothing', () => {
    expect(mergeCidrs([])).toEqual([]);
  });

  it('preserves membership, and yields sorted disjoint blocks no more numerous than the input', () => {
    fc.assert(
      fc.property(
        fc.array(nearbyCidr, { maxLength: 30 }),
        fc.array(fc.integer({ min: -16, max: 4111 }), { minLength: 20, maxLength: 20 }),
        (input, offsets) => {
          const merged = mergeCidrs(input);
          for (const offset of offsets) {
            const ip = { family: 'ipv4' as const, value: 0x0a000000n + BigInt(offset) };
            expect(merged.some((c) => cidrContainsIp(c, ip))).toBe(input.some((c) => cidrContainsIp(c, ip)));
          }
          expect(merged.length).toBeLessThanOrEqual(input.length);
          for (let i = 1; i < merged.length; i++) {
            expect(cidrFirst(merged[i] as Cidr)).toBeGreaterThan(cidrLast(merged[i - 1] as Cidr));
          }
        },
      ),
    );
  });
});

describe('compareCidrs', () => {
  it('orders IPv4 first, then by address, then wider first', () => {
    const sorted = cidrs('::/0', '10.0.0.0/24', '10.0.0.0/8', '9.0.0.0/8').sort(compareCidrs);
    expect(texts(sorted)).toEqual(['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/24', '::/0']);
  });
});
