import { isRdsInstanceEni, nameRdsEnis, type RdsInstanceFacts } from '../../../adapters/aws/ec2-rds-names';
import type { NetworkInterface } from '../../../shared/model/inventory';

function rdsEni(id: string, overrides: Partial<NetworkInterface> = {}): NetworkInterface {
  return {
    id,
    vpcId: 'vpc-1',
    subnetId: 'subnet-a',
    interfaceType: 'interface',
    description: 'RDSNetworkInterface',
    requesterId: 'amazon-rds',
    requesterManaged: true,
    privateIpv4: ['10.0.1.20'],
    ipv6: [],
    publicIpv4: [],
    sgIds: ['sg-db'],
    tags: {},
    ...overrides,
  };
}

function db(identifier: string, overrides: Partial<RdsInstanceFacts> = {}): RdsInstanceFacts {
  return {
    identifier,
    vpcId: 'vpc-1',
    subnetIds: ['subnet-a', 'subnet-b'],
    sgIds: ['sg-db'],
    endpointAddress: `${identifier}.abc.ap-northeast-2.rds.amazonaws.com`,
    ...overrides,
  };
}

describe('isRdsInstanceEni', () => {
  it('recognises DB instance ENIs but not RDS Proxy ENIs', () => {
    // Prepare
    const instance = rdsEni('eni-1');
    const byRequester = rdsEni('eni-2', { description: '' });
    const proxy = rdsEni('eni-3', { description: 'Network interface for DBProxy orders-proxy' });

    // Act
    const verdicts = [instance, byRequester, proxy].map(isRdsInstanceEni);

    // Assess
    expect(verdicts).toEqual([true, true, false]);
  });
});

describe('nameRdsEnis', () => {
  it('names an ENI after the one DB instance with its VPC, subnet and security groups', async () => {
    // Prepare
    const enis = [rdsEni('eni-1'), rdsEni('eni-2', { sgIds: ['sg-other'] })];
    const instances = [db('orders'), db('billing', { sgIds: ['sg-db', 'sg-extra'] })];

    // Act
    const { names, unmatched } = await nameRdsEnis(enis, instances);

    // Assess
    expect(names).toEqual(new Map([['eni-1', 'orders']]));
    expect(unmatched).toEqual(['eni-2']);
  });

  it('tells look-alike instances apart by the endpoint address when a resolver is given', async () => {
    // Prepare
    const enis = [rdsEni('eni-1', { privateIpv4: ['10.0.1.21'] })];
    const instances = [db('orders'), db('billing')];
    const addresses: Record<string, string[]> = {
      'orders.abc.ap-northeast-2.rds.amazonaws.com': ['10.0.1.20'],
      'billing.abc.ap-northeast-2.rds.amazonaws.com': ['10.0.1.21'],
    };
    const resolve = async (host: string) => addresses[host] ?? [];

    // Act
    const withResolver = await nameRdsEnis(enis, instances, resolve);
    const withoutResolver = await nameRdsEnis(enis, instances);

    // Assess
    expect(withResolver.names.get('eni-1')).toBe('billing');
    expect(withoutResolver.names.size).toBe(0);
    expect(withoutResolver.unmatched).toEqual(['eni-1']);
  });

  it('names an ENI after the Aurora cluster when only its members match', async () => {
    // Prepare
    const enis = [rdsEni('eni-1')];
    const instances = [
      db('orders-1', { clusterIdentifier: 'orders' }),
      db('orders-2', { clusterIdentifier: 'orders' }),
    ];

    // Act
    const { names } = await nameRdsEnis(enis, instances, async () => {
      throw new Error('no DNS here');
    });

    // Assess
    expect(names.get('eni-1')).toBe('cluster orders');
  });

  it('ignores ENIs that are not RDS instance ENIs', async () => {
    // Prepare
    const enis = [rdsEni('eni-web', { description: 'Primary network interface', requesterId: undefined })];

    // Act
    const { names, unmatched } = await nameRdsEnis(enis, [db('orders')]);

    // Assess
    expect(names.size).toBe(0);
    expect(unmatched).toEqual([]);
  });
});
