import {
  AuthorizeSecurityGroupEgressCommand,
  CreateNetworkAclEntryCommand,
  DeleteNetworkAclEntryCommand,
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { Ec2RemediationTarget, RemediationCallError } from '../../../adapters/aws/ec2-remediation';

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

const SSH_FROM_WORLD = {
  direction: 'ingress',
  protocol: 'tcp',
  fromPort: 22,
  toPort: 22,
  peer: '0.0.0.0/0',
} as const;

function target() {
  const ec2 = new EC2Client({ region: 'ap-northeast-2', credentials: CREDENTIALS, maxAttempts: 1 });
  return { mock: mockClient(ec2), target: new Ec2RemediationTarget({ ec2 }) };
}

describe('Ec2RemediationTarget', () => {
  it('reads each SG’s rules with ids, descriptions and the referenced group’s owner; a missing SG is absent', async () => {
    // Prepare
    const { mock, target: ec2 } = target();
    mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-1' }] });
    mock.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        {
          GroupId: 'sg-1',
          SecurityGroupRuleId: 'sgr-1',
          IsEgress: false,
          IpProtocol: 'tcp',
          FromPort: 22,
          ToPort: 22,
          CidrIpv4: '0.0.0.0/0',
          Description: 'SSH',
        },
        {
          GroupId: 'sg-1',
          SecurityGroupRuleId: 'sgr-2',
          IsEgress: true,
          IpProtocol: '-1',
          FromPort: -1,
          ToPort: -1,
          ReferencedGroupInfo: { GroupId: 'sg-9', UserId: '111122223333' },
        },
      ],
    });
    // Act
    const rules = await ec2.describeSecurityGroups(['sg-1', 'sg-gone']);
    // Assess
    expect([...rules.keys()]).toEqual(['sg-1']);
    expect(rules.get('sg-1')).toEqual([
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        peer: '0.0.0.0/0',
        description: 'SSH',
        securityGroupRuleId: 'sgr-1',
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: 'sg-9',
        securityGroupRuleId: 'sgr-2',
        peerOwnerId: '111122223333',
      },
    ]);
    expect(mock.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'group-id', Values: ['sg-1', 'sg-gone'] },
    ]);
  });

  it('takes DryRunOperation as "would have succeeded" and passes the IpPermission with its description', async () => {
    // Prepare
    const { mock, target: ec2 } = target();
    mock.on(AuthorizeSecurityGroupEgressCommand).rejects(awsError('DryRunOperation'));
    // Act
    await ec2.changeSecurityGroup(
      'sg-1',
      {
        action: 'authorize',
        rule: {
          direction: 'egress',
          protocol: 'tcp',
          fromPort: 443,
          toPort: 443,
          peer: 'pl-1',
          description: 'sg-audit',
        },
      },
      { dryRun: true },
    );
    // Assess
    expect(mock.commandCalls(AuthorizeSecurityGroupEgressCommand)[0]?.args[0].input).toEqual({
      GroupId: 'sg-1',
      DryRun: true,
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          PrefixListIds: [{ PrefixListId: 'pl-1', Description: 'sg-audit' }],
        },
      ],
    });
  });

  it('fails on any other answer than DryRunOperation, naming the change', async () => {
    // Prepare
    const { mock, target: ec2 } = target();
    mock.on(RevokeSecurityGroupIngressCommand).rejects(awsError('UnauthorizedOperation', 'not allowed'));
    // Act
    const change = ec2.changeSecurityGroup(
      'sg-1',
      {
        action: 'revoke',
        rule: { ...SSH_FROM_WORLD, securityGroupRuleId: 'sgr-1' },
      },
      { dryRun: true },
    );
    // Assess
    await expect(change).rejects.toBeInstanceOf(RemediationCallError);
    await expect(change).rejects.toMatchObject({
      message: 'revoke ingress tcp 22 from 0.0.0.0/0 on sg-1: UnauthorizedOperation: not allowed',
      code: 'UnauthorizedOperation',
    });
    expect(mock.commandCalls(RevokeSecurityGroupIngressCommand)[0]?.args[0].input).toEqual({
      GroupId: 'sg-1',
      DryRun: true,
      SecurityGroupRuleIds: ['sgr-1'],
    });
  });

  it('fails a revoke EC2 answers with the rule as unknown', async () => {
    // Prepare
    const { mock, target: ec2 } = target();
    mock
      .on(RevokeSecurityGroupIngressCommand)
      .resolves({ Return: true, UnknownIpPermissions: [{ IpProtocol: 'tcp' }] });
    // Act
    const change = ec2.changeSecurityGroup(
      'sg-1',
      {
        action: 'revoke',
        rule: { ...SSH_FROM_WORLD, description: 'x' },
      },
      { dryRun: false },
    );
    // Assess
    await expect(change).rejects.toMatchObject({ code: 'UnknownIpPermissions' });
    expect(mock.commandCalls(RevokeSecurityGroupIngressCommand)[0]?.args[0].input.IpPermissions).toEqual([
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ]);
  });

  it('reads numbered NACL entries and writes creates and deletes by number and direction', async () => {
    // Prepare
    const { mock, target: ec2 } = target();
    mock.on(DescribeNetworkAclsCommand).resolves({
      NetworkAcls: [
        {
          NetworkAclId: 'acl-1',
          Entries: [
            {
              RuleNumber: 100,
              Egress: false,
              Protocol: '6',
              RuleAction: 'allow',
              Ipv6CidrBlock: '::/0',
              PortRange: { From: 443, To: 443 },
            },
            { RuleNumber: 32767, Egress: false, Protocol: '-1', RuleAction: 'deny', CidrBlock: '0.0.0.0/0' },
          ],
        },
      ],
    });
    mock.on(CreateNetworkAclEntryCommand).resolves({});
    mock.on(DeleteNetworkAclEntryCommand).resolves({});
    // Act
    const entries = await ec2.describeNetworkAcls(['acl-1']);
    const entry = {
      ruleNumber: 110,
      egress: true,
      protocol: '1',
      action: 'allow' as const,
      cidr: '10.0.0.0/8',
      icmp: { type: -1, code: -1 },
    };
    await ec2.changeNetworkAcl('acl-1', { action: 'create', entry, reason: '' }, { dryRun: false });
    await ec2.changeNetworkAcl('acl-1', { action: 'delete', entry, reason: '' }, { dryRun: false });
    // Assess
    expect(entries.get('acl-1')).toEqual([
      {
        ruleNumber: 100,
        egress: false,
        protocol: '6',
        action: 'allow',
        cidr: '::/0',
        portRange: { from: 443, to: 443 },
      },
    ]);
    expect(mock.commandCalls(CreateNetworkAclEntryCommand)[0]?.args[0].input).toEqual({
      NetworkAclId: 'acl-1',
      RuleNumber: 110,
      Egress: true,
      DryRun: false,
      Protocol: '1',
      RuleAction: 'allow',
      CidrBlock: '10.0.0.0/8',
      IcmpTypeCode: { Type: -1, Code: -1 },
    });
    expect(mock.commandCalls(DeleteNetworkAclEntryCommand)[0]?.args[0].input).toEqual({
      NetworkAclId: 'acl-1',
      RuleNumber: 110,
      Egress: true,
      DryRun: false,
    });
  });
});
