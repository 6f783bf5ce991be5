/**
 * Public services: a world-open service port that many unrelated public networks use is the
 * service's purpose, on any resource type. It stays world-open ("keep: public service") and is
 * never narrowed to the peers of one week, whose successors next week would be cut off. Narrowing
 * applies where the peers are few, private, or the port is one that should never face the world.
 */
import type { AnalysisConfig } from '../config';
import type { RuleEntry } from '../model/inventory';
import { type IpAddress, isPrivate } from '../net/ip';
import { protocolHasPorts, protocolName } from '../net/protocol';

/** Networks counted as unrelated: one IPv4 /16 or one IPv6 /32 (an operator's allocation). */
const NETWORK_SHIFT = { ipv4: 16n, ipv6: 96n } as const;

/**
 * How many distinct public networks the addresses come from (private, CGNAT and link-local ones
 * do not count).
 *
 * @example publicNetworks(['203.0.113.9', '198.51.100.7', '10.0.0.1'].map(parseIpOrThrow)) // 2
 */
export function publicNetworks(ips: Iterable<IpAddress>): number {
  const networks = new Set<string>();
  for (const ip of ips) {
    const bits = ip.family === 'ipv4' ? 32 : 128;
    if (isPrivate({ family: ip.family, network: ip.value, prefix: bits })) continue;
    networks.add(`${ip.family}/${ip.value >> NETWORK_SHIFT[ip.family]}`);
  }
  return networks.size;
}

/**
 * Whether a rule is a world-open service port that may be a public service: ingress from
 * 0.0.0.0/0 or ::/0, tcp or udp, one port, and not a port that should never face the world
 * (config.sensitivePorts: SSH, RDP, databases …).
 *
 * @example isWorldOpenServicePort(ruleEntry('sg-1', 'ingress', 'tcp', 443, '0.0.0.0/0'), DEFAULT_CONFIG) // true
 */
export function isWorldOpenServicePort(
  rule: RuleEntry,
  config: Pick<AnalysisConfig, 'sensitivePorts'>,
): boolean {
  if (rule.direction !== 'ingress' || rule.peer.kind !== 'cidr') return false;
  if (rule.peer.cidr !== '0.0.0.0/0' && rule.peer.cidr !== '::/0') return false;
  if (rule.protocolNumber === 'all' || !protocolHasPorts(rule.protocolNumber)) return false;
  if (rule.fromPort === undefined || rule.fromPort !== rule.toPort) return false;
  return !config.sensitivePorts.includes(rule.fromPort);
}

/**
 * Why a rule is kept as a public service: by design (load balancers, API Gateway, endpoints on
 * 80/443), or by the unrelated public networks its port serves.
 *
 * @example publicServiceReason(rule, { networks: 12 }) // 'world-open tcp 443 serving 12 unrelated public networks'
 */
export function publicServiceReason(
  rule: RuleEntry,
  basis: { readonly networks: number } | 'by-design',
): string {
  const what = `world-open ${protocolName(rule.protocolNumber)} ${rule.fromPort}`;
  return basis === 'by-design'
    ? `${what} on load balancers, API Gateway or endpoints`
    : `${what} serving ${basis.networks} unrelated public networks`;
}
