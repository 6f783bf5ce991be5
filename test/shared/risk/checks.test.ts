import fc from 'fast-check';
import { type AnalysisConfig, DEFAULT_CONFIG } from '../../../shared/config';
import type { Finding, RuleUsage, Severity } from '../../../shared/model/analysis';
import { SEVERITIES } from '../../../shared/model/analysis';
import type { Direction, Inventory } from '../../../shared/model/inventory';
import { classifyAll } from '../../../shared/resources/classify';
import { runRiskChecks } from '../../../shared/risk/checks';
import { RuleIndex } from '../../../shared/rules/rule-index';
import { InventoryBuilder, type PortSpec, ruleEntry } from '../../../testkit/inventory-builder';

const ALB = { description: 'ELB app/web/50dc6c495c0c9188', requesterId: 'amazon-elb' } as const;
const INSTANCE = { attachment: { instanceId: 'i-0web' } } as const;

function check(
  inventory: Inventory,
  usage?: ReadonlyMap<string, RuleUsage>,
  config: AnalysisConfig = DEFAULT_CONFIG,
) {
  return runRiskChecks(inventory, {
    resources: classifyAll(inventory),
    ruleIndex: RuleIndex.build(inventory),
    config,
    ...(usage ? { usage } : {}),
  });
}

/** Findings of a single rule on sg-1 (carried by one EC2 ENI), as [check, severity] pairs. */
function gradeRule(
  direction: Direction,
  protocol: string,
  ports: PortSpec,
  peer: string,
): [string, Severity][] {
  const inventory = new InventoryBuilder()
    .rule('sg-1', direction, protocol, ports, peer)
    .eni('eni-1', { sgIds: ['sg-1'], ...INSTANCE })
    .build();
  return check(inventory).map((f) => [f.check, f.severity]);
}

function only(findings: Finding[], checkId: string): Finding {
  const matching = findings.filter((f) => f.check === checkId);
  expect(matching).toHaveLength(1);
  return matching[0] as Finding;
}

function usage(ruleId: string, extra: Partial<RuleUsage>): RuleUsage {
  return {
    ruleId,
    sgId: 'sg-1',
    status: 'used',
    statusReason: '',
    verdict: 'keep',
    verdictReason: '',
    connections: 0,
    records: 0,
    packets: 0,
    bytes: 0,
    distinctPeers: 0,
    coverage: 'full',
    topPeers: [],
    ports: [],
    ...extra,
  };
}

describe('runRiskChecks', () => {
  describe('all-traffic-open', () => {
    it.each<[string, Severity]>([
      ['0.0.0.0/0', 'critical'],
      ['::/0', 'critical'],
      ['52.0.0.0/8', 'high'],
      ['203.0.113.0/24', 'medium'],
      ['10.0.0.0/8', 'low'],
      ['sg-2', 'low'],
    ])('grades ingress -1 from %s as %s', (peer, severity) => {
      // Prepare / Act
      const grades = gradeRule('ingress', '-1', undefined, peer);

      // Assess
      expect(grades).toEqual([['all-traffic-open', severity]]);
    });

    it('ties a world-open -1 rule to the sensitive-port controls', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-1', '-1', undefined, '0.0.0.0/0').build();

      // Act
      const finding = only(check(inventory), 'all-traffic-open');

      // Assess
      expect(finding.controls).toEqual(expect.arrayContaining(['EC2.19', 'EC2.13', 'EC2.14']));
      expect(finding.reason).toBe(
        'all traffic (every protocol and port) open to the world (0.0.0.0/0), including every sensitive port',
      );
    });
  });

  describe('egress-all-open', () => {
    it.each(['0.0.0.0/0', '::/0'])('reports egress -1 to %s as info, not critical', (peer) => {
      // Prepare / Act
      const grades = gradeRule('egress', '-1', undefined, peer);

      // Assess
      expect(grades).toEqual([['egress-all-open', 'info']]);
    });

    it('says nothing of egress -1 to a private CIDR', () => {
      // Prepare / Act
      const grades = gradeRule('egress', '-1', undefined, '10.0.0.0/8');

      // Assess
      expect(grades).toEqual([]);
    });
  });

  describe('all-ports-open', () => {
    it.each<[string, PortSpec, string, Severity]>([
      ['tcp', [0, 65535], '0.0.0.0/0', 'critical'],
      ['udp', [1, 65535], '::/0', 'critical'],
      ['tcp', [1, 65535], '52.0.0.0/8', 'high'],
      ['tcp', [0, 65535], '2600::/16', 'high'],
      ['tcp', [0, 65535], '203.0.113.0/24', 'medium'],
      ['tcp', [0, 65535], '10.0.0.0/8', 'low'],
      ['udp', [0, 65535], 'sg-2', 'low'],
      ['tcp', [0, 65535], 'pl-private', 'low'],
    ])(
      'grades ingress %s %j from %s as %s, superseding port-range and sensitive checks',
      (protocol, ports, peer, severity) => {
        // Prepare / Act
        const grades = gradeRule('ingress', protocol, ports, peer);

        // Assess
        expect(grades).toEqual([['all-ports-open', severity]]);
      },
    );

    it('names the sensitive ports an all-ports world rule opens', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-1', 'tcp', [0, 65535], '0.0.0.0/0').build();

      // Act
      const finding = only(check(inventory), 'all-ports-open');

      // Assess
      expect(finding.reason).toContain('every port');
      expect(finding.reason).toContain(
        `including ${DEFAULT_CONFIG.sensitivePorts.length} sensitive ports (20, 21 (FTP), 22 (SSH)`,
      );
      expect(finding.controls).toEqual(['EC2.13', 'EC2.14', 'EC2.18', 'EC2.19']);
    });
  });

  describe('portless-protocol-open', () => {
    it.each<[string, string, [string, Severity][]]>([
      ['50', '0.0.0.0/0', [['portless-protocol-open', 'high']]],
      ['47', '::/0', [['portless-protocol-open', 'high']]],
      ['50', '52.0.0.0/8', [['wide-public-cidr', 'medium']]],
      ['50', '203.0.113.0/24', []],
    ])('grades ingress protocol %s from %s', (protocol, peer, expected) => {
      // Prepare / Act
      const grades = gradeRule('ingress', protocol, undefined, peer);

      // Assess
      expect(grades).toEqual(expected);
    });

    it('explains that a portless protocol admits all of its traffic', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-1', '50', undefined, '0.0.0.0/0').build();

      // Act
      const finding = only(check(inventory), 'portless-protocol-open');

      // Assess
      expect(finding.reason).toBe('protocol 50 (no ports: all of its traffic) open to the world (0.0.0.0/0)');
      expect(finding.fromPort).toBeUndefined();
    });
  });

  describe('world-port-range', () => {
    it('grades a non-sensitive range open to the world as high', () => {
      // Prepare / Act
      const grades = gradeRule('ingress', 'tcp', [8000, 8010], '0.0.0.0/0');

      // Assess
      expect(grades).toEqual([['world-port-range', 'high']]);
    });

    it('reports a range holding sensitive ports under both checks', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .ingress('sg-1', 'tcp', [20, 23], '::/0')
        .eni('eni-1', { sgIds: ['sg-1'] })
        .build();

      // Act
      const findings = check(inventory);

      // Assess
      expect(findings.map((f) => [f.check, f.severity])).toEqual([
        ['sensitive-port-world', 'critical'],
        ['world-port-range', 'high'],
      ]);
      expect(only(findings, 'world-port-range').reason).toBe(
        'tcp ports 20-23 (4 ports) open to the world (::/0)',
      );
      expect(only(findings, 'sensitive-port-world').reason).toBe(
        'tcp ports 20-23 open to the world (::/0), including sensitive ports 20, 21 (FTP), 22 (SSH), 23 (Telnet)',
      );
      expect(only(findings, 'sensitive-port-world').controls).toEqual(['EC2.13', 'EC2.18', 'EC2.19']);
    });
  });

  describe('sensitive-port-world', () => {
    it('grades SSH from the world critical with EC2.19 and EC2.13', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-1', 'tcp', 22, '0.0.0.0/0').build();

      // Act
      const finding = only(check(inventory), 'sensitive-port-world');

      // Assess
      expect(finding).toMatchObject({
        id: 'sensitive-port-world:sg-1/ingress/tcp/22-22/0.0.0.0/0',
        severity: 'critical',
        reason: 'sensitive tcp port 22 (SSH) open to the world (0.0.0.0/0)',
      });
      expect(finding.controls).toEqual(['EC2.13', 'EC2.18', 'EC2.19']);
    });

    it('grades RDP from ::/0 critical with EC2.14', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-1', 'tcp', 3389, '::/0').build();

      // Act
      const finding = only(check(inventory), 'sensitive-port-world');

      // Assess
      expect(finding.severity).toBe('critical');
      expect(finding.controls).toEqual(['EC2.14', 'EC2.18', 'EC2.19']);
    });

    it('knows the Prowler ports too (Redis 6379)', () => {
      // Prepare / Act
      const grades = gradeRule('ingress', 'tcp', 6379, '0.0.0.0/0');

      // Assess
      expect(grades).toEqual([['sensitive-port-world', 'critical']]);
    });

    it('follows the configured sensitive ports', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .ingress('sg-1', 'tcp', 7000, '0.0.0.0/0')
        .eni('eni-1', { sgIds: ['sg-1'] })
        .build();
      const config = { ...DEFAULT_CONFIG, sensitivePorts: [7000] };

      // Act
      const findings = check(inventory, undefined, config);

      // Assess
      expect(findings.map((f) => [f.check, f.severity])).toEqual([['sensitive-port-world', 'critical']]);
    });

    it('treats a prefix list holding 0.0.0.0/0 as the world', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .prefixList('pl-open', ['10.0.0.0/8', '0.0.0.0/0'])
        .ingress('sg-1', 'tcp', 22, 'pl-open')
        .build();

      // Act
      const finding = only(check(inventory), 'sensitive-port-world');

      // Assess
      expect(finding.peer).toBe('pl-open');
      expect(finding.reason).toContain('prefix list pl-open, which holds the world (0.0.0.0/0)');
    });
  });

  describe('sensitive-port-wide-public', () => {
    it.each<[string, [string, Severity][]]>([
      ['52.0.0.0/8', [['sensitive-port-wide-public', 'high']]],
      ['0.0.0.0/1', [['sensitive-port-wide-public', 'high']]],
      ['2600:1f00::/32', [['sensitive-port-wide-public', 'high']]],
      ['52.95.0.0/24', []],
      ['2600:1f00::/48', []],
      ['10.0.0.0/8', []],
      ['fd00::/8', []],
    ])('grades SSH from %s', (peer, expected) => {
      // Prepare / Act
      const grades = gradeRule('ingress', 'tcp', 22, peer);

      // Assess
      expect(grades).toEqual(expected);
    });

    it('says how wide the CIDR is against the threshold', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-1', 'tcp', 3306, '52.0.0.0/8').build();

      // Act
      const finding = only(check(inventory), 'sensitive-port-wide-public');

      // Assess
      expect(finding.reason).toBe(
        'sensitive tcp port 3306 (MySQL) open to the very wide public CIDR 52.0.0.0/8 (a /8, wider than /24)',
      );
    });
  });

  describe('wide-public-cidr', () => {
    it('grades a non-sensitive port to a wide public CIDR as medium', () => {
      // Prepare / Act
      const grades = gradeRule('ingress', 'tcp', 8443, '52.0.0.0/8');

      // Assess
      expect(grades).toEqual([['wide-public-cidr', 'medium']]);
    });

    it('ignores a narrow public CIDR', () => {
      // Prepare / Act
      const grades = gradeRule('ingress', 'tcp', 8443, '198.51.100.0/24');

      // Assess
      expect(grades).toEqual([]);
    });

    it('is info for one non-web port when every ENI is a load balancer, as world-open-port', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .ingress('sg-nlb', 'tcp', 8443, '52.0.0.0/8')
        .ingress('sg-nlb', 'tcp', [30000, 31000], '52.0.0.0/8')
        .eni('eni-a', { sgIds: ['sg-nlb'], ...ALB })
        .build();

      // Act
      const findings = check(inventory);

      // Assess
      expect(findings.map((f) => [f.check, f.severity, f.fromPort])).toEqual([
        ['wide-public-cidr', 'medium', 30000],
        ['wide-public-cidr', 'info', 8443],
      ]);
    });
  });

  describe('world-open-port', () => {
    it.each<[string, number, string]>([
      ['tcp', 8443, '0.0.0.0/0'],
      ['udp', 3478, '0.0.0.0/0'],
      ['tcp', 8443, '::/0'],
      ['udp', 500, '::/0'],
    ])('grades a single non-sensitive %s port %d from %s as medium', (protocol, port, peer) => {
      // Prepare / Act
      const grades = gradeRule('ingress', protocol, port, peer);

      // Assess
      expect(grades).toEqual([['world-open-port', 'medium']]);
    });

    it('names the port and ties it to EC2.18', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .ingress('sg-1', 'udp', 3478, '::/0')
        .eni('eni-1', { sgIds: ['sg-1'], ...INSTANCE })
        .build();

      // Act
      const finding = only(check(inventory), 'world-open-port');

      // Assess
      expect(finding.id).toBe('world-open-port:sg-1/ingress/udp/3478-3478/::/0');
      expect(finding.controls).toEqual(['EC2.18']);
      expect(finding.reason).toBe(
        'udp port 3478 open to the world (::/0): a non-web port reachable from any address',
      );
    });

    it('is info ("expected") when every ENI of the SG is a load balancer, API Gateway or endpoint', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .ingress('sg-nlb', 'tcp', 8443, '0.0.0.0/0')
        .ingress('sg-nlb', 'udp', 3478, '::/0')
        .eni('eni-a', { sgIds: ['sg-nlb'], ...ALB })
        .eni('eni-b', { sgIds: ['sg-nlb'], interfaceType: 'api_gateway_managed' })
        .eni('eni-c', { sgIds: ['sg-nlb'], interfaceType: 'vpc_endpoint' })
        .build();

      // Act
      const findings = check(inventory);

      // Assess
      expect(findings.map((f) => [f.check, f.severity, f.fromPort])).toEqual([
        ['world-open-port', 'info', 8443],
        ['world-open-port', 'info', 3478],
      ]);
      expect(findings[0]?.reason).toContain(': expected for a load balancer');
      expect(findings[0]?.controls).toEqual(['EC2.18']);
    });

    it('stays medium when an EC2 instance shares the SG with a load balancer', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .ingress('sg-1', 'tcp', 8443, '0.0.0.0/0')
        .eni('eni-a', { sgIds: ['sg-1'], ...INSTANCE })
        .eni('eni-b', { sgIds: ['sg-1'], ...ALB })
        .build();

      // Act
      const finding = only(check(inventory), 'world-open-port');

      // Assess
      expect(finding.severity).toBe('medium');
      expect(finding.resources).toEqual({ ec2: 1, elb: 1 });
    });

    it('stays medium on an SG without ENIs, saying why it cannot tell', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-x', 'tcp', 8443, '0.0.0.0/0').build();

      // Act
      const finding = only(check(inventory), 'world-open-port');

      // Assess
      expect(finding.severity).toBe('medium');
      expect(finding.reason).toContain('without ENIs');
    });

    it('leaves sensitive ports, web ports, ranges and egress to their own checks', () => {
      // Prepare / Act
      const grades = [
        ...gradeRule('ingress', 'tcp', 22, '0.0.0.0/0'),
        ...gradeRule('ingress', 'tcp', 443, '0.0.0.0/0'),
        ...gradeRule('ingress', 'tcp', [30000, 31000], '0.0.0.0/0'),
        ...gradeRule('egress', 'tcp', 8443, '0.0.0.0/0'),
      ];

      // Assess
      expect(grades).toEqual([
        ['sensitive-port-world', 'critical'],
        ['world-open-web', 'low'],
        ['world-port-range', 'high'],
      ]);
    });

    it('treats a prefix list holding ::/0 as the world', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .prefixList('pl-any', ['::/0'])
        .ingress('sg-1', 'tcp', 8443, 'pl-any')
        .eni('eni-1', { sgIds: ['sg-1'], ...INSTANCE })
        .build();

      // Act
      const finding = only(check(inventory), 'world-open-port');

      // Assess
      expect(finding.severity).toBe('medium');
      expect(finding.reason).toContain('prefix list pl-any, which holds the world (::/0)');
    });
  });

  describe('world-open-icmp', () => {
    it.each<[string, PortSpec, string, Severity]>([
      ['icmp', [-1, -1], '0.0.0.0/0', 'medium'],
      ['icmpv6', [-1, -1], '::/0', 'medium'],
      ['icmp', undefined, '0.0.0.0/0', 'medium'],
      ['icmp', [8, -1], '0.0.0.0/0', 'low'],
      ['icmp', [8, 0], '0.0.0.0/0', 'low'],
      ['icmpv6', [128, -1], '::/0', 'low'],
      ['icmp', [13, -1], '0.0.0.0/0', 'low'],
      ['icmpv6', [138, -1], '::/0', 'low'],
      ['icmp', [3, 4], '0.0.0.0/0', 'info'],
      ['icmp', [3, -1], '0.0.0.0/0', 'info'],
      ['icmp', [11, 0], '0.0.0.0/0', 'info'],
      ['icmpv6', [2, 0], '::/0', 'info'],
      ['icmpv6', [2, -1], '::/0', 'info'],
      ['icmpv6', [1, -1], '::/0', 'info'],
      ['icmpv6', [4, 1], '::/0', 'info'],
      ['icmpv6', [133, -1], '::/0', 'info'],
      ['icmpv6', [135, 0], '::/0', 'info'],
      ['icmpv6', [137, -1], '::/0', 'info'],
    ])('grades ingress %s %j from %s as %s', (protocol, ports, peer, severity) => {
      // Prepare / Act
      const grades = gradeRule('ingress', protocol, ports, peer);

      // Assess
      expect(grades).toEqual([['world-open-icmp', severity]]);
    });

    it('grades all ICMP types from the world medium without a TCP/UDP control', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-1', 'icmp', [-1, -1], '0.0.0.0/0').build();

      // Act
      const finding = only(check(inventory), 'world-open-icmp');

      // Assess
      expect(finding.id).toBe('world-open-icmp:sg-1/ingress/icmp/-1--1/0.0.0.0/0');
      expect(finding.controls).toEqual([]);
      expect(finding.reason).toContain('every icmp type open to the world (0.0.0.0/0)');
    });

    it('names echo request and says what it exposes', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-1', 'icmpv6', [128, -1], '::/0').build();

      // Act
      const finding = only(check(inventory), 'world-open-icmp');

      // Assess
      expect(finding.reason).toBe(
        'icmpv6 type 128 (echo request) open to the world (::/0): anyone can tell the host is alive (ping sweeps) and ping-flood it; no service is reached',
      );
    });

    it('calls packet too big and neighbour discovery expected', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .ingress('sg-1', 'icmpv6', [2, 0], '::/0')
        .ingress('sg-1', 'icmpv6', [136, -1], '::/0')
        .build();

      // Act
      const reasons = check(inventory)
        .filter((f) => f.check === 'world-open-icmp')
        .map((f) => f.reason);

      // Assess
      expect(reasons).toEqual([
        'icmpv6 type 136 (neighbour advertisement) open to the world (::/0): expected, IPv6 neighbour discovery, link-local by design (hop limit 255)',
        'icmpv6 type 2 (packet too big) code 0 open to the world (::/0): expected, IPv6 path MTU discovery needs it (routers never fragment IPv6)',
      ]);
    });

    it('says nothing of ICMP from narrower peers or of egress ICMP', () => {
      // Prepare / Act
      const grades = [
        ...gradeRule('ingress', 'icmp', [-1, -1], '52.0.0.0/8'),
        ...gradeRule('ingress', 'icmp', [-1, -1], '198.51.100.0/24'),
        ...gradeRule('ingress', 'icmp', [-1, -1], '10.0.0.0/8'),
        ...gradeRule('ingress', 'icmpv6', [-1, -1], 'sg-2'),
        ...gradeRule('egress', 'icmp', [-1, -1], '0.0.0.0/0'),
        ...gradeRule('egress', 'icmpv6', [-1, -1], '::/0'),
      ];

      // Assess
      expect(grades).toEqual([]);
    });
  });

  describe('world-open-web', () => {
    it('is info ("expected") when every ENI of the SG is a load balancer', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .ingress('sg-alb', 'tcp', 443, '0.0.0.0/0')
        .ingress('sg-alb', 'tcp', 80, '::/0')
        .eni('eni-a', { sgIds: ['sg-alb'], ...ALB })
        .eni('eni-b', { sgIds: ['sg-alb'], ...ALB })
        .build();

      // Act
      const findings = check(inventory);

      // Assess
      expect(findings.map((f) => [f.check, f.severity, f.fromPort])).toEqual([
        ['world-open-web', 'info', 443],
        ['world-open-web', 'info', 80],
      ]);
      expect(findings[0]?.reason).toContain('expected');
      expect(findings[0]?.resources).toEqual({ elb: 2 });
      expect(findings[0]?.controls).toEqual(['EC2.18']);
    });

    it('is low when an EC2 instance takes 443 from the world', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .ingress('sg-web', 'tcp', 443, '0.0.0.0/0')
        .eni('eni-a', { sgIds: ['sg-web'], ...INSTANCE })
        .eni('eni-b', { sgIds: ['sg-web'], ...ALB })
        .build();

      // Act
      const finding = only(check(inventory), 'world-open-web');

      // Assess
      expect(finding.severity).toBe('low');
      expect(finding.resources).toEqual({ ec2: 1, elb: 1 });
      expect(finding.reason).toContain('ec2:1;elb:1, not only load balancers');
    });

    it('is low on an SG without ENIs (nothing shows only load balancers use it)', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-x', 'tcp', 80, '0.0.0.0/0').build();

      // Act
      const finding = only(check(inventory), 'world-open-web');

      // Assess
      expect(finding.severity).toBe('low');
      expect(finding.reason).toContain('without ENIs');
    });

    it('accepts API Gateway and endpoint ENIs as load-balancer-like', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .ingress('sg-1', 'tcp', 443, '0.0.0.0/0')
        .eni('eni-a', { sgIds: ['sg-1'], interfaceType: 'api_gateway_managed' })
        .eni('eni-b', { sgIds: ['sg-1'], interfaceType: 'vpc_endpoint' })
        .build();

      // Act
      const finding = only(check(inventory), 'world-open-web');

      // Assess
      expect(finding.severity).toBe('info');
    });
  });

  describe('default security group', () => {
    it('grades a default SG with rules and ENIs high (EC2.2)', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .sg('sg-def', { name: 'default' })
        .ingress('sg-def', '-1', undefined, 'sg-def')
        .eni('eni-1', { sgIds: ['sg-def'], ...INSTANCE })
        .build();

      // Act
      const finding = only(check(inventory), 'default-sg-in-use');

      // Assess
      expect(finding).toMatchObject({
        id: 'default-sg-in-use:sg-def',
        severity: 'high',
        sgName: 'default',
        controls: ['EC2.2'],
        resources: { ec2: 1 },
      });
      expect(finding.ruleId).toBeUndefined();
    });

    it('grades a default SG with rules but no ENI low', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .sg('sg-def', { name: 'default' })
        .egress('sg-def', '-1', undefined, '10.0.0.0/8')
        .build();

      // Act
      const finding = only(check(inventory), 'default-sg-has-rules');

      // Assess
      expect(finding.severity).toBe('low');
      expect(finding.controls).toEqual(['EC2.2']);
    });

    it('accepts an empty default SG even with ENIs, and never calls a default SG unused', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .sg('sg-def', { name: 'default' })
        .sg('sg-def2', { name: 'default', vpcId: 'vpc-2' })
        .eni('eni-1', { sgIds: ['sg-def'] })
        .build();

      // Act
      const findings = check(inventory);

      // Assess
      expect(findings).toEqual([]);
    });
  });

  describe('unused-sg', () => {
    it('reports an SG with no ENI and no reference, warning about other users', () => {
      // Prepare
      const inventory = new InventoryBuilder().sg('sg-old', { name: 'old', vpcId: 'vpc-9' }).build();

      // Act
      const finding = only(check(inventory), 'unused-sg');

      // Assess
      expect(finding).toMatchObject({
        id: 'unused-sg:sg-old',
        severity: 'low',
        sgName: 'old',
        vpcId: 'vpc-9',
        resources: {},
      });
      expect(finding.reason).toContain('Lambda function configs, launch templates');
    });

    it('does not report an SG that another SG references', () => {
      // Prepare
      const inventory = new InventoryBuilder()
        .sg('sg-db')
        .ingress('sg-app', 'tcp', 5432, 'sg-db')
        .eni('eni-1', { sgIds: ['sg-app'] })
        .build();

      // Act
      const findings = check(inventory);

      // Assess
      expect(findings.filter((f) => f.check === 'unused-sg')).toEqual([]);
    });

    it('still reports an SG whose only reference is itself', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-self', 'tcp', 5432, 'sg-self').build();

      // Act
      const finding = only(check(inventory), 'unused-sg');

      // Assess
      expect(finding.sgId).toBe('sg-self');
    });
  });

  describe('egress', () => {
    it.each<[string, PortSpec, string, [string, Severity][]]>([
      ['tcp', [0, 65535], '0.0.0.0/0', [['all-ports-open', 'low']]],
      ['tcp', [0, 65535], '52.0.0.0/8', [['all-ports-open', 'info']]],
      ['tcp', [0, 65535], '10.0.0.0/8', []],
      ['tcp', 22, '0.0.0.0/0', [['sensitive-port-world', 'low']]],
      ['tcp', 25, '52.0.0.0/8', [['sensitive-port-wide-public', 'info']]],
      [
        'tcp',
        [1000, 2000],
        '::/0',
        [
          ['sensitive-port-world', 'low'],
          ['world-port-range', 'low'],
        ],
      ],
      ['tcp', [30000, 31000], '52.0.0.0/8', [['wide-public-cidr', 'info']]],
      ['tcp', 443, '0.0.0.0/0', []],
      ['udp', 53, '0.0.0.0/0', []],
      ['50', undefined, '0.0.0.0/0', [['portless-protocol-open', 'info']]],
      ['-1', undefined, '52.0.0.0/8', [['all-traffic-open', 'info']]],
    ])('grades egress %s %j to %s lower than ingress', (protocol, ports, peer, expected) => {
      // Prepare / Act
      const grades = gradeRule('egress', protocol, ports, peer);

      // Assess
      expect(grades).toEqual(expected);
    });

    it('attaches no ingress control to an egress finding', () => {
      // Prepare
      const inventory = new InventoryBuilder().egress('sg-1', 'tcp', 22, '0.0.0.0/0').build();

      // Act
      const finding = only(check(inventory), 'sensitive-port-world');

      // Assess
      expect(finding.controls).toEqual([]);
      expect(finding.reason).toBe('sensitive tcp port 22 (SSH) allowed out to the world (0.0.0.0/0)');
    });
  });

  describe('unused-rule and evidence', () => {
    it('reports a rule unused under full coverage as low, stating the coverage', () => {
      // Prepare
      const rule = ruleEntry('sg-1', 'ingress', 'tcp', 5432, '10.0.0.0/16');
      const inventory = new InventoryBuilder()
        .ingress('sg-1', 'tcp', 5432, '10.0.0.0/16')
        .eni('eni-1', { sgIds: ['sg-1'], description: 'RDSNetworkInterface' })
        .eni('eni-2', { sgIds: ['sg-1'], description: 'RDSNetworkInterface' })
        .build();
      const usages = new Map([[rule.id, usage(rule.id, { status: 'unused', verdict: 'remove' })]]);

      // Act
      const finding = only(check(inventory, usages), 'unused-rule');

      // Assess
      expect(finding).toMatchObject({
        id: `unused-rule:${rule.id}`,
        severity: 'low',
        evidence: 'unused in window (all 2 ENIs fully covered)',
        resources: { rds: 2 },
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        peer: '10.0.0.0/16',
      });
    });

    it('puts the traffic seen on a used rule into its findings', () => {
      // Prepare
      const rule = ruleEntry('sg-1', 'ingress', 'tcp', 22, '0.0.0.0/0');
      const inventory = new InventoryBuilder()
        .ingress('sg-1', 'tcp', 22, '0.0.0.0/0')
        .eni('eni-1', { sgIds: ['sg-1'] })
        .build();
      const seen = usage(rule.id, {
        connections: 120,
        distinctPeers: 4,
        lastSeen: Date.parse('2026-11-14T10:00:00Z') / 1000,
        ports: [{ protocol: 6, port: 22, connections: 120, bytes: 1000 }],
      });

      // Act
      const finding = only(check(inventory, new Map([[rule.id, seen]])), 'sensitive-port-world');

      // Assess
      expect(finding.evidence).toBe(
        'used: 120 connections from 4 peers, ports 22; last seen 2026-11-14T10:00:00Z',
      );
    });

    it('passes on why a rule is unknown', () => {
      // Prepare
      const rule = ruleEntry('sg-1', 'ingress', 'tcp', [0, 65535], '0.0.0.0/0');
      const inventory = new InventoryBuilder().ingress('sg-1', 'tcp', [0, 65535], '0.0.0.0/0').build();
      const unknown = usage(rule.id, {
        status: 'unknown',
        statusReason: 'eni-1 has no flow log',
        coverage: 'none',
      });

      // Act
      const finding = only(check(inventory, new Map([[rule.id, unknown]])), 'all-ports-open');

      // Assess
      expect(finding.evidence).toBe('unknown: eni-1 has no flow log');
    });

    it('summarises rule usage as the evidence of an SG-level finding', () => {
      // Prepare
      const ssh = ruleEntry('sg-def', 'ingress', 'tcp', 22, '10.0.0.0/8');
      const all = ruleEntry('sg-def', 'egress', '-1', undefined, '0.0.0.0/0');
      const inventory = new InventoryBuilder()
        .sg('sg-def', { name: 'default' })
        .ingress('sg-def', 'tcp', 22, '10.0.0.0/8')
        .egress('sg-def', '-1', undefined, '0.0.0.0/0')
        .eni('eni-1', { sgIds: ['sg-def'] })
        .build();
      const usages = new Map([
        [ssh.id, usage(ssh.id, { sgId: 'sg-def', status: 'used', connections: 3, distinctPeers: 1 })],
        [all.id, usage(all.id, { sgId: 'sg-def', status: 'unused' })],
      ]);

      // Act
      const finding = only(check(inventory, usages), 'default-sg-in-use');

      // Assess
      expect(finding.evidence).toBe('1 of 2 rules used in window, 1 unused, 0 unknown');
    });

    it('leaves evidence empty without usage', () => {
      // Prepare
      const inventory = new InventoryBuilder().ingress('sg-1', 'tcp', 22, '0.0.0.0/0').build();

      // Act
      const findings = check(inventory);

      // Assess
      expect(findings.every((f) => f.evidence === '')).toBe(true);
    });
  });

  it('orders findings by severity, SG and rule, with stable ids', () => {
    // Prepare
    const inventory = new InventoryBuilder()
      .egress('sg-b', '-1', undefined, '0.0.0.0/0')
      .ingress('sg-b', 'tcp', 3389, '0.0.0.0/0')
      .ingress('sg-a', 'tcp', [8000, 9000], '0.0.0.0/0')
      .ingress('sg-a', 'tcp', 22, '0.0.0.0/0')
      .eni('eni-1', { sgIds: ['sg-a', 'sg-b'] })
      .build();

    // Act
    const ids = check(inventory).map((f) => f.id);

    // Assess
    expect(ids).toEqual([
      'sensitive-port-world:sg-a/ingress/tcp/22-22/0.0.0.0/0',
      'sensitive-port-world:sg-a/ingress/tcp/8000-9000/0.0.0.0/0',
      'sensitive-port-world:sg-b/ingress/tcp/3389-3389/0.0.0.0/0',
      'world-port-range:sg-a/ingress/tcp/8000-9000/0.0.0.0/0',
      'egress-all-open:sg-b/egress/-1/all/0.0.0.0/0',
    ]);
    expect(check(inventory).map((f) => f.id)).toEqual(ids);
  });

  describe('properties', () => {
    const SEVERITY_RANK = (s: Severity | undefined) =>
      s === undefined ? SEVERITIES.length : SEVERITIES.indexOf(s);

    const ruleShape = fc.oneof(
      fc.record({ protocol: fc.constant('-1'), ports: fc.constant<PortSpec>(undefined) }),
      fc.record({ protocol: fc.constantFrom('50', '47', '132'), ports: fc.constant<PortSpec>(undefined) }),
      fc.record({ protocol: fc.constantFrom('icmp', 'icmpv6'), ports: fc.constant<PortSpec>([-1, -1]) }),
      fc.record({
        protocol: fc.constantFrom('icmp', 'icmpv6'),
        ports: fc
          .tuple(fc.integer({ min: -1, max: 255 }), fc.integer({ min: -1, max: 15 }))
          .map(([type, code]): PortSpec => [type, type < 0 ? -1 : code]),
      }),
      fc.record({
        protocol: fc.constantFrom('tcp', 'udp'),
        ports: fc
          .tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }))
          .map(([a, b]): PortSpec => [Math.min(a, b), Math.max(a, b)]),
      }),
      fc.record({
        protocol: fc.constantFrom('tcp', 'udp'),
        ports: fc.constantFrom<PortSpec>(22, 80, 443, 3389, 8443),
      }),
    );
    const direction = fc.constantFrom<Direction>('ingress', 'egress');
    const eniKind = fc.constantFrom({ ...ALB }, { ...INSTANCE }, { interfaceType: 'lambda' });

    function worstSeverity(
      dir: Direction,
      protocol: string,
      ports: PortSpec,
      peer: string,
      enis: readonly object[],
      lists: readonly [string, string[]][] = [],
    ): Severity | undefined {
      const builder = new InventoryBuilder().rule('sg-1', dir, protocol, ports, peer);
      for (const [id, cidrs] of lists) builder.prefixList(id, cidrs);
      enis.forEach((extra, i) => {
        builder.eni(`eni-${i}`, { sgIds: ['sg-1'], ...extra });
      });
      const ruleFindings = check(builder.build()).filter((f) => f.ruleId !== undefined);
      return ruleFindings[0]?.severity;
    }

    const privatePeer = fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 32 }))
        .map(([b, prefix]) => `10.${b}.0.0/${prefix}`),
      fc
        .tuple(fc.integer({ min: 16, max: 31 }), fc.integer({ min: 12, max: 32 }))
        .map(([b, p]) => `172.${b}.0.0/${p}`),
      fc.integer({ min: 16, max: 32 }).map((p) => `192.168.0.0/${p}`),
      fc.integer({ min: 7, max: 128 }).map((p) => `fd00::/${p}`),
      fc.constantFrom('sg-2', 'pl-private'),
    );

    it('never grades a rule with a private-only peer critical', () => {
      fc.assert(
        fc.property(
          ruleShape,
          direction,
          privatePeer,
          fc.array(eniKind, { maxLength: 3 }),
          (shape, dir, peer, enis) => {
            // Prepare / Act
            const worst = worstSeverity(dir, shape.protocol, shape.ports, peer, enis, [
              ['pl-private', ['10.0.0.0/8', 'fd00::/8']],
            ]);

            // Assess
            expect(worst).not.toBe('critical');
          },
        ),
        { numRuns: 300 },
      );
    });

    it('never lowers the severity when the peer widens from a public /24 to the world', () => {
      const publicPair = fc.constantFrom(
        ['203.0.113.0/24', '0.0.0.0/0'],
        ['52.95.110.0/24', '0.0.0.0/0'],
        ['2600:1f18:4000::/56', '::/0'],
      );
      fc.assert(
        fc.property(
          ruleShape,
          direction,
          publicPair,
          fc.array(eniKind, { maxLength: 3 }),
          (shape, dir, [narrow, world], enis) => {
            // Prepare / Act
            const narrowWorst = worstSeverity(dir, shape.protocol, shape.ports, narrow, enis);
            const worldWorst = worstSeverity(dir, shape.protocol, shape.ports, world, enis);

            // Assess
            expect(SEVERITY_RANK(worldWorst)).toBeLessThanOrEqual(SEVERITY_RANK(narrowWorst));
          },
        ),
        { numRuns: 300 },
      );
    });

    it('grades every ingress ICMP rule from the world exactly once, never above medium', () => {
      const icmpRule = fc.record({
        protocol: fc.constantFrom('icmp', 'icmpv6'),
        type: fc.integer({ min: -1, max: 255 }),
        code: fc.integer({ min: -1, max: 15 }),
        peer: fc.constantFrom('0.0.0.0/0', '::/0'),
      });
      fc.assert(
        fc.property(icmpRule, ({ protocol, type, code, peer }) => {
          // Prepare / Act
          const grades = gradeRule('ingress', protocol, [type, code], peer);

          // Assess
          expect(grades).toHaveLength(1);
          expect(grades[0]?.[0]).toBe('world-open-icmp');
          expect(SEVERITY_RANK(grades[0]?.[1])).toBeGreaterThanOrEqual(SEVERITY_RANK('medium'));
        }),
        { numRuns: 200 },
      );
    });

    it('never lowers the severity along private → public → wide public → world', () => {
      const ladder = ['10.1.0.0/16', '198.51.100.0/24', '52.0.0.0/8', '0.0.0.0/0'];
      fc.assert(
        fc.property(ruleShape, direction, fc.array(eniKind, { maxLength: 3 }), (shape, dir, enis) => {
          // Prepare / Act
          const ranks = ladder.map((peer) =>
            SEVERITY_RANK(worstSeverity(dir, shape.protocol, shape.ports, peer, enis)),
          );

          // Assess
          for (let i = 1; i < ranks.length; i++) expect(ranks[i]).toBeLessThanOrEqual(ranks[i - 1] as number);
        }),
        { numRuns: 200 },
      );
    });
  });
});
