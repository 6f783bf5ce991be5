import fc from 'fast-check';
import type { FlowAggregate } from '../../../shared/model/flow';
import type { Inventory, RuleEntry } from '../../../shared/model/inventory';
import type { RemediationPlan } from '../../../shared/remediation/model';
import { buildPlan } from '../../../shared/remediation/plan';
import { admits, type GroupMembers, type Probe } from '../../../shared/remediation/rule-space';
import { type RuleSpec, specKey, specOfRuleEntry } from '../../../shared/remediation/rule-spec';
import { applySteps, restoreSteps } from '../../../shared/remediation/simulate';
import { auditOnData, connectionRow } from '../../../testkit/audit-on-data';
import {
  flowLog,
  inventoryOf,
  networkInterface,
  ruleEntry,
  securityGroup,
} from '../../../testkit/inventory-builder';

/** ENIs of the generated account: two SGs, one ENI carrying both. */
const ENIS = [
  { id: 'eni-a1', ip: '10.0.1.10', sgIds: ['sg-a'] },
  { id: 'eni-a2', ip: '10.0.1.11', sgIds: ['sg-a'] },
  { id: 'eni-b1', ip: '10.0.2.20', sgIds: ['sg-b'] },
  { id: 'eni-b2', ip: '10.0.2.21', sgIds: ['sg-b'] },
  { id: 'eni-ab', ip: '10.0.3.30', sgIds: ['sg-a', 'sg-b'] },
];
const MEMBERS: GroupMembers = new Map(
  ['sg-a', 'sg-b'].map((sgId) => [sgId, ENIS.filter((e) => e.sgIds.includes(sgId)).map((e) => e.ip)]),
);
const PEERS = [
  '0.0.0.0/0',
  '10.0.0.0/8',
  '10.0.2.0/24',
  '203.0.113.0/24',
  '198.51.100.7/32',
  'sg-a',
  'sg-b',
  '::/0',
];
const PORT_RANGES: readonly (readonly [number, number])[] = [
  [22, 22],
  [80, 80],
  [443, 443],
  [8000, 8100],
  [1024, 65535],
  [0, 65535],
];
const ADDRESSES = [
  '10.0.1.10',
  '10.0.2.20',
  '10.0.2.21',
  '10.0.3.30',
  '10.7.0.1',
  '203.0.113.5',
  '203.0.113.6',
  '203.0.113.7',
  '198.51.100.7',
  '8.8.8.8',
  '2001:db8::5',
];
const PORTS = [22, 53, 80, 443, 3000, 8001, 8050, 50000];

const ruleArb = fc.record({
  direction: fc.constantFrom('ingress' as const, 'egress' as const),
  protocol: fc.constantFrom('tcp', 'udp', '-1', 'icmp'),
  ports: fc.constantFrom(...PORT_RANGES),
  peer: fc.constantFrom(...PEERS),
});

const connectionArb = fc.record({
  eni: fc.constantFrom(...ENIS),
  inbound: fc.boolean(),
  protocol: fc.constantFrom(6, 17),
  port: fc.constantFrom(...PORTS),
  peer: fc.constantFrom(...ADDRESSES),
  connections: fc.integer({ min: 1, max: 20 }),
});

type RuleDraft = typeof ruleArb extends fc.Arbitrary<infer T> ? T : never;
type ConnectionDraft = typeof connectionArb extends fc.Arbitrary<infer T> ? T : never;

function entriesOf(sgId: string, drafts: readonly RuleDraft[]): RuleEntry[] {
  const entries = new Map<string, RuleEntry>();
  for (const d of drafts) {
    const ports =
      d.protocol === 'tcp' || d.protocol === 'udp'
        ? d.ports
        : d.protocol === 'icmp'
          ? ([-1, -1] as const)
          : undefined;
    const entry = ruleEntry(sgId, d.direction, d.protocol, ports, d.peer, {
      description: `rule ${entries.size}`,
    });
    entries.set(entry.id, entry);
  }
  return [...entries.values()];
}

function accountOf(a: readonly RuleDraft[], b: readonly RuleDraft[]): Inventory {
  return inventoryOf({
    securityGroups: [
      securityGroup('sg-a', { rules: entriesOf('sg-a', a) }),
      securityGroup('sg-b', { rules: entriesOf('sg-b', b) }),
    ],
    networkInterfaces: ENIS.map((e) => networkInterface(e.id, { privateIpv4: [e.ip], sgIds: e.sgIds })),
    flowLogs: [flowLog('fl-1', { creationTime: '2020-01-01T00:00:00Z' })],
  });
}

function probeOf(c: ConnectionDraft): Probe {
  return {
    direction: c.inbound ? 'ingress' : 'egress',
    protocol: c.protocol,
    port: c.port,
    peerAddr: c.peer,
  };
}

/** Rules of the SGs on the ENI, by SG. */
function rulesOnEni(
  eniSgIds: readonly string[],
  rulesBySg: ReadonlyMap<string, readonly RuleSpec[]>,
): RuleSpec[] {
  return eniSgIds.flatMap((sgId) => rulesBySg.get(sgId) ?? []);
}

/** The accepted connections: those some rule of the ENI's SGs admits (the SGs dropped the rest). */
function acceptedRows(
  connections: readonly ConnectionDraft[],
  before: ReadonlyMap<string, readonly RuleSpec[]>,
): { rows: FlowAggregate[]; accepted: ConnectionDraft[] } {
  const accepted = connections.filter(
    (c) =>
      c.peer !== c.eni.ip &&
      rulesOnEni(c.eni.sgIds, before).some((rule) => admits(rule, probeOf(c), MEMBERS)),
  );
  const rows = accepted.map((c) =>
    c.inbound
      ? connectionRow(c.eni.id, c.peer, c.eni.ip, c.protocol, c.port, c.connections)
      : connectionRow(c.eni.id, c.eni.ip, c.peer, c.protocol, c.port, c.connections),
  );
  return { rows, accepted };
}

function afterPlan(
  plan: RemediationPlan,
  before: ReadonlyMap<string, readonly RuleSpec[]>,
): Map<string, RuleSpec[]> {
  const after = new Map<string, RuleSpec[]>([...before].map(([id, rules]) => [id, [...rules]]));
  for (const sg of plan.securityGroups) {
    if (sg.action === 'apply') after.set(sg.sgId, applySteps(sg.expected.rules, sg.steps));
  }
  return after;
}

/** Probes on every port and address that matter to the generated rules and traffic. */
const PROBES: Probe[] = (['ingress', 'egress'] as const).flatMap((direction) =>
  [6, 17, 1].flatMap((protocol) =>
    [
      0, 21, 22, 23, 53, 79, 80, 81, 443, 1023, 1024, 3000, 7999, 8000, 8001, 8050, 8100, 8101, 50000, 65535,
    ].flatMap((port) =>
      [
        ...ADDRESSES,
        '0.0.0.0',
        '9.255.255.255',
        '10.0.0.0',
        '10.0.1.11',
        '10.0.2.19',
        '10.0.2.22',
        '10.255.255.255',
        '203.0.112.255',
        '203.0.113.0',
        '203.0.113.255',
        '198.51.100.6',
        '198.51.100.8',
        '255.255.255.255',
      ].map((peerAddr) => ({ direction, protocol, port: protocol === 1 ? 8 : port, peerAddr })),
    ),
  ),
);

const scenario = fc.record({
  a: fc.array(ruleArb, { minLength: 1, maxLength: 6 }),
  b: fc.array(ruleArb, { minLength: 1, maxLength: 6 }),
  connections: fc.array(connectionArb, { minLength: 0, maxLength: 25 }),
});

async function planScenario(s: { a: RuleDraft[]; b: RuleDraft[]; connections: ConnectionDraft[] }) {
  const inventory = accountOf(s.a, s.b);
  const before = new Map(inventory.securityGroups.map((sg) => [sg.id, sg.rules.map(specOfRuleEntry)]));
  const { rows, accepted } = acceptedRows(s.connections, before);
  const report = await auditOnData(inventory, rows);
  const plan = buildPlan(report, { createdAt: new Date(0), toolVersion: 'test' });
  return { before, accepted, plan, after: afterPlan(plan, before) };
}

describe('change plans (properties)', () => {
  it('never remove access that an observed connection used', async () => {
    let revoked = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        // Act
        const { accepted, after, plan } = await planScenario(s);
        revoked += plan.summary.revokes;
        // Assess
        for (const c of accepted) {
          const still = rulesOnEni(c.eni.sgIds, after).some((rule) => admits(rule, probeOf(c), MEMBERS));
          if (!still) throw new Error(`lost ${JSON.stringify(c)}`);
        }
      }),
      { numRuns: 150 },
    );
    // The generated accounts exercise real plans, not only refusals.
    expect(revoked).toBeGreaterThan(100);
  });

  it('never admit what the original rules did not', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        // Act
        const { before, after, plan } = await planScenario(s);
        // Assess
        for (const sg of plan.securityGroups) {
          const was = before.get(sg.sgId) ?? [];
          const now = after.get(sg.sgId) ?? [];
          for (const probe of PROBES) {
            if (now.some((r) => admits(r, probe, MEMBERS)) && !was.some((r) => admits(r, probe, MEMBERS))) {
              throw new Error(`${sg.sgId} now admits ${JSON.stringify(probe)}`);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('roll back to exactly the rules and descriptions before', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        // Act
        const { plan } = await planScenario(s);
        // Assess
        for (const sg of plan.securityGroups.filter((p) => p.action === 'apply')) {
          const applied = applySteps(sg.expected.rules, sg.steps);
          const back = restoreSteps(applied, sg.expected.rules, { limit: 60, members: MEMBERS });
          expect(back.blocked).toBeUndefined();
          const restored = applySteps(applied, back.steps);
          const exact = (rules: readonly RuleSpec[]) =>
            rules.map((r) => `${specKey(r)} ${r.description ?? ''}`).sort();
          expect(exact(restored)).toEqual(exact(sg.expected.rules));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keep every step within the quota and every revoke after its replacements', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        // Act
        const { plan } = await planScenario(s);
        // Assess
        for (const sg of plan.securityGroups) {
          for (const line of sg.quota)
            expect(Math.max(...line.afterStep, 0)).toBeLessThanOrEqual(Math.max(line.limit, line.before));
          sg.steps.forEach((step, index) => {
            if (step.action !== 'revoke') return;
            const revoke = sg.revoke.find((r) => r.ruleId === step.ruleId);
            const present = new Set(applySteps(sg.expected.rules, sg.steps.slice(0, index)).map(specKey));
            for (const key of revoke?.replacedBy ?? []) expect(present.has(key)).toBe(true);
          });
        }
      }),
      { numRuns: 100 },
    );
  });
});
