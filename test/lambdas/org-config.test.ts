import { ConfigError, loadConfig } from '../../lambdas/config';

const BASE = { WORK_BUCKET: 'sg-audit-work', REPORT_BUCKET: 'sg-audit-reports' };

describe('loadConfig, organization settings', () => {
  it("reads the targets function's accounts ('all' or a list), excluded accounts and regions", () => {
    expect(
      loadConfig('targets', {
        ...BASE,
        ORG_ACCOUNTS: 'ALL',
        ORG_REGIONS: 'eu-west-1, us-east-1,eu-west-1',
        ORG_EXCLUDE_ACCOUNTS: '333333333333',
      }).organization,
    ).toEqual({ accounts: 'all', excludeAccounts: ['333333333333'], regions: ['eu-west-1', 'us-east-1'] });
    expect(
      loadConfig('targets', { ...BASE, ORG_ACCOUNTS: '111111111111,222222222222', ORG_REGIONS: 'eu-west-1' })
        .organization,
    ).toEqual({ accounts: ['111111111111', '222222222222'], excludeAccounts: [], regions: ['eu-west-1'] });
  });

  it('requires the targets of the targets function, and both settings together', () => {
    expect(() => loadConfig('targets', BASE)).toThrow(/ORG_REGIONS is required by the targets function/);
    expect(() => loadConfig('discover', { ...BASE, ORG_REGIONS: 'eu-west-1' })).toThrow(
      /ORG_ACCOUNTS is required with ORG_ACCOUNTS and ORG_REGIONS/,
    );
  });

  it('refuses malformed accounts, regions, role names and external ids, naming each variable', () => {
    let error: unknown;
    try {
      loadConfig('discover', {
        ...BASE,
        ORG_ACCOUNTS: '1234',
        ORG_REGIONS: 'Europe',
        MEMBER_ROLE_NAME: 'role with spaces',
        MEMBER_EXTERNAL_ID: 'x',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual(
      expect.arrayContaining(['ORG_ACCOUNTS', 'ORG_REGIONS', 'MEMBER_ROLE_NAME', 'MEMBER_EXTERNAL_ID']),
    );
  });

  it('reads the member role of the target steps, its external id only with a role name', () => {
    expect(
      loadConfig('query', { ...BASE, MEMBER_ROLE_NAME: 'SgAuditMember', MEMBER_EXTERNAL_ID: 'ext-123' })
        .memberRole,
    ).toEqual({
      roleName: 'SgAuditMember',
      externalId: 'ext-123',
    });
    expect(loadConfig('query', BASE).memberRole).toBeUndefined();
    expect(() => loadConfig('query', { ...BASE, MEMBER_EXTERNAL_ID: 'ext-123' })).toThrow(
      /MEMBER_ROLE_NAME is required when MEMBER_EXTERNAL_ID is set/,
    );
  });
});
