import fc from 'fast-check';
import { InvalidValueError } from '../../../shared/errors';
import { isIcmp, protocolHasPorts, protocolName, protocolNumber } from '../../../shared/net/protocol';

describe('protocolNumber', () => {
  it.each([
    ['tcp', 6],
    ['udp', 17],
    ['icmp', 1],
    ['icmpv6', 58],
    ['TCP', 6],
    ['Udp', 17],
    ['ICMPv6', 58],
    ['ipv6-icmp', 58],
    ['6', 6],
    ['17', 17],
    ['50', 50],
    ['0', 0],
    ['255', 255],
    [' tcp ', 6],
  ] as const)('reads %j as %d', (text, number) => {
    expect(protocolNumber(text)).toBe(number);
  });

  it("reads '-1' as all", () => {
    expect(protocolNumber('-1')).toBe('all');
    expect(protocolNumber('ALL')).toBe('all');
  });

  it.each(['', 'abc', '256', '-2', '6.0', 'tcp6', '1000'])('throws InvalidValueError naming %j', (text) => {
    expect(() => protocolNumber(text)).toThrow(InvalidValueError);
    expect(() => protocolNumber(text)).toThrow(`'${text}'`);
  });

  it('names the origin of the value', () => {
    expect(() => protocolNumber('bogus', { field: 'IpProtocol' })).toThrow(
      /^IpProtocol: invalid IP protocol/,
    );
  });
});

describe('protocolName', () => {
  it.each([
    [6, 'tcp'],
    [17, 'udp'],
    [1, 'icmp'],
    [58, 'icmpv6'],
    ['all', '-1'],
    [50, '50'],
    [47, '47'],
  ] as const)('writes %j as %j', (number, text) => {
    expect(protocolName(number)).toBe(text);
  });

  it('round-trips every protocol number through protocolNumber', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constant('all' as const)), (n) => {
        expect(protocolNumber(protocolName(n))).toBe(n);
      }),
    );
  });
});

describe('protocolHasPorts', () => {
  it('is true for tcp and udp only', () => {
    expect(protocolHasPorts(6)).toBe(true);
    expect(protocolHasPorts(17)).toBe(true);
    expect(protocolHasPorts(1)).toBe(false);
    expect(protocolHasPorts(58)).toBe(false);
    expect(protocolHasPorts(50)).toBe(false);
    expect(protocolHasPorts('all')).toBe(false);
  });
});

describe('isIcmp', () => {
  it('is true for icmp and icmpv6 only', () => {
    expect(isIcmp(1)).toBe(true);
    expect(isIcmp(58)).toBe(true);
    expect(isIcmp(6)).toBe(false);
    expect(isIcmp('all')).toBe(false);
  });
});
