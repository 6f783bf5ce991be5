/**
 * The core's `peer-ephemeral` decision as tables a flow engine can join (EphemeralFoldPlan), so
 * an engine settles most undecided rows itself and the core receives one row per connection key
 * instead of one per client port. The tables must decide exactly as foldConnections does, so the
 * plan is withheld (undefined) whenever they could not: an address on two ENIs, overlapping or
 * unusually large (wider than /24) delegated IPv4 prefixes.
 */
import type { AnalysisConfig, PortGroup } from '../config';
import type { EphemeralFoldPlan, PortInterval } from '../model/flow';
import type { Inventory, ResourceType } from '../model/inventory';
import { cidrFirst, cidrLast, formatIp, parseIp, tryParseCidr } from '../net/ip';
import { normalizeRanges } from '../net/ports';

/** Delegated IPv4 prefixes up to this size (/24, 256 addresses) are listed; AWS delegates /28s. */
const MIN_LISTED_PREFIX = 24;

/** The ephemeral ranges foldConnections uses for a resource type (the default when unset). */
export function ephemeralRangesOf(
  type: ResourceType | undefined,
  config: AnalysisConfig,
): readonly PortGroup[] {
  return (
    (type === undefined ? undefined : config.ephemeralRanges[type]) ?? config.ephemeralRanges.default ?? []
  );
}

/** Merged, sorted and disjoint: an engine may join a port to at most one of them. */
const copy = (ranges: readonly PortGroup[]): PortInterval[] => normalizeRanges(ranges);

/**
 * The plan of an inventory, or undefined when its tables could decide differently from the core.
 *
 * @example
 * const plan = ephemeralFoldPlan(inventory, (id) => resources.get(id)?.type, DEFAULT_CONFIG);
 * // { enis: [{ eniId: 'eni-1', ranges: [{ from: 32768, to: 65535 }] }], addresses: [{ addr: '10.0.1.5', eniId: 'eni-1' }], defaultRanges: [...] }
 */
export function ephemeralFoldPlan(
  inventory: Pick<Inventory, 'networkInterfaces'>,
  resourceTypeOfEni: (eniId: string) => ResourceType | undefined,
  config: AnalysisConfig,
): EphemeralFoldPlan | undefined {
  const owners = new Map<string, string>();
  const enis: { eniId: string; ranges: PortInterval[] }[] = [];
  for (const eni of inventory.networkInterfaces) {
    for (const text of eni.privateIpv4) {
      const ip = parseIp(text.replace(/\/32$/, ''));
      if (ip === undefined || ip.family !== 'ipv4') return undefined;
      const addr = formatIp('ipv4', ip.value);
      const owner = owners.get(addr);
      if (owner !== undefined && owner !== eni.id) return undefined;
      owners.set(addr, eni.id);
    }
    enis.push({ eniId: eni.id, ranges: copy(ephemeralRangesOf(resourceTypeOfEni(eni.id), config)) });
  }
  // Delegated prefixes (EKS prefix delegation: /28 each) own their addresses after the exact
  // ones, as RuleIndex.eniByAddress resolves them; listed address by address, within a bound.
  const exact = new Set(owners.keys());
  const delegated = new Set<string>();
  for (const eni of inventory.networkInterfaces) {
    for (const text of eni.ipv4Prefixes ?? []) {
      const cidr = tryParseCidr(text);
      if (cidr === undefined || cidr.family !== 'ipv4' || cidr.prefix < MIN_LISTED_PREFIX) return undefined;
      for (let value = cidrFirst(cidr); value <= cidrLast(cidr); value += 1n) {
        const addr = formatIp('ipv4', value);
        if (delegated.has(addr)) return undefined;
        delegated.add(addr);
        if (!exact.has(addr)) owners.set(addr, eni.id);
      }
    }
  }
  return {
    enis,
    addresses: [...owners].map(([addr, eniId]) => ({ addr, eniId })),
    defaultRanges: copy(ephemeralRangesOf(undefined, config)),
  };
}
