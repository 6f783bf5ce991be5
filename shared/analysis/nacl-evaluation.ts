/**
 * How a network ACL decides a packet: the entries of its direction, lowest rule number first; the
 * first whose protocol, ports and CIDR match decides (no match: the implicit deny). NACLs are
 * stateless, so a reply is decided like any packet, on the client's port.
 */
import type { NaclEntry, NetworkAcl, NetworkInterface } from '../model/inventory';
import { cidrContainsIp, type IpAddress, tryParseCidr } from '../net/ip';
import { ALL_PORTS, intersectRanges, type PortRange, subtractRanges } from '../net/ports';
import { protocolName } from '../net/protocol';

/** The default `*` entry AWS writes as rule number 32767. */
export const DEFAULT_NACL_RULE = 32767;

export interface NaclPacket {
  readonly direction: 'inbound' | 'outbound';
  /** IANA protocol number. */
  readonly protocol: number;
  /**
   * The packet's destination port (inbound and outbound entries both filter on it), or the ports
   * it may have when only a range is known (a reply to an unknown client port); null: no ports.
   */
  readonly ports: PortRange | null;
  /** The other side's address: the source of an inbound packet, the destination of an outbound one. */
  readonly addr: IpAddress;
}

export interface NaclDecision {
  readonly action: 'allow' | 'deny';
  /** The deciding entry: for a deny, the first that refuses any of the packet's ports; absent for the implicit deny. */
  readonly entry?: NaclEntry;
}

function entryAdmitsProtocol(entry: NaclEntry, protocol: number): boolean {
  return entry.protocol === '-1' || Number(entry.protocol) === protocol;
}

/** The ports an entry filters on, or undefined when it matches any port (all protocols, ICMP, portless). */
function entryPorts(entry: NaclEntry, packet: NaclPacket): PortRange | undefined {
  if (packet.ports === null || entry.protocol === '-1') return undefined;
  return entry.portRange ?? ALL_PORTS;
}

/**
 * The NACL's decision on a packet. With a port range, an allow must cover every port of it; the
 * first entry refusing any remaining port decides a deny.
 *
 * @example
 * decideNacl(acl, { direction: 'inbound', protocol: 6, ports: { from: 5432, to: 5432 }, addr: parseIpOrThrow('10.1.10.21') })
 * // { action: 'deny', entry: { ruleNumber: 32767, … } }
 */
export function decideNacl(acl: NetworkAcl, packet: NaclPacket): NaclDecision {
  const egress = packet.direction === 'outbound';
  const entries = acl.entries
    .filter((entry) => entry.egress === egress)
    .sort((a, b) => a.ruleNumber - b.ruleNumber);
  let remaining: PortRange[] | undefined = packet.ports === null ? undefined : [packet.ports];
  for (const entry of entries) {
    if (!entryAdmitsProtocol(entry, packet.protocol)) continue;
    const cidr = tryParseCidr(entry.cidr);
    if (cidr === undefined || !cidrContainsIp(cidr, packet.addr)) continue;
    const ports = entryPorts(entry, packet);
    if (remaining !== undefined && ports !== undefined) {
      if (intersectRanges(remaining, [ports]).length === 0) continue;
      if (entry.action === 'deny') return { action: 'deny', entry };
      remaining = subtractRanges(remaining, [ports]);
      if (remaining.length === 0) return { action: 'allow', entry };
      continue;
    }
    return { action: entry.action, entry };
  }
  return { action: 'deny' };
}

/**
 * The NACL guarding an ENI's subnet: the one associated with it, else its VPC's default NACL.
 *
 * @example naclOfSubnet(inventory.networkAcls, eni)?.id // 'acl-0data'
 */
export function naclOfSubnet(
  acls: readonly NetworkAcl[],
  eni: Pick<NetworkInterface, 'subnetId' | 'vpcId'>,
): NetworkAcl | undefined {
  return (
    acls.find((acl) => acl.subnetIds.includes(eni.subnetId)) ??
    acls.find((acl) => acl.isDefault && acl.vpcId === eni.vpcId)
  );
}

/**
 * An entry as text: `rule 32767 (*): deny all traffic from 0.0.0.0/0`.
 *
 * @example naclEntryText({ ruleNumber: 100, egress: false, protocol: '6', action: 'allow', cidr: '10.0.10.0/23', portRange: { from: 5432, to: 5432 } })
 * // 'rule 100: allow tcp 5432 from 10.0.10.0/23'
 */
export function naclEntryText(entry: NaclEntry): string {
  const number = entry.ruleNumber >= DEFAULT_NACL_RULE ? `${entry.ruleNumber} (*)` : String(entry.ruleNumber);
  const protocol = entry.protocol === '-1' ? 'all traffic' : protocolName(Number(entry.protocol));
  const ports =
    entry.protocol === '-1' || entry.portRange === undefined
      ? ''
      : entry.portRange.from === entry.portRange.to
        ? ` ${entry.portRange.from}`
        : ` ${entry.portRange.from}-${entry.portRange.to}`;
  return `rule ${number}: ${entry.action} ${protocol}${ports} ${entry.egress ? 'to' : 'from'} ${entry.cidr}`;
}
