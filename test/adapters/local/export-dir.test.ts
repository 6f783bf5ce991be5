import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CLOUDTRAIL_EVENTS_FILE,
  parseJsonFile,
  readExportDirectory,
  readRuleChanges,
} from '../../../adapters/local/export-dir';
import { ExportFormatError } from '../../../shared/errors';
import { authorizeEvent, CALLERS } from '../../../testkit/cloudtrail-events';

const SG_JSON = {
  SecurityGroups: [
    {
      GroupId: 'sg-0aaa',
      GroupName: 'web',
      Description: 'web tier',
      VpcId: 'vpc-1',
      OwnerId: '111122223333',
      Tags: [{ Key: 'Name', Value: 'web' }],
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'public' }],
          Ipv6Ranges: [{ CidrIpv6: '::/0' }],
          PrefixListIds: [{ PrefixListId: 'pl-0123' }],
          UserIdGroupPairs: [{ GroupId: 'sg-0bbb', UserId: '111122223333' }],
        },
        { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        { IpProtocol: '50', IpRanges: [{ CidrIp: '198.51.100.0/24' }] },
      ],
      IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    },
  ],
};
const ENI_JSON = {
  NetworkInterfaces: [
    {
      NetworkInterfaceId: 'eni-1',
      InterfaceType: 'interface',
      Description: '',
      VpcId: 'vpc-1',
      SubnetId: 'subnet-1',
      AvailabilityZone: 'ap-northeast-2a',
      PrivateIpAddress: '10.0.1.10',
      PrivateIpAddresses: [
        { PrivateIpAddress: '10.0.1.11', Primary: false },
        { PrivateIpAddress: '10.0.1.10', Primary: true, Association: { PublicIp: '3.34.1.2' } },
      ],
      Ipv6Addresses: [{ Ipv6Address: '2406:da12::10' }],
      Groups: [{ GroupId: 'sg-0aaa', GroupName: 'web' }],
      Attachment: { InstanceId: 'i-1', InstanceOwnerId: '111122223333', Status: 'attached' },
      RequesterManaged: false,
      TagSet: [],
    },
  ],
};
const FLOW_JSON = {
  FlowLogs: [
    {
      FlowLogId: 'fl-1',
      ResourceId: 'vpc-1',
      TrafficType: 'ALL',
      LogDestinationType: 's3',
      LogDestination: 'arn:aws:s3:::logs',
      CreationTime: '2026-01-01T00:00:00.000Z',
      FlowLogStatus: 'ACTIVE',
    },
    {
      FlowLogId: 'fl-2',
      ResourceId: 'subnet-1',
      TrafficType: 'REJECT',
      LogFormat: '${interface-id} ${srcaddr} ${dstaddr} ${tcp-flags}',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: 'flows',
    },
  ],
};

describe('readExportDirectory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sg-export-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, value: unknown) {
    writeFileSync(path.join(dir, name), typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  }

  it('maps AWS CLI JSON into one rule entry per peer with IPv6, prefix lists and SG references', () => {
    // Prepare
    write('security-groups.json', SG_JSON);
    write('network-interfaces.json', ENI_JSON);
    write('flow-logs.json', FLOW_JSON);
    // Act
    const inventory = readExportDirectory(dir);
    // Assess
    const sg = inventory.securityGroups[0];
    expect(sg?.rules.map((r) => r.id)).toEqual([
      'sg-0aaa/ingress/tcp/443-443/0.0.0.0/0',
      'sg-0aaa/ingress/tcp/443-443/::/0',
      'sg-0aaa/ingress/tcp/443-443/pl-0123',
      'sg-0aaa/ingress/tcp/443-443/sg-0bbb',
      'sg-0aaa/ingress/icmp/-1--1/10.0.0.0/8',
      'sg-0aaa/ingress/50/all/198.51.100.0/24',
      'sg-0aaa/egress/-1/all/0.0.0.0/0',
    ]);
    expect(sg?.rules[0]).toMatchObject({
      protocolNumber: 6,
      fromPort: 443,
      toPort: 443,
      description: 'public',
    });
    expect(sg?.rules[1]?.peer).toEqual({ kind: 'cidr', cidr: '::/0', family: 'ipv6' });
    expect(sg?.rules[3]?.peer).toEqual({ kind: 'sg', groupId: 'sg-0bbb', userId: '111122223333' });
    expect(sg?.rules[5]?.protocolNumber).toBe(50);
    expect(sg?.rules[5] && 'fromPort' in sg.rules[5]).toBe(false);
    expect(sg?.rules[6]?.protocolNumber).toBe('all');
    expect(sg?.rules[6] && 'fromPort' in sg.rules[6]).toBe(false);
    expect(inventory.accountId).toBe('111122223333');
    expect(inventory.region).toBe('ap-northeast-2');
  });

  it('puts the primary private IP first and collects public IPs and IPv6', () => {
    // Prepare
    write('security-groups.json', SG_JSON);
    write('network-interfaces.json', ENI_JSON);
    write('flow-logs.json', FLOW_JSON);
    // Act
    const eni = readExportDirectory(dir).networkInterfaces[0];
    // Assess
    expect(eni?.privateIpv4).toEqual(['10.0.1.10', '10.0.1.11']);
    expect(eni?.publicIpv4).toEqual(['3.34.1.2']);
    expect(eni?.ipv6).toEqual(['2406:da12::10']);
    expect(eni?.attachment?.instanceId).toBe('i-1');
  });

  it('parses flow-log formats and uses the default format when LogFormat is absent', () => {
    // Prepare
    write('security-groups.json', SG_JSON);
    write('network-interfaces.json', ENI_JSON);
    write('flow-logs.json', FLOW_JSON);
    // Act
    const [vpcLog, subnetLog] = readExportDirectory(dir).flowLogs;
    // Assess
    expect(vpcLog?.scope).toBe('vpc');
    expect(vpcLog?.fields).toContain('log-status');
    expect(vpcLog?.fields[0]).toBe('version');
    expect(subnetLog).toMatchObject({
      scope: 'subnet',
      trafficType: 'REJECT',
      fields: ['interface-id', 'srcaddr', 'dstaddr', 'tcp-flags'],
      logGroupName: 'flows',
    });
  });

  it('lists a Transit Gateway flow log with its TGW-only format unparsed instead of failing', () => {
    // Prepare: describe-flow-logs returns TGW flow logs beside the VPC's.
    write('security-groups.json', SG_JSON);
    write('network-interfaces.json', ENI_JSON);
    write('flow-logs.json', {
      FlowLogs: [
        ...FLOW_JSON.FlowLogs,
        {
          FlowLogId: 'fl-0tgw',
          ResourceId: 'tgw-0a1b2c3d4e5f67890',
          TrafficType: 'ALL',
          LogDestinationType: 's3',
          LogDestination: 'arn:aws:s3:::tgw-logs',
          LogFormat:
            '${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${packets-lost-no-route}',
        },
      ],
    });
    // Act
    const tgw = readExportDirectory(dir).flowLogs.find((f) => f.id === 'fl-0tgw');
    // Assess
    expect(tgw).toMatchObject({ scope: 'transit-gateway', fields: [] });
  });

  it.each([
    ['UTF-16LE', 'utf16le', [0xff, 0xfe]],
    ['UTF-8 with a byte-order mark', 'utf8', [0xef, 0xbb, 0xbf]],
  ] as const)('reads a file written as %s (Windows PowerShell 5.1 writes UTF-16)', (_, encoding, bom) => {
    // Prepare
    write('security-groups.json', SG_JSON);
    write('flow-logs.json', FLOW_JSON);
    const text = Buffer.from(JSON.stringify(ENI_JSON), encoding);
    writeFileSync(path.join(dir, 'network-interfaces.json'), Buffer.concat([Buffer.from(bom), text]));
    // Act
    const inventory = readExportDirectory(dir);
    // Assess
    expect(inventory.networkInterfaces.length).toBeGreaterThan(0);
  });

  it('names the file and the encoding when it is neither UTF-8 nor UTF-16 with a byte-order mark', () => {
    // Prepare: UTF-16 without its byte-order mark, and Latin-1.
    write('security-groups.json', SG_JSON);
    write('flow-logs.json', FLOW_JSON);
    writeFileSync(
      path.join(dir, 'network-interfaces.json'),
      Buffer.from(JSON.stringify(ENI_JSON), 'utf16le'),
    );
    // Act
    const act = () => readExportDirectory(dir);
    // Assess
    expect(act).toThrow(
      /network-interfaces\.json: not UTF-8 text: it looks like UTF-16 without a byte-order mark; re-save it as UTF-8/,
    );
    writeFileSync(
      path.join(dir, 'network-interfaces.json'),
      Buffer.from('{"NetworkInterfaces": [{"Description": "caf\xe9"}]}', 'latin1'),
    );
    expect(act).toThrow(/network-interfaces\.json: not UTF-8 text \(an invalid byte sequence\)/);
  });

  it('names the missing required file and the AWS CLI command that writes it', () => {
    // Prepare
    write('security-groups.json', SG_JSON);
    write('flow-logs.json', FLOW_JSON);
    // Act
    const act = () => readExportDirectory(dir);
    // Assess
    expect(act).toThrow(ExportFormatError);
    expect(act).toThrow(/network-interfaces\.json: missing required file .*describe-network-interfaces/);
  });

  it('names the file and line of malformed JSON', () => {
    // Prepare
    write('security-groups.json', '{\n  "SecurityGroups": [\n    { "GroupId": "sg-1", }\n  ]\n}');
    write('network-interfaces.json', ENI_JSON);
    write('flow-logs.json', FLOW_JSON);
    // Act
    const act = () => readExportDirectory(dir);
    // Assess
    expect(act).toThrow(/security-groups\.json: line 3: malformed JSON/);
  });

  it('names the file and field path of a value of the wrong type', () => {
    // Prepare
    const bad = structuredClone(SG_JSON);
    (bad.SecurityGroups[0]?.IpPermissions[0] as { FromPort: unknown }).FromPort = '443';
    write('security-groups.json', bad);
    write('network-interfaces.json', ENI_JSON);
    write('flow-logs.json', FLOW_JSON);
    // Act
    const act = () => readExportDirectory(dir);
    // Assess
    expect(act).toThrow(/security-groups\.json: SecurityGroups\[0\]\.IpPermissions\[0\]\.FromPort: /);
  });

  it('names an unknown flow-log field in the LogFormat', () => {
    // Prepare
    const flows = structuredClone(FLOW_JSON);
    (flows.FlowLogs[1] as { LogFormat: string }).LogFormat = '${interface-id} ${no-such-field}';
    write('security-groups.json', SG_JSON);
    write('network-interfaces.json', ENI_JSON);
    write('flow-logs.json', flows);
    // Act
    const act = () => readExportDirectory(dir);
    // Assess
    expect(act).toThrow(/flow-logs\.json: FlowLogs\[1\]\.LogFormat: .*no-such-field/);
  });

  it('reads optional VPC, NACL and prefix-list files', () => {
    // Prepare
    write('security-groups.json', SG_JSON);
    write('network-interfaces.json', ENI_JSON);
    write('flow-logs.json', FLOW_JSON);
    write('vpcs.json', {
      Vpcs: [
        {
          VpcId: 'vpc-1',
          CidrBlock: '10.0.0.0/16',
          CidrBlockAssociationSet: [
            { CidrBlock: '10.0.0.0/16', CidrBlockState: { State: 'associated' } },
            { CidrBlock: '10.9.0.0/16', CidrBlockState: { State: 'disassociated' } },
          ],
          Ipv6CidrBlockAssociationSet: [
            { Ipv6CidrBlock: '2406:da12::/56', Ipv6CidrBlockState: { State: 'associated' } },
          ],
          IsDefault: false,
        },
      ],
    });
    write('network-acls.json', {
      NetworkAcls: [
        {
          NetworkAclId: 'acl-1',
          VpcId: 'vpc-1',
          IsDefault: true,
          Associations: [{ SubnetId: 'subnet-1' }],
          Entries: [
            {
              RuleNumber: 100,
              Protocol: '6',
              RuleAction: 'allow',
              Egress: false,
              CidrBlock: '0.0.0.0/0',
              PortRange: { From: 443, To: 443 },
            },
          ],
        },
      ],
    });
    write('prefix-lists.json', {
      PrefixLists: [
        {
          PrefixListId: 'pl-0123',
          PrefixListName: 'corp',
          AddressFamily: 'IPv4',
          MaxEntries: 10,
          Entries: [{ Cidr: '203.0.113.0/24', Description: 'office' }],
        },
      ],
    });
    // Act
    const inventory = readExportDirectory(dir);
    // Assess
    expect(inventory.vpcs[0]).toMatchObject({ cidrs: ['10.0.0.0/16'], ipv6Cidrs: ['2406:da12::/56'] });
    expect(inventory.networkAcls[0]).toMatchObject({
      subnetIds: ['subnet-1'],
      entries: [
        {
          ruleNumber: 100,
          protocol: '6',
          action: 'allow',
          cidr: '0.0.0.0/0',
          portRange: { from: 443, to: 443 },
        },
      ],
    });
    expect(inventory.prefixLists[0]).toMatchObject({ id: 'pl-0123', maxEntries: 10, addressFamily: 'ipv4' });
  });
});

describe('parseJsonFile', () => {
  it('accepts a UTF-8 byte-order mark', () => {
    // Prepare
    const text = '\ufeff{"a":1}';
    // Act
    const value = parseJsonFile(text, 'x.json');
    // Assess
    expect(value).toEqual({ a: 1 });
  });
});

describe('readRuleChanges', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sg-audit-trail-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const event = authorizeEvent(
    { id: 'e1', time: '2026-11-03T09:12:44Z', caller: CALLERS.cli('arn:aws:iam::1:user/bob', '1.2.3.4') },
    'ingress',
    'sg-0aaa',
    [{ protocol: 'tcp', fromPort: 443, toPort: 443, peer: '0.0.0.0/0' }],
  );

  it('is absent without cloudtrail-events.json', () => {
    // Act / Assess
    expect(readRuleChanges(dir)).toBeUndefined();
  });

  it('reads the events and the period sg-audit export writes', () => {
    // Prepare
    const document = {
      Events: [event],
      StartTime: '2026-08-23T00:00:00.000Z',
      EndTime: '2026-11-21T00:00:00.000Z',
      Complete: true,
    };
    writeFileSync(path.join(dir, CLOUDTRAIL_EVENTS_FILE), JSON.stringify(document));

    // Act
    const history = readRuleChanges(dir);

    // Assess
    expect(history).toEqual({
      source: 'cloudtrail-export',
      events: [event],
      start: Date.parse('2026-08-23T00:00:00Z') / 1000,
      end: Date.parse('2026-11-21T00:00:00Z') / 1000,
      complete: true,
      warnings: [],
    });
  });

  it('reads pages the AWS CLI printed one after another, and says the period is unknown', () => {
    // Prepare
    const pages = `${JSON.stringify({ Events: [event], NextToken: 'a}b' }, null, 4)}\n${JSON.stringify({ Events: [event] })}\n`;
    writeFileSync(path.join(dir, CLOUDTRAIL_EVENTS_FILE), pages);

    // Act
    const history = readRuleChanges(dir);

    // Assess
    expect(history?.events).toHaveLength(2);
    expect(history?.start).toBeUndefined();
    expect(history?.warnings[0]).toMatch(/does not say which period it covers \(no StartTime\)/);
  });

  it('names the file when it is no lookup-events output', () => {
    // Prepare
    writeFileSync(path.join(dir, CLOUDTRAIL_EVENTS_FILE), '{"Records": []}');

    // Act / Assess
    expect(() => readRuleChanges(dir)).toThrow(ExportFormatError);
    expect(() => readRuleChanges(dir)).toThrow(/expected \{"Events": \[\.\.\.\]\}/);
  });
});
