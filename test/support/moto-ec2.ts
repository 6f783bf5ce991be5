/**
 * Seeding EC2 resources in moto_server for the end-to-end tests: each call creates one resource
 * and returns its id, failing plainly when moto leaves the id out.
 *
 * @example
 * const seed = ec2Seeder(ec2);
 * const vpcId = await seed.vpc('10.10.0.0/16', { ipv6: true });
 * const subnetId = await seed.subnet(vpcId, '10.10.1.0/24', 'ap-northeast-2a');
 * const web = await seed.securityGroup(vpcId, 'web', 'web tier');
 * await seed.ingress(web, [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]);
 * const eniId = await seed.networkInterface(subnetId, [web], { address: '10.10.1.10' });
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateFlowLogsCommand,
  type CreateFlowLogsCommandInput,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  type EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';

/**
 * The value moto returned, or an error naming what it left out.
 *
 * @example const topicArn = required(response.TopicArn, 'a topic ARN');
 */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`moto did not return ${what}`);
  return value;
}

export interface Ec2Seeder {
  /** A VPC; with `ipv6` set, whether Amazon gives it an IPv6 block. */
  vpc(cidr: string, options?: { readonly ipv6?: boolean }): Promise<string>;
  subnet(vpcId: string, cidr: string, availabilityZone: string): Promise<string>;
  securityGroup(vpcId: string, name: string, description: string): Promise<string>;
  /** Adds ingress permissions to a security group. */
  ingress(groupId: string, permissions: IpPermission[]): Promise<void>;
  networkInterface(
    subnetId: string,
    groups: string[],
    options?: { readonly address?: string; readonly description?: string },
  ): Promise<string>;
  /** One flow log; its id. */
  flowLog(input: CreateFlowLogsCommandInput): Promise<string>;
}

/**
 * The seeding calls on one EC2 client of moto.
 *
 * @example const vpcId = await ec2Seeder(ec2).vpc('10.20.0.0/16');
 */
export function ec2Seeder(ec2: EC2Client): Ec2Seeder {
  return {
    vpc: async (cidr, options = {}) => {
      const ipv6 = options.ipv6 === undefined ? {} : { AmazonProvidedIpv6CidrBlock: options.ipv6 };
      return required(
        (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr, ...ipv6 }))).Vpc?.VpcId,
        'a VPC id',
      );
    },
    subnet: async (vpcId, cidr, availabilityZone) =>
      required(
        (
          await ec2.send(
            new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: availabilityZone }),
          )
        ).Subnet?.SubnetId,
        'a subnet id',
      ),
    securityGroup: async (vpcId, name, description) =>
      required(
        (
          await ec2.send(
            new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: description }),
          )
        ).GroupId,
        'a group id',
      ),
    ingress: async (groupId, permissions) => {
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions }),
      );
    },
    networkInterface: async (subnetId, groups, options = {}) =>
      required(
        (
          await ec2.send(
            new CreateNetworkInterfaceCommand({
              SubnetId: subnetId,
              Groups: groups,
              PrivateIpAddress: options.address,
              Description: options.description,
            }),
          )
        ).NetworkInterface?.NetworkInterfaceId,
        'an ENI id',
      ),
    flowLog: async (input) =>
      required((await ec2.send(new CreateFlowLogsCommand(input))).FlowLogIds?.[0], 'a flow log id'),
  };
}
