import { decideNacl, naclEntryText, naclOfSubnet } from '../../../shared/analysis/nacl-evaluation';
import type { NaclEntry, NetworkAcl } from '../../../shared/model/inventory';
import { parseIpOrThrow } from '../../../shared/net/ip';
import { DATA_NACL, DEFAULT_NACL } from '../../support/traffic-account';

const ip = (text: string) => parseIpOrThrow(text);

function acl(entries: NaclEntry[]): NetworkAcl {
  return { id: 'acl-1', vpcId: 'vpc-1', isDefault: false, subnetIds: ['subnet-1'], entries };
}

describe('decideNacl', () => {
  it('lets the lowest-numbered matching entry decide, whatever order the entries come in', () => {
    // Prepare
    const entries: NaclEntry[] = [
      { ruleNumber: 200, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
      {
        ruleNumber: 90,
        egress: false,
        protocol: '6',
        action: 'deny',
        cidr: '10.9.0.0/16',
        portRange: { from: 22, to: 22 },
      },
    ];

    // Act
    const ssh = decideNacl(acl(entries), {
      direction: 'inbound',
      protocol: 6,
      ports: { from: 22, to: 22 },
      addr: ip('10.9.1.1'),
    });
    const https = decideNacl(acl(entries), {
      direction: 'inbound',
      protocol: 6,
      ports: { from: 443, to: 443 },
      addr: ip('10.9.1.1'),
    });

    // Assess
    expect(ssh).toMatchObject({ action: 'deny', entry: { ruleNumber: 90 } });
    expect(https).toMatchObject({ action: 'allow', entry: { ruleNumber: 200 } });
  });

  it('refuses what no entry matches (the implicit deny) and keeps directions apart', () => {
    // Prepare
    const inboundOnly = acl([
      { ruleNumber: 100, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
    ]);

    // Act
    const out = decideNacl(inboundOnly, {
      direction: 'outbound',
      protocol: 6,
      ports: { from: 443, to: 443 },
      addr: ip('1.2.3.4'),
    });

    // Assess
    expect(out).toEqual({ action: 'deny' });
  });

  it('needs an allow for every port of a range, and names the first entry refusing any of them', () => {
    // Prepare: replies to 1024-65535 of the app subnet only.
    const packet = (addr: string) => ({
      direction: 'outbound' as const,
      protocol: 6,
      ports: { from: 32768, to: 65535 },
      addr: ip(addr),
    });

    // Act / Assess
    expect(decideNacl(DATA_NACL, packet('10.0.1.9'))).toMatchObject({
      action: 'allow',
      entry: { ruleNumber: 100 },
    });
    expect(decideNacl(DATA_NACL, packet('10.9.0.5'))).toMatchObject({
      action: 'deny',
      entry: { ruleNumber: 32767 },
    });
    const split = acl([
      {
        ruleNumber: 100,
        egress: true,
        protocol: '6',
        action: 'allow',
        cidr: '0.0.0.0/0',
        portRange: { from: 1024, to: 40000 },
      },
      {
        ruleNumber: 110,
        egress: true,
        protocol: '6',
        action: 'deny',
        cidr: '0.0.0.0/0',
        portRange: { from: 40001, to: 65535 },
      },
    ]);
    expect(decideNacl(split, packet('10.0.1.9'))).toMatchObject({
      action: 'deny',
      entry: { ruleNumber: 110 },
    });
  });

  it('matches portless packets by protocol and address only', () => {
    // Act
    const esp = decideNacl(DEFAULT_NACL, {
      direction: 'inbound',
      protocol: 50,
      ports: null,
      addr: ip('198.51.100.7'),
    });

    // Assess
    expect(esp).toMatchObject({ action: 'allow', entry: { ruleNumber: 100 } });
  });
});

describe('naclOfSubnet', () => {
  it('finds the NACL associated with the subnet, else the VPC’s default one', () => {
    // Act / Assess
    expect(naclOfSubnet([DATA_NACL, DEFAULT_NACL], { subnetId: 'subnet-data', vpcId: 'vpc-1' })?.id).toBe(
      'acl-data',
    );
    expect(naclOfSubnet([DATA_NACL, DEFAULT_NACL], { subnetId: 'subnet-new', vpcId: 'vpc-1' })?.id).toBe(
      'acl-default',
    );
    expect(naclOfSubnet([DATA_NACL], { subnetId: 'subnet-new', vpcId: 'vpc-1' })).toBeUndefined();
  });
});

describe('naclEntryText', () => {
  it('says the entry as the console shows it, the default rule as *', () => {
    // Act / Assess
    expect(naclEntryText(DATA_NACL.entries[0] as NaclEntry)).toBe(
      'rule 100: allow tcp 5432 from 10.0.1.0/24',
    );
    expect(naclEntryText(DATA_NACL.entries[3] as NaclEntry)).toBe(
      'rule 32767 (*): deny all traffic to 0.0.0.0/0',
    );
  });
});
