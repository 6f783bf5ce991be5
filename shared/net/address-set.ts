/**
 * An immutable set of addresses held as sorted disjoint intervals per family, for membership
 * tests in O(log intervals) without expanding any CIDR into addresses.
 */
import type { IpFamily } from '../model/inventory';
import { type Cidr, type IpAddress, type IpInterval, mergeIntervals, rangeToCidrs } from './ip';

export class AddressSet {
  /** Interval starts and ends per family, parallel and sorted, for binary search. */
  private readonly firsts: Record<IpFamily, bigint[]> = { ipv4: [], ipv6: [] };
  private readonly lasts: Record<IpFamily, bigint[]> = { ipv4: [], ipv6: [] };

  private constructor(intervals: readonly IpInterval[]) {
    for (const interval of intervals) {
      this.firsts[interval.family].push(interval.first);
      this.lasts[interval.family].push(interval.last);
    }
  }

  /**
   * The union of the CIDRs.
   *
   * @example AddressSet.of([parseCidr('10.0.0.0/8')]).has(parseIpOrThrow('10.1.2.3')) // true
   */
  static of(cidrs: readonly Cidr[]): AddressSet {
    return new AddressSet(mergeIntervals(cidrs));
  }

  /** The empty set. */
  static readonly EMPTY: AddressSet = new AddressSet([]);

  /**
   * Whether the address is in the set.
   *
   * @example set.has({ family: 'ipv6', value: 1n })
   */
  has(ip: IpAddress): boolean {
    const firsts = this.firsts[ip.family];
    const lasts = this.lasts[ip.family];
    // Find the last interval starting at or before the address.
    let low = 0;
    let high = firsts.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if ((firsts[mid] as bigint) <= ip.value) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found >= 0 && ip.value <= (lasts[found] as bigint);
  }

  /** Whether the set holds no address of any family. */
  get isEmpty(): boolean {
    return this.firsts.ipv4.length === 0 && this.firsts.ipv6.length === 0;
  }

  /** Whether the set holds any address of the family. */
  hasFamily(family: IpFamily): boolean {
    return this.firsts[family].length > 0;
  }

  /**
   * The minimal CIDRs covering the set, IPv4 first.
   *
   * @example AddressSet.of([parseCidr('10.0.0.0/25'), parseCidr('10.0.0.128/25')]).toCidrs() // [10.0.0.0/24]
   */
  toCidrs(): Cidr[] {
    const cidrs: Cidr[] = [];
    for (const family of ['ipv4', 'ipv6'] as const) {
      const firsts = this.firsts[family];
      const lasts = this.lasts[family];
      for (let i = 0; i < firsts.length; i++) {
        cidrs.push(...rangeToCidrs(family, firsts[i] as bigint, lasts[i] as bigint));
      }
    }
    return cidrs;
  }
}
