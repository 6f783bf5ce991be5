import type { NetworkInterface, ResourceType } from '../../../shared/model/inventory';
import {
  classifyAll,
  classifyEni,
  isLoadBalancerLike,
  MANUAL_CHECK_BASIS,
} from '../../../shared/resources/classify';
import { InventoryBuilder, networkInterface } from '../../../testkit/inventory-builder';

function eni(extra: Partial<NetworkInterface>): NetworkInterface {
  return networkInterface('eni-0abc', extra);
}

describe('classifyEni', () => {
  it.each<[string, Partial<NetworkInterface>, ResourceType, string, string]>([
    [
      'a Lambda hyperplane ENI by InterfaceType, naming the function',
      {
        interfaceType: 'lambda',
        description: 'AWS Lambda VPC ENI-order-api-prod-0f0e4c1a-4b7e-4d5c-9a4e-1234567890ab',
      },
      'lambda',
      'order-api-prod',
      "InterfaceType 'lambda'",
    ],
    [
      'a NAT gateway by InterfaceType (CLI spelling)',
      { interfaceType: 'nat_gateway', description: 'Interface for NAT Gateway nat-0a1b2c3d4e5f60718' },
      'nat-gateway',
      'nat-0a1b2c3d4e5f60718',
      "InterfaceType 'nat_gateway'",
    ],
    [
      'a NAT gateway by InterfaceType (API spelling)',
      { interfaceType: 'natGateway', description: 'Interface for NAT Gateway nat-0a1b2c3d4e5f60718' },
      'nat-gateway',
      'nat-0a1b2c3d4e5f60718',
      "InterfaceType 'natGateway'",
    ],
    [
      'an interface endpoint by InterfaceType',
      { interfaceType: 'vpc_endpoint', description: 'VPC Endpoint Interface vpce-0123456789abcdef0' },
      'vpc-endpoint',
      'vpce-0123456789abcdef0',
      "InterfaceType 'vpc_endpoint'",
    ],
    [
      'a Gateway Load Balancer endpoint as an endpoint',
      {
        interfaceType: 'gateway_load_balancer_endpoint',
        description: 'VPC Endpoint Interface vpce-0fedcba9876543210',
      },
      'vpc-endpoint',
      'vpce-0fedcba9876543210',
      "InterfaceType 'gateway_load_balancer_endpoint'",
    ],
    [
      'an NLB by InterfaceType, naming the balancer',
      { interfaceType: 'network_load_balancer', description: 'ELB net/api-nlb/1a2b3c4d5e6f7a8b' },
      'elb',
      'api-nlb',
      "InterfaceType 'network_load_balancer'",
    ],
    [
      'a GWLB by InterfaceType',
      { interfaceType: 'gateway_load_balancer', description: 'ELB gwy/inspect/0a0b0c0d0e0f0a0b' },
      'elb',
      'inspect',
      "InterfaceType 'gateway_load_balancer'",
    ],
    [
      'an EFS mount target by InterfaceType',
      { interfaceType: 'efs', description: 'EFS mount target for fs-0a1b2c3d (fsmt-0e1f2a3b)' },
      'efs',
      'fsmt-0e1f2a3b',
      "InterfaceType 'efs'",
    ],
    [
      'a transit gateway attachment by InterfaceType',
      {
        interfaceType: 'transit_gateway',
        description: 'Network Interface for Transit Gateway Attachment tgw-attach-0a1b2c3d4e5f60718',
      },
      'transit-gateway',
      'tgw-attach-0a1b2c3d4e5f60718',
      "InterfaceType 'transit_gateway'",
    ],
    [
      'an API Gateway VPC link ENI by InterfaceType',
      { interfaceType: 'api_gateway_managed', description: 'ENI managed by APIGateway' },
      'api-gateway',
      'eni-0abc',
      "InterfaceType 'api_gateway_managed'",
    ],
  ])('classifies %s', (_, extra, type, name, basis) => {
    // Prepare
    const subject = eni(extra);

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource).toMatchObject({ type, name, basis });
  });

  it('gives an ALB the id app/<name>/<id> and the balancer name from its description', () => {
    // Prepare
    const subject = eni({ description: 'ELB app/web-alb/50dc6c495c0c9188', requesterId: 'amazon-elb' });

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource).toEqual({
      type: 'elb',
      id: 'app/web-alb/50dc6c495c0c9188',
      name: 'web-alb',
      basis: "Description 'ELB app/web-alb/50dc6c495c0c9188'",
    });
  });

  it('names a classic load balancer from "ELB <name>"', () => {
    // Prepare
    const subject = eni({ description: 'ELB legacy-web' });

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource).toMatchObject({ type: 'elb', id: 'legacy-web', name: 'legacy-web' });
  });

  it.each<[string, Partial<NetworkInterface>, ResourceType, string, string]>([
    [
      'Lambda from its description when InterfaceType is generic',
      { description: 'AWS Lambda VPC ENI-billing-worker-0f0e4c1a-4b7e-4d5c-9a4e-1234567890ab' },
      'lambda',
      'billing-worker',
      'billing-worker',
    ],
    ['RDS from RDSNetworkInterface', { description: 'RDSNetworkInterface' }, 'rds', 'eni-0abc', 'eni-0abc'],
    [
      'an RDS proxy',
      { description: 'Network interface for DBProxy orders-proxy' },
      'rds',
      'orders-proxy',
      'orders-proxy',
    ],
    [
      'a NAT gateway from its description',
      { description: 'Interface for NAT Gateway nat-0aa' },
      'nat-gateway',
      'nat-0aa',
      'nat-0aa',
    ],
    [
      'an endpoint from its description',
      { description: 'VPC Endpoint Interface vpce-0bb' },
      'vpc-endpoint',
      'vpce-0bb',
      'vpce-0bb',
    ],
    [
      'an ECS task from its attachment ARN',
      {
        description:
          'arn:aws:ecs:ap-northeast-2:123456789012:attachment/7d1e4b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      },
      'ecs',
      'arn:aws:ecs:ap-northeast-2:123456789012:attachment/7d1e4b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      'attachment/7d1e4b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
    ],
    [
      'an EFS mount target from its description, id = the file system',
      { description: 'EFS mount target for fs-0a1b2c3d (fsmt-0e1f2a3b)' },
      'efs',
      'fs-0a1b2c3d',
      'fsmt-0e1f2a3b',
    ],
    [
      'an ElastiCache node from its description',
      { description: 'ElastiCache sessions-0001-001', requesterId: 'amazon-elasticache' },
      'elasticache',
      'sessions-0001-001',
      'sessions-0001-001',
    ],
    [
      'the EKS control plane ENI even though AWS attaches it to an instance',
      {
        description: 'Amazon EKS prod-cluster',
        attachment: { instanceId: 'i-0aws', instanceOwnerId: '298800981437' },
      },
      'eks',
      'prod-cluster',
      'prod-cluster',
    ],
    [
      'a transit gateway attachment from its description',
      { description: 'Network Interface for Transit Gateway Attachment tgw-attach-0cc' },
      'transit-gateway',
      'tgw-attach-0cc',
      'tgw-attach-0cc',
    ],
  ])('classifies %s', (_, extra, type, id, name) => {
    // Prepare
    const subject = eni(extra);

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource).toMatchObject({ type, id, name });
    expect(resource.basis).toContain('Description');
  });

  it('names an ECS task by its service tag when ECS propagated tags', () => {
    // Prepare
    const subject = eni({
      interfaceType: 'branch',
      description: 'arn:aws:ecs:us-east-1:123456789012:attachment/abc-123',
      tags: { 'aws:ecs:serviceName': 'checkout', 'aws:ecs:clusterName': 'prod' },
    });

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource).toMatchObject({ type: 'ecs', name: 'checkout' });
  });

  it.each(['eks:cluster-name', 'cluster.k8s.amazonaws.com/name'])('classifies EKS by the %s tag', (key) => {
    // Prepare
    const subject = eni({
      description: 'aws-K8S-i-0a1b2c3d4e5f60718',
      attachment: { instanceId: 'i-0a1b2c3d4e5f60718' },
      tags: { [key]: 'payments' },
    });

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource).toEqual({ type: 'eks', id: 'payments', name: 'payments', basis: `tag ${key}` });
  });

  it('classifies ElastiCache by RequesterId when the description says nothing', () => {
    // Prepare
    const subject = eni({ requesterId: 'amazon-elasticache', requesterManaged: true });

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource).toMatchObject({ type: 'elasticache', basis: "RequesterId 'amazon-elasticache'" });
  });

  it('classifies an attached instance as ec2, named by the instance Name from the hints', () => {
    // Prepare
    const subject = eni({ attachment: { instanceId: 'i-0123' }, tags: { Name: 'eth1-of-bastion' } });
    const hints = { instanceNames: new Map([['i-0123', 'bastion']]) };

    // Act
    const resource = classifyEni(subject, hints);

    // Assess
    expect(resource).toEqual({ type: 'ec2', id: 'i-0123', name: 'bastion', basis: 'Attachment.InstanceId' });
  });

  it('names an ec2 ENI by its Name tag without hints, else by the instance id', () => {
    // Prepare
    const tagged = eni({ attachment: { instanceId: 'i-0123' }, tags: { Name: 'web-1' } });
    const untagged = eni({ attachment: { instanceId: 'i-0456' } });

    // Act
    const resources = [classifyEni(tagged), classifyEni(untagged)];

    // Assess
    expect(resources.map((r) => r.name)).toEqual(['web-1', 'i-0456']);
  });

  it('classifies an EFA interface by its instance attachment', () => {
    // Prepare
    const subject = eni({ interfaceType: 'efa', attachment: { instanceId: 'i-0hpc' } });

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource).toMatchObject({ type: 'ec2', id: 'i-0hpc' });
  });

  it("falls back to other with basis 'manual check needed' when nothing identifies the ENI", () => {
    // Prepare
    const subject = eni({ description: 'hand-made interface' });

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource).toEqual({
      type: 'other',
      id: 'eni-0abc',
      name: 'hand-made interface',
      basis: MANUAL_CHECK_BASIS,
    });
  });

  it('says which service an other-typed ENI belongs to when it is recognisable', () => {
    // Prepare
    const subject = eni({ description: 'RedshiftNetworkInterface' });

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource.type).toBe('other');
    expect(resource.basis).toContain('Redshift');
  });

  it('flags an unidentified trunking branch ENI for a manual check', () => {
    // Prepare
    const subject = eni({ interfaceType: 'branch' });

    // Act
    const resource = classifyEni(subject);

    // Assess
    expect(resource.type).toBe('other');
    expect(resource.basis).toContain(MANUAL_CHECK_BASIS);
    expect(resource.basis).toContain('trunking');
  });
});

describe('isLoadBalancerLike', () => {
  it('holds for elb, api-gateway and vpc-endpoint only', () => {
    // Prepare
    const types: ResourceType[] = [
      'elb',
      'api-gateway',
      'vpc-endpoint',
      'ec2',
      'lambda',
      'nat-gateway',
      'other',
    ];

    // Act
    const likes = types.filter(isLoadBalancerLike);

    // Assess
    expect(likes).toEqual(['elb', 'api-gateway', 'vpc-endpoint']);
  });
});

describe('classifyAll', () => {
  it('keys every ENI of the inventory by its id', () => {
    // Prepare
    const inventory = new InventoryBuilder()
      .eni('eni-1', { interfaceType: 'lambda', description: 'AWS Lambda VPC ENI-fn' })
      .eni('eni-2', { attachment: { instanceId: 'i-1' } })
      .build();

    // Act
    const resources = classifyAll(inventory);

    // Assess
    expect([...resources.entries()].map(([id, r]) => [id, r.type, r.name])).toEqual([
      ['eni-1', 'lambda', 'fn'],
      ['eni-2', 'ec2', 'i-1'],
    ]);
  });
});
