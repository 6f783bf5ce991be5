import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3EgressAllowList, S3Suppressions } from '../../../adapters/aws/s3-suppressions';
import { PARTNER_ALLOWLIST_YAML } from '../../support/egress-allowlist';

const s3Mock = mockClient(S3Client);
const BUCKET = 'sg-audit-reports';
const KEY = 'config/suppressions.yaml';

function body(text: string) {
  return { Body: { transformToString: async () => text } as never };
}

function s3Error(name: string) {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: {} });
}

beforeEach(() => {
  s3Mock.reset();
});

describe('S3Suppressions.read', () => {
  it('parses the object, naming it by its s3:// location', async () => {
    // Prepare
    const yaml = [
      'version: 1',
      'suppressions:',
      '  - id: bastion-ssh',
      '    owner: platform-team',
      '    reason: bastion by design',
      '    expires: 2099-12-31',
      '    match: { sgId: sg-0123456789abcdef0 }',
    ].join('\n');
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: KEY }).resolves(body(yaml));

    // Act
    const lookup = await new S3Suppressions({ s3: new S3Client({}), bucket: BUCKET }).read(KEY);

    // Assess
    expect(lookup.found).toBe(true);
    expect(lookup.location).toBe(`s3://${BUCKET}/${KEY}`);
    if (lookup.found) {
      expect(lookup.suppressions.file).toBe(`s3://${BUCKET}/${KEY}`);
      expect(lookup.suppressions.suppressions.map((s) => s.id)).toEqual(['bastion-ssh']);
    }
  });

  it('reports a missing object as not found', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).rejects(s3Error('NoSuchKey'));

    // Act
    const lookup = await new S3Suppressions({ s3: new S3Client({}), bucket: BUCKET }).read(KEY);

    // Assess
    expect(lookup).toEqual({ found: false, location: `s3://${BUCKET}/${KEY}` });
  });

  it('fails naming the entry when the file is malformed', async () => {
    // Prepare
    const yaml = [
      'version: 1',
      'suppressions:',
      '  - id: partner-cidr',
      '    owner: integrations',
      '    reason: partner range',
      '    expires: next year',
      '    match: { vpcId: vpc-0a1b2c3d }',
    ].join('\n');
    s3Mock.on(GetObjectCommand).resolves(body(yaml));

    // Act
    const read = new S3Suppressions({ s3: new S3Client({}), bucket: BUCKET }).read(KEY);

    // Assess
    await expect(read).rejects.toMatchObject({
      name: 'InputError',
      file: `s3://${BUCKET}/${KEY}`,
      message: expect.stringContaining('suppressions[0] (partner-cidr)'),
    });
  });

  it('fails with SuppressionsReadError when the object cannot be read', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).rejects(s3Error('AccessDenied'));

    // Act
    const read = new S3Suppressions({ s3: new S3Client({}), bucket: BUCKET }).read(KEY);

    // Assess
    await expect(read).rejects.toMatchObject({
      name: 'SuppressionsReadError',
      bucket: BUCKET,
      key: KEY,
      message: `cannot read the suppressions file s3://${BUCKET}/${KEY}: AccessDenied: AccessDenied happened`,
    });
  });
});

describe('S3EgressAllowList.read', () => {
  const ALLOW_KEY = 'config/egress-allowlist.yaml';

  it('parses the object, naming it by its s3:// location', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: ALLOW_KEY }).resolves(body(PARTNER_ALLOWLIST_YAML));

    // Act
    const lookup = await new S3EgressAllowList({ s3: new S3Client({}), bucket: BUCKET }).read(ALLOW_KEY);

    // Assess
    expect(lookup.found).toBe(true);
    expect(lookup.location).toBe(`s3://${BUCKET}/${ALLOW_KEY}`);
    if (lookup.found) {
      expect(lookup.allowList.file).toBe(`s3://${BUCKET}/${ALLOW_KEY}`);
      expect(lookup.allowList.entries.map((e) => e.id)).toEqual(['partner-api']);
    }
  });

  it('reports a missing object as not found', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).rejects(s3Error('NoSuchKey'));

    // Act
    const lookup = await new S3EgressAllowList({ s3: new S3Client({}), bucket: BUCKET }).read(ALLOW_KEY);

    // Assess
    expect(lookup).toEqual({ found: false, location: `s3://${BUCKET}/${ALLOW_KEY}` });
  });

  it('fails naming the entry when the file is malformed', async () => {
    // Prepare
    s3Mock
      .on(GetObjectCommand)
      .resolves(body(PARTNER_ALLOWLIST_YAML.replace('cidr: 203.0.113.0/24', 'cidr: partner')));

    // Act
    const read = new S3EgressAllowList({ s3: new S3Client({}), bucket: BUCKET }).read(ALLOW_KEY);

    // Assess
    await expect(read).rejects.toMatchObject({
      name: 'InputError',
      file: `s3://${BUCKET}/${ALLOW_KEY}`,
      message: expect.stringContaining('destinations[0] (partner-api)'),
    });
  });

  it('fails with EgressAllowListReadError when the object cannot be read', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).rejects(s3Error('AccessDenied'));

    // Act
    const read = new S3EgressAllowList({ s3: new S3Client({}), bucket: BUCKET }).read(ALLOW_KEY);

    // Assess
    await expect(read).rejects.toMatchObject({
      name: 'EgressAllowListReadError',
      bucket: BUCKET,
      key: ALLOW_KEY,
      message: `cannot read the egress allow-list s3://${BUCKET}/${ALLOW_KEY}: AccessDenied: AccessDenied happened`,
    });
  });
});
