import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'hand-export');

interface Line {
  readonly file: string;
  readonly line: number;
  readonly values: readonly string[];
  readonly header: readonly string[];
}

function flowLogLines(): Line[] {
  const files = readdirSync(FIXTURE, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.log'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
  return files.flatMap((file) => {
    const [header = '', ...lines] = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    return lines.map((text, i) => ({
      file: path.basename(file),
      line: i + 2,
      values: text.split(' '),
      header: header.split(' '),
    }));
  });
}

describe('hand-export fixture', () => {
  it('holds the AWS CLI documents its README describes', () => {
    // Act
    const documents = ['security-groups.json', 'network-interfaces.json', 'flow-logs.json', 'vpcs.json'].map(
      (name) => JSON.parse(readFileSync(path.join(FIXTURE, name), 'utf8')) as Record<string, unknown[]>,
    );
    const [groups, interfaces, flowLogs, vpcs] = documents;

    // Assess
    expect(groups?.SecurityGroups).toHaveLength(4);
    expect(interfaces?.NetworkInterfaces).toHaveLength(6);
    expect(flowLogs?.FlowLogs).toHaveLength(1);
    expect(vpcs?.Vpcs).toHaveLength(1);
  });

  it('has 43 records, one NODATA line and one malformed line where the README says', () => {
    // Prepare
    const lines = flowLogLines();

    // Act
    const malformed = lines.filter((l) => l.values.length !== l.header.length);
    const wellFormed = lines.filter((l) => l.values.length === l.header.length);
    const status = (l: Line) => l.values[l.header.indexOf('log-status')];
    const action = (l: Line) => l.values[l.header.indexOf('action')];

    // Assess
    expect(malformed.map((l) => `${l.file}:${l.line}`)).toEqual([
      '111122223333_vpcflowlogs_ap-northeast-2_fl-0a1b2c3d4e5f67890_20250602T1010Z_8d4e7b61.log:16',
    ]);
    expect(wellFormed.filter((l) => status(l) === 'NODATA')).toHaveLength(1);
    expect(wellFormed.filter((l) => status(l) === 'OK' && action(l) === 'ACCEPT')).toHaveLength(40);
    expect(wellFormed.filter((l) => status(l) === 'OK' && action(l) === 'REJECT')).toHaveLength(3);
  });

  it('records the reply of every accepted record on the same ENI', () => {
    // Prepare
    const accepted = flowLogLines().filter(
      (l) => l.values.length === l.header.length && l.values[l.header.indexOf('action')] === 'ACCEPT',
    );
    const key = (l: Line, reverse: boolean) => {
      const field = (name: string) => l.values[l.header.indexOf(name)];
      const [src, sport, dst, dport] = reverse
        ? [field('dstaddr'), field('dstport'), field('srcaddr'), field('srcport')]
        : [field('srcaddr'), field('srcport'), field('dstaddr'), field('dstport')];
      return [field('interface-id'), src, sport, dst, dport, field('start')].join(' ');
    };
    const seen = new Set(accepted.map((l) => key(l, false)));

    // Act
    const withoutReply = accepted.filter((l) => !seen.has(key(l, true)));

    // Assess
    expect(withoutReply).toEqual([]);
  });
});
