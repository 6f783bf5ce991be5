import { targetOutcomes } from '../../../lambdas/rollup/contract';

describe('targetOutcomes', () => {
  it('reads audited targets and gaps, and names a malformed output', () => {
    const target = { accountId: '111111111111', region: 'eu-west-1' };
    expect(
      targetOutcomes([
        {
          status: 'audited',
          target,
          result: {
            runId: 'r',
            reportJsonKey: 'reports/111111111111/eu-west-1/x/report.json',
            htmlUrl: 'https://x',
          },
        },
        { status: 'gap', target, error: { Error: 'States.Timeout' } },
      ]).map((o) => o.status),
    ).toEqual(['audited', 'gap']);
    expect(() => targetOutcomes([{ status: 'audited', target }])).toThrow(
      /target result 0 is not a target outcome/,
    );
  });
});
