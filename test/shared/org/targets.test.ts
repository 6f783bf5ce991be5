import { InvalidValueError } from '../../../shared/errors';
import { gapKindOf, planTargets, targetGap, targetRunId } from '../../../shared/org/targets';
import { ASSUME_ROLE_DENIED } from './org-fixtures';

describe('planTargets', () => {
  it('crosses accounts and regions, sorted, each once, without the excluded accounts', () => {
    // Act
    const targets = planTargets({
      accounts: [
        { id: '222222222222', name: 'dev' },
        { id: '111111111111' },
        { id: '333333333333' },
        { id: '111111111111' },
      ],
      regions: ['us-east-1', 'eu-west-1', 'us-east-1'],
      excludeAccounts: ['333333333333'],
    });

    // Assess
    expect(targets).toEqual([
      { accountId: '111111111111', region: 'eu-west-1' },
      { accountId: '111111111111', region: 'us-east-1' },
      { accountId: '222222222222', region: 'eu-west-1', accountName: 'dev' },
      { accountId: '222222222222', region: 'us-east-1', accountName: 'dev' },
    ]);
  });

  it('refuses an account id that is not 12 digits, and a malformed region', () => {
    expect(() => planTargets({ accounts: [{ id: '1234' }], regions: ['eu-west-1'] })).toThrow(
      InvalidValueError,
    );
    expect(() => planTargets({ accounts: [{ id: '111111111111' }], regions: ['Europe'] })).toThrow(
      /'Europe' is not a region name/,
    );
  });
});

describe('targetRunId', () => {
  it('is a valid execution name, unique per target', () => {
    const id = targetRunId('20261116T000000Z-7f3a9c', {
      accountId: '111111111111',
      region: 'ap-southeast-2',
    });
    expect(id).toBe('20261116T000000Z-7f3a9c-111111111111-ap-southeast-2');
    expect(id).toMatch(/^[A-Za-z0-9._=-]{1,80}$/);
    expect(
      targetRunId('x'.repeat(128), { accountId: '111111111111', region: 'ap-southeast-2' }).length,
    ).toBeLessThanOrEqual(80);
  });
});

describe('gapKindOf', () => {
  it('names a role that cannot be assumed, a region that is not enabled, anything else failed', () => {
    expect(gapKindOf(ASSUME_ROLE_DENIED)).toBe('role-unavailable');
    expect(gapKindOf({ name: 'UnauthorizedOperation', message: 'not allowed: ec2:DescribeVpcs' })).toBe(
      'role-unavailable',
    );
    expect(gapKindOf({ name: 'OptInRequired', message: 'You are not subscribed to this service.' })).toBe(
      'region-unavailable',
    );
    expect(gapKindOf({ name: 'States.Timeout', message: 'timed out' })).toBe('failed');
  });
});

describe('targetGap', () => {
  it('keeps the step and at most 1,000 characters of the message', () => {
    const gap = targetGap({ name: 'Error', message: 'x'.repeat(5_000) }, 'Analyze');
    expect(gap).toMatchObject({ kind: 'failed', step: 'Analyze', error: { name: 'Error' } });
    expect(gap.error.message).toHaveLength(1_000);
  });
});
