/**
 * Small Inventory objects for core tests: factories with sensible defaults for SGs, rule entries,
 * ENIs, flow logs and prefix lists, plus a fluent builder that wires them together.
 *
 * @example
 * const inventory = new InventoryBuilder()
 *   .sg('sg-web', { name: 'web' })
 *   .ingress('sg-web', 'tcp', 443, '0.0.0.0/0')
 *   .eni('eni-1', { sgIds: ['sg-web'] })
 *   .flowLog('fl-1', { resourceId: 'vpc-1' })
 *   .build();
 */
import { DEFAULT_FIELDS, DEFAULT_LOG_FORMAT } from '../shared/flow/format';
import type { TimeWindow } from '../shared/model/flow';
import type {
  Direction,
  FlowLogConfig,
  FlowLogScope,
  Inventory,
  NetworkInterface,
  PrefixList,
  RuleEntry,
  RulePeer,
  SecurityGroup,
  Vpc,
} from '../shared/model/inventory';
import { protocolNumber } from '../shared/net/protocol';
import { peerText } from '../shared/rules/peer';

export const DEFAULT_VPC = 'vpc-1';
export const DEFAULT_SUBNET = 'subnet-1';

/** Epoch seconds of an ISO time. */
export function epoch(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

/** A 7-day window: 2026-11-10T00:00:00Z … 2026-11-17T00:00:00Z. */
export const WINDOW: TimeWindow = {
  start: epoch('2026-11-10T00:00:00Z'),
  end: epoch('2026-11-17T00:00:00Z'),
};

/** Ports of a rule entry: one port, a [from, to] range, or undefined (none: -1 and portless). */
export type PortSpec = number | readonly [number, number] | undefined;

/** A peer as text: a CIDR (IPv6 when it holds ':'), 'sg-…' or 'pl-…'. */
export function peerOf(text: string): RulePeer {
  if (text.startsWith('sg-')) return { kind: 'sg', groupId: text };
  if (text.startsWith('pl-')) return { kind: 'prefix-list', prefixListId: text };
  return { kind: 'cidr', cidr: text, family: text.includes(':') ? 'ipv6' : 'ipv4' };
}

/**
 * A rule entry with the id the AWS JSON mapper gives it.
 *
 * @example ruleEntry('sg-1', 'ingress', 'tcp', [0, 65535], '::/0')
 */
export function ruleEntry(
  sgId: string,
  direction: Direction,
  protocol: string,
  ports: PortSpec,
  peer: string | RulePeer,
  extra: Partial<RuleEntry> = {},
): RuleEntry {
  const rulePeer = typeof peer === 'string' ? peerOf(peer) : peer;
  const range = ports === undefined ? undefined : typeof ports === 'number' ? [ports, ports] : ports;
  const portsText = range === undefined ? 'all' : `${range[0]}-${range[1]}`;
  return {
    id: `${sgId}/${direction}/${protocol}/${portsText}/${peerText(rulePeer)}`,
    sgId,
    direction,
    protocol,
    protocolNumber: protocolNumber(protocol),
    ...(range !== undefined ? { fromPort: range[0], toPort: range[1] } : {}),
    peer: rulePeer,
    ...extra,
  };
}

export function securityGroup(id: string, extra: Partial<SecurityGroup> = {}): SecurityGroup {
  return {
    id,
    name: id,
    description: `${id} description`,
    vpcId: DEFAULT_VPC,
    tags: {},
    rules: [],
    ...extra,
  };
}

/**
 * A security group holding these rule entries, defaults otherwise.
 *
 * @example sgWithRules('sg-web', [ruleEntry('sg-web', 'ingress', 'tcp', 443, '0.0.0.0/0')])
 */
export function sgWithRules(id: string, rules: RuleEntry[]): SecurityGroup {
  return securityGroup(id, { rules });
}

export function networkInterface(id: string, extra: Partial<NetworkInterface> = {}): NetworkInterface {
  return {
    id,
    vpcId: DEFAULT_VPC,
    subnetId: DEFAULT_SUBNET,
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    status: 'in-use',
    privateIpv4: [],
    ipv6: [],
    publicIpv4: [],
    sgIds: [],
    tags: {},
    ...extra,
  };
}

function scopeOf(resourceId: string): FlowLogScope {
  if (resourceId.startsWith('vpc-')) return 'vpc';
  if (resourceId.startsWith('subnet-')) return 'subnet';
  if (resourceId.startsWith('eni-')) return 'eni';
  return 'other';
}

/** A flow log: default format, ALL traffic, active, delivering, created long before {@link WINDOW}. */
export function flowLog(id: string, extra: Partial<FlowLogConfig> = {}): FlowLogConfig {
  const resourceId = extra.resourceId ?? DEFAULT_VPC;
  const fields = extra.fields ?? DEFAULT_FIELDS;
  return {
    id,
    resourceId,
    scope: scopeOf(resourceId),
    trafficType: 'ALL',
    destinationType: 's3',
    destination: 'arn:aws:s3:::flow-logs',
    fields,
    logFormat: extra.fields ? extra.fields.map((f) => `\${${f}}`).join(' ') : DEFAULT_LOG_FORMAT,
    creationTime: '2026-01-01T00:00:00Z',
    status: 'ACTIVE',
    deliverStatus: 'SUCCESS',
    ...extra,
  };
}

export function prefixList(
  id: string,
  cidrs: readonly string[],
  extra: Partial<PrefixList> = {},
): PrefixList {
  return {
    id,
    name: id,
    addressFamily: cidrs.some((c) => c.includes(':')) ? 'ipv6' : 'ipv4',
    maxEntries: Math.max(cidrs.length, 1),
    entries: cidrs.map((cidr) => ({ cidr })),
    ...extra,
  };
}

export function vpc(id = DEFAULT_VPC, extra: Partial<Vpc> = {}): Vpc {
  return { id, cidrs: ['10.0.0.0/16'], ipv6Cidrs: [], isDefault: false, tags: {}, ...extra };
}

/** An inventory from parts; the default VPC is included when no VPC is given. */
export function inventoryOf(parts: Partial<Inventory> = {}): Inventory {
  return {
    vpcs: [vpc()],
    securityGroups: [],
    networkInterfaces: [],
    flowLogs: [],
    networkAcls: [],
    prefixLists: [],
    ...parts,
  };
}

interface SgDraft {
  readonly group: SecurityGroup;
  readonly rules: RuleEntry[];
}

/** Fluent assembly of an Inventory; ENIs get sequential private addresses 10.0.0.10, .11, … */
export class InventoryBuilder {
  private readonly groups = new Map<string, SgDraft>();
  private readonly enis: NetworkInterface[] = [];
  private readonly logs: FlowLogConfig[] = [];
  private readonly lists: PrefixList[] = [];
  private nextHost = 10;

  sg(id: string, extra: Partial<Omit<SecurityGroup, 'rules'>> = {}): this {
    this.groups.set(id, { group: securityGroup(id, extra), rules: [] });
    return this;
  }

  /** Adds a rule entry (creating the SG with defaults if needed). */
  rule(sgId: string, direction: Direction, protocol: string, ports: PortSpec, peer: string | RulePeer): this {
    if (!this.groups.has(sgId)) this.sg(sgId);
    this.groups.get(sgId)?.rules.push(ruleEntry(sgId, direction, protocol, ports, peer));
    return this;
  }

  ingress(sgId: string, protocol: string, ports: PortSpec, peer: string | RulePeer): this {
    return this.rule(sgId, 'ingress', protocol, ports, peer);
  }

  egress(sgId: string, protocol: string, ports: PortSpec, peer: string | RulePeer): this {
    return this.rule(sgId, 'egress', protocol, ports, peer);
  }

  eni(id: string, extra: Partial<NetworkInterface> = {}): this {
    const address = `10.0.${Math.floor(this.nextHost / 250)}.${this.nextHost % 250}`;
    this.nextHost++;
    this.enis.push(networkInterface(id, { privateIpv4: [address], ...extra }));
    return this;
  }

  flowLog(id: string, extra: Partial<FlowLogConfig> = {}): this {
    this.logs.push(flowLog(id, extra));
    return this;
  }

  prefixList(id: string, cidrs: readonly string[]): this {
    this.lists.push(prefixList(id, cidrs));
    return this;
  }

  build(): Inventory {
    return inventoryOf({
      securityGroups: [...this.groups.values()].map(({ group, rules }) => ({ ...group, rules: [...rules] })),
      networkInterfaces: [...this.enis],
      flowLogs: [...this.logs],
      prefixLists: [...this.lists],
    });
  }
}
