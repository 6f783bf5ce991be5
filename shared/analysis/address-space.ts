/**
 * Where an address sits for the traffic views: inside a VPC of the inventory, or outside it in
 * private space (on-premises, peered networks) or on the internet.
 */
import type { Vpc } from '../model/inventory';
import { AddressSet } from '../net/address-set';
import { type IpAddress, isPrivate, tryParseCidr } from '../net/ip';

/**
 * The addresses of VPCs (IPv4 and IPv6 CIDRs), as one set.
 *
 * @example vpcSpace(inventory.vpcs).has(parseIpOrThrow('10.0.1.5')) // true when a VPC holds 10.0.0.0/16
 */
export function vpcSpace(vpcs: readonly Vpc[]): AddressSet {
  return AddressSet.of(
    vpcs.flatMap((vpc) => [...vpc.cidrs, ...vpc.ipv6Cidrs].flatMap((text) => tryParseCidr(text) ?? [])),
  );
}

/**
 * Whether one address lies in private space (RFC 1918, CGNAT, link-local, unique-local …).
 *
 * @example isPrivateIp(parseIpOrThrow('192.168.7.7')) // true
 */
export function isPrivateIp(ip: IpAddress): boolean {
  return isPrivate({ family: ip.family, network: ip.value, prefix: ip.family === 'ipv4' ? 32 : 128 });
}
