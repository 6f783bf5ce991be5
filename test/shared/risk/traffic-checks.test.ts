import { DEFAULT_CONFIG } from '../../../shared/config';
import { trafficFindings } from '../../../shared/risk/traffic-checks';
import {
  DB_SUGGESTION,
  egressDestination as destination,
  rejectedRow as rejected,
  TRAFFIC_ACCOUNT,
  TRAFFIC_INDEX,
  TRAFFIC_RESOURCES,
} from '../../support/traffic-account';

const CONTEXT = {
  resources: TRAFFIC_RESOURCES,
  ruleIndex: TRAFFIC_INDEX,
  config: DEFAULT_CONFIG,
  sgIds: new Set(TRAFFIC_ACCOUNT.securityGroups.map((sg) => sg.id)),
  allowListFile: 'egress-allowlist.yaml',
};

describe('trafficFindings', () => {
  it('gives each suggested rule a low rejected-missing-rule finding with the rule’s fields and a stable id', () => {
    // Prepare
    const row = rejected({
      class: 'missing-rule',
      suggestion: {
        ...DB_SUGGESTION,
        peerSgIds: [...DB_SUGGESTION.peerSgIds],
        why: 'eni-db serves tcp/5432 to others',
      },
    });

    // Act
    const [finding] = trafficFindings([row, { ...row, eniId: 'eni-db2' }], [], CONTEXT);

    // Assess
    expect(finding).toMatchObject({
      id: 'rejected-missing-rule:sg-db/ingress/tcp/5432/10.0.1.20/32',
      check: 'rejected-missing-rule',
      severity: 'low',
      sgId: 'sg-db',
      direction: 'ingress',
      protocol: 'tcp',
      fromPort: 5432,
      toPort: 5432,
      peer: '10.0.1.20/32',
    });
    expect(finding?.ruleId).toBeUndefined();
    expect(finding?.reason).toContain('8 attempts');
    expect(finding?.reason).toContain("'- allow tcp port 5432 from 10.0.1.20'");
    expect(finding?.reason).toContain('SG reference to sg-web');
  });

  it('files a NACL refusal under the SG rule that admits the traffic, and refused replies under the SG', () => {
    // Prepare
    const nacl = { naclId: 'acl-data', ruleNumber: 32767, text: 'acl-data rule 32767 (*)' };
    const blocked = rejected({
      class: 'nacl',
      peer: '10.9.0.5',
      admittedBy: ['sg-db/ingress/tcp/5432-5432/10.9.0.0/16'],
      nacl: { ...nacl, direction: 'inbound' },
    });
    const replies = { ...blocked, replyOnly: true, nacl: { ...nacl, direction: 'outbound' as const } };

    // Act
    const findings = trafficFindings([blocked, replies], [], CONTEXT);

    // Assess
    expect(findings.map((f) => [f.id, f.severity, f.ruleId])).toEqual([
      [
        'rejected-by-nacl:sg-db/ingress/tcp/5432-5432/10.9.0.0/16',
        'low',
        'sg-db/ingress/tcp/5432-5432/10.9.0.0/16',
      ],
      ['rejected-by-nacl:sg-db/ingress/tcp/5432/acl-data/reply', 'low', undefined],
    ]);
    expect(findings[0]?.peer).toBe('10.9.0.0/16');
  });

  it('sums probes per SG: info from the internet, low when insiders keep trying, info for an inside one-off', () => {
    // Prepare
    const scans = [22, 3389].map((port) =>
      rejected({
        class: 'probe',
        sgIds: ['sg-web'],
        eniId: 'eni-web',
        origin: 'internet',
        port,
        peer: `203.0.113.${port % 200}`,
      }),
    );
    const insider = rejected({
      class: 'probe',
      sgIds: ['sg-web'],
      eniId: 'eni-web',
      port: 8443,
      connections: 5,
    });
    const oneOff = rejected({
      class: 'probe',
      sgIds: ['sg-app'],
      eniId: 'eni-app1',
      port: 22,
      connections: 1,
    });

    // Act
    const findings = trafficFindings([...scans, insider, oneOff], [], CONTEXT);

    // Assess
    expect(findings.map((f) => [f.id, f.severity])).toEqual([
      ['rejected-probe:sg-web', 'info'],
      ['rejected-probe:sg-web/inside', 'low'],
      ['rejected-probe:sg-app/inside', 'info'],
    ]);
    expect(findings[0]?.reason).toContain('8 attempts from 2 internet sources');
    expect(findings[0]?.direction).toBeUndefined();
  });

  it('sums an SG probed by more sources than a call takes arguments (600,000), over their whole span', () => {
    // Prepare: one shared row shape, each source its own address and minute
    const base = rejected({
      class: 'probe',
      sgIds: ['sg-web'],
      eniId: 'eni-web',
      origin: 'internet',
      port: 22,
    });
    const scans = Array.from({ length: 600_000 }, (_, i) => ({
      ...base,
      peer: `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      connections: 1,
      firstSeen: 1_000_000 + i * 60,
      lastSeen: 1_000_030 + i * 60,
    }));

    // Act
    const findings = trafficFindings(scans, [], CONTEXT);

    // Assess
    expect(findings.map((f) => f.id)).toEqual(['rejected-probe:sg-web']);
    expect(findings[0]?.reason).toContain('600,000 attempts from 600,000 internet sources');
    const expected = trafficFindings([scans[0], scans[599_999]] as typeof scans, [], CONTEXT)[0]?.evidence;
    expect(findings[0]?.evidence).toBe(expected);
  });

  it('raises unexpected egress medium to the internet and low to private space, admin ports low unless expected', () => {
    // Prepare
    const destinations = [
      destination({}),
      destination({ destination: '10.200.0.0/24', peer: '10.200.0.0/24', public: false }),
      destination({ destination: '140.82.121.0/24', peer: '140.82.121.0/24', port: 22, adminPort: true }),
      destination({
        destination: '140.82.122.0/24',
        port: 22,
        adminPort: true,
        expected: 'yes',
        allowListId: 'git',
      }),
      destination({
        destination: '140.82.123.0/24',
        peer: '140.82.123.0/24',
        port: 21,
        adminPort: true,
        expected: 'unreviewed',
      }),
    ];

    // Act
    const findings = trafficFindings([], destinations, CONTEXT);

    // Assess
    expect(findings.map((f) => [f.check, f.severity, f.peer, f.fromPort])).toEqual([
      ['unexpected-egress', 'medium', '45.139.122.0/24', 443],
      ['unexpected-egress', 'low', '10.200.0.0/24', 443],
      ['unexpected-egress', 'medium', '140.82.121.0/24', 22],
      ['egress-admin-port', 'low', '140.82.121.0/24', 22],
      ['egress-admin-port', 'low', '140.82.123.0/24', 21],
    ]);
    expect(findings[0]?.reason).toContain('not on the egress allow-list (egress-allowlist.yaml)');
  });

  it('reports nothing about SGs outside the audit', () => {
    // Act
    const findings = trafficFindings([rejected({ class: 'probe', origin: 'internet' })], [destination({})], {
      ...CONTEXT,
      sgIds: new Set(['sg-worker']),
    });

    // Assess
    expect(findings).toEqual([]);
  });
});
