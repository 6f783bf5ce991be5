import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { createAppLogGroup, LOGS_KEY_ACTIONS, logGroupArn } from '../../lib/log-group';
import { testApp } from '../support/test-app';

const ENV = { account: '123456789012', region: 'ap-northeast-2' };

/** A stack with one key and whatever `build` adds; its template. */
function synthesize(build: (stack: Stack, key: kms.Key) => void): Template {
  const stack = new Stack(testApp(), 'LogGroupTest', { env: ENV });
  build(stack, new kms.Key(stack, 'Key'));
  return Template.fromStack(stack);
}

/** The key policy statements whose principal is CloudWatch Logs. */
function logsStatements(template: Template): unknown[] {
  const [key] = Object.values(template.findResources('AWS::KMS::Key'));
  const statements = (key?.Properties.KeyPolicy.Statement ?? []) as { Principal?: { Service?: string } }[];
  return statements.filter((s) => s.Principal?.Service?.startsWith('logs.'));
}

describe('logGroupArn', () => {
  it('builds the ARN CloudWatch Logs puts in the encryption context, from the name', () => {
    // Prepare
    const stack = new Stack(testApp(), 'Arn', { env: ENV });

    // Act
    const arn = stack.resolve(logGroupArn(stack, '/aws/lambda/Audit-discover'));

    // Assess: no trailing :* (that is the IAM form for log streams)
    expect(arn).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':logs:ap-northeast-2:123456789012:log-group:/aws/lambda/Audit-discover',
        ],
      ],
    });
  });
});

describe('createAppLogGroup', () => {
  it("encrypts with the app key and lets the region's CloudWatch Logs use it for this log group only", () => {
    // Prepare / Act
    const template = synthesize((stack, key) =>
      createAppLogGroup(stack, 'Logs', {
        logGroupName: '/aws/lambda/Audit-discover',
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
        encryptionKey: key,
      }),
    );

    // Assess
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/Audit-discover',
      RetentionInDays: 30,
      KmsKeyId: { 'Fn::GetAtt': ['Key961B73FD', 'Arn'] },
    });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    expect(logsStatements(template)).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'logs.ap-northeast-2.amazonaws.com' },
        Action: [...LOGS_KEY_ACTIONS],
        Resource: '*',
        Condition: {
          ArnEquals: {
            'kms:EncryptionContext:aws:logs:arn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':logs:ap-northeast-2:123456789012:log-group:/aws/lambda/Audit-discover',
                ],
              ],
            },
          },
        },
      },
    ]);
  });

  it('deletes the log group with its stack by default, so a redeploy under the same name succeeds', () => {
    // Prepare / Act
    const template = synthesize((stack, key) =>
      createAppLogGroup(stack, 'Logs', {
        logGroupName: '/aws/vendedlogs/states/Audit',
        retention: logs.RetentionDays.ONE_YEAR,
        encryptionKey: key,
      }),
    );

    // Assess
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  it('retains the log group when asked', () => {
    // Prepare / Act
    const template = synthesize((stack) =>
      createAppLogGroup(stack, 'Logs', {
        logGroupName: '/app/kept',
        retention: logs.RetentionDays.ONE_YEAR,
        removalPolicy: RemovalPolicy.RETAIN,
      }),
    );

    // Assess
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });

  it('adds one statement per log group, each naming its own ARN', () => {
    // Prepare / Act
    const template = synthesize((stack, key) => {
      for (const name of ['/app/a', '/app/b']) {
        createAppLogGroup(stack, name, {
          logGroupName: name,
          retention: logs.RetentionDays.ONE_WEEK,
          encryptionKey: key,
        });
      }
    });

    // Assess
    const arns = logsStatements(template).map((s) => JSON.stringify(s).match(/log-group:([^"]+)/)?.[1]);
    expect(arns).toEqual(['/app/a', '/app/b']);
  });

  it('leaves the log group on CloudWatch Logs encryption and the key policy alone without a key', () => {
    // Prepare / Act
    const template = synthesize((stack) =>
      createAppLogGroup(stack, 'Logs', {
        logGroupName: '/app/plain',
        retention: logs.RetentionDays.ONE_WEEK,
      }),
    );

    // Assess
    const [group] = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(group?.Properties).not.toHaveProperty('KmsKeyId');
    expect(logsStatements(template)).toEqual([]);
  });

  it('uses an imported key without touching its policy (granted outside the app)', () => {
    // Prepare / Act
    const template = synthesize((stack) => {
      const imported = kms.Key.fromKeyArn(
        stack,
        'Imported',
        'arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      );
      createAppLogGroup(stack, 'Logs', {
        logGroupName: '/app/imported',
        retention: logs.RetentionDays.ONE_WEEK,
        encryptionKey: imported,
      });
    });

    // Assess
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: 'arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    expect(logsStatements(template)).toEqual([]);
  });
});
