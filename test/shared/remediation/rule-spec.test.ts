import { iacOwner } from '../../../shared/remediation/ownership';
import {
  ruleDescription,
  ruleSetDifference,
  ruleSetFingerprint,
  specKey,
  toIpPermission,
} from '../../../shared/remediation/rule-spec';

describe('specKey', () => {
  it('gives one key to one access however it was written', () => {
    // Act
    const icmp = [
      specKey({ direction: 'ingress', protocol: 'icmp', peer: '10.0.0.0/8' }),
      specKey({ direction: 'ingress', protocol: 'ICMP', fromPort: -1, toPort: -1, peer: '10.0.0.0/8' }),
      specKey({ direction: 'ingress', protocol: '1', fromPort: -1, toPort: -1, peer: '10.0.0.0/8' }),
    ];
    const v6 = [
      specKey({
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: '2001:DB8:0:0::/32',
      }),
      specKey({ direction: 'egress', protocol: '6', fromPort: 443, toPort: 443, peer: '2001:db8::/32' }),
    ];
    // Assess
    expect(new Set(icmp)).toEqual(new Set(['ingress/icmp/-1--1/10.0.0.0/8']));
    expect(new Set(v6)).toEqual(new Set(['egress/tcp/443-443/2001:db8::/32']));
  });

  it('tells apart what differs in direction, ports or peer', () => {
    // Act
    const keys = new Set([
      specKey({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }),
      specKey({ direction: 'egress', protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }),
      specKey({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 23, peer: '0.0.0.0/0' }),
      specKey({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, peer: 'sg-1' }),
      specKey({ direction: 'ingress', protocol: '-1', peer: '0.0.0.0/0' }),
    ]);
    // Assess
    expect(keys.size).toBe(5);
  });
});

describe('ruleSetFingerprint and ruleSetDifference', () => {
  const a = { direction: 'ingress' as const, protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' };
  const b = { direction: 'egress' as const, protocol: '-1', peer: '0.0.0.0/0', description: 'all' };

  it('fingerprints access only: order, descriptions and rule ids do not count', () => {
    // Act / Assess
    expect(ruleSetFingerprint([a, b])).toBe(
      ruleSetFingerprint([{ ...b, description: 'other', securityGroupRuleId: 'sgr-1' }, a]),
    );
    expect(ruleSetFingerprint([a])).not.toBe(ruleSetFingerprint([a, b]));
  });

  it('names what was added and removed since the expected set', () => {
    // Act
    const diff = ruleSetDifference([a, b], [b, { ...a, fromPort: 2222, toPort: 2222 }]);
    // Assess
    expect(diff).toEqual({
      added: ['ingress/tcp/2222-2222/0.0.0.0/0'],
      removed: ['ingress/tcp/22-22/0.0.0.0/0'],
    });
  });
});

describe('toIpPermission', () => {
  it('writes each peer kind the way EC2 takes it, ICMP without ports as every type', () => {
    // Act
    const permissions = [
      toIpPermission({
        direction: 'ingress',
        protocol: 'icmp',
        peer: 'sg-1',
        description: 'ping',
        peerOwnerId: '111',
      }),
      toIpPermission({ direction: 'ingress', protocol: 'tcp', fromPort: 443, toPort: 443, peer: '::/0' }),
      toIpPermission({ direction: 'egress', protocol: 'tcp', fromPort: 443, toPort: 443, peer: 'pl-1' }),
      toIpPermission(
        { direction: 'egress', protocol: '-1', peer: '10.0.0.0/8', description: 'x' },
        { withDescription: false },
      ),
    ];
    // Assess
    expect(permissions).toEqual([
      {
        IpProtocol: 'icmp',
        FromPort: -1,
        ToPort: -1,
        UserIdGroupPairs: [{ GroupId: 'sg-1', UserId: '111', Description: 'ping' }],
      },
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: 'pl-1' }] },
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
  });
});

describe('ruleDescription', () => {
  it('keeps to the characters and length AWS accepts', () => {
    // Act
    const text = ruleDescription(
      `sg-audit 2026-11-15: 24 connections → 5 peers, 'quoted' ~ ${'x'.repeat(300)}`,
    );
    // Assess
    expect(text.startsWith('sg-audit 2026-11-15: 24 connections - 5 peers, quoted - x')).toBe(true);
    expect(text).toHaveLength(255);
    expect(text).toMatch(/^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/);
  });
});

describe('iacOwner', () => {
  it('recognises CloudFormation, CDK, Terraform and Pulumi markers', () => {
    // Act
    const owners = [
      iacOwner({ tags: { 'aws:cloudformation:stack-name': 'web' }, description: 'web servers' }),
      iacOwner({ tags: { 'aws:cloudformation:stack-name': 'Web' }, description: 'Web/Alb/SecurityGroup' }),
      iacOwner({ tags: { ManagedBy: 'Terraform' } }),
      iacOwner({ tags: {}, description: 'Managed by Terraform' }),
      iacOwner({ tags: { 'pulumi:project': 'net' } }),
      iacOwner({ tags: { Name: 'hand-made' }, description: 'made in the console' }),
    ];
    // Assess
    expect(owners.map((o) => o && [o.tool, o.name])).toEqual([
      ['cloudformation', 'web'],
      ['cdk', 'Web'],
      ['terraform', undefined],
      ['terraform', undefined],
      ['pulumi', 'net'],
      undefined,
    ]);
    expect(owners[2]?.evidence).toBe('tag ManagedBy=Terraform');
  });
});
