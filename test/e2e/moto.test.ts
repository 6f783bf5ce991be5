import {
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { type MotoServer, motoClientConfig, resetMoto, startMoto } from '../support/moto';

describe('startMoto', () => {
  let moto: MotoServer | undefined;

  afterEach(async () => {
    await moto?.stop();
    moto = undefined;
  });

  it('serves the EC2 API on loopback until stopped', async () => {
    // Prepare
    moto = await startMoto();
    const ec2 = new EC2Client({ ...motoClientConfig(moto.endpoint), maxAttempts: 1 });

    // Act
    const vpcs = await ec2.send(new DescribeVpcsCommand({}));
    await moto.stop();
    const afterStop = ec2.send(new DescribeVpcsCommand({}));

    // Assess
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(vpcs.Vpcs?.length).toBeGreaterThan(0);
    await expect(afterStop).rejects.toThrow();
    ec2.destroy();
  });

  it('forgets created resources on resetMoto', async () => {
    // Prepare
    moto = await startMoto();
    const ec2 = new EC2Client(motoClientConfig(moto.endpoint));
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'to-forget', Description: 'reset test' }));

    // Act
    await resetMoto(moto.endpoint);
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({}));

    // Assess
    expect(groups.SecurityGroups?.map((g) => g.GroupName)).not.toContain('to-forget');
    ec2.destroy();
  });
});
