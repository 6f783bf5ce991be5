import fc from 'fast-check';
import { FlowLogFormatError } from '../../../shared/errors';
import {
  columnName,
  DEFAULT_FIELDS,
  DEFAULT_LOG_FORMAT,
  FLOW_LOG_FIELDS,
  fieldsFromHeader,
  flowLogField,
  formatVersion,
  hasField,
  parseLogFormat,
  REQUIRED_FIELDS,
  requiredFieldsMissing,
} from '../../../shared/flow/format';

const V2_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('FLOW_LOG_FIELDS', () => {
  it('names every field once', () => {
    // Prepare
    const names = FLOW_LOG_FIELDS.map((f) => f.name);

    // Act
    const unique = new Set(names);

    // Assess
    expect(unique.size).toBe(names.length);
  });

  it('types ports, counters, times and flags as int and addresses as string', () => {
    // Prepare
    const ints = [
      'srcport',
      'dstport',
      'protocol',
      'packets',
      'bytes',
      'start',
      'end',
      'tcp-flags',
      'version',
    ];

    // Act
    const types = Object.fromEntries(FLOW_LOG_FIELDS.map((f) => [f.name, f.type]));

    // Assess
    for (const name of ints) expect(types[name]).toBe('int');
    expect(types.srcaddr).toBe('string');
    expect(types['pkt-srcaddr']).toBe('string');
    expect(types['interface-id']).toBe('string');
  });

  it('dates the custom fields by the version that introduced them', () => {
    // Act
    const versions = ['tcp-flags', 'az-id', 'flow-direction', 'ecs-task-id', 'reject-reason'].map(
      (name) => flowLogField(name)?.version,
    );

    // Assess
    expect(versions).toEqual([3, 4, 5, 7, 8]);
  });
});

describe('DEFAULT_FIELDS', () => {
  it('is the v2 default format in AWS order', () => {
    // Act
    const fields = DEFAULT_FIELDS.join(' ');

    // Assess
    expect(fields).toBe(V2_HEADER);
  });
});

describe('parseLogFormat', () => {
  it('reads the default format as the default fields', () => {
    // Act
    const fields = parseLogFormat(DEFAULT_LOG_FORMAT);

    // Assess
    expect(fields).toEqual([...DEFAULT_FIELDS]);
  });

  it('keeps the order of a custom format', () => {
    // Prepare
    const format = '${interface-id}  ${pkt-srcaddr} ${tcp-flags}\t${srcaddr}';

    // Act
    const fields = parseLogFormat(format);

    // Assess
    expect(fields).toEqual(['interface-id', 'pkt-srcaddr', 'tcp-flags', 'srcaddr']);
  });

  it('throws FlowLogFormatError naming an unknown field', () => {
    // Act
    const error = thrown(() => parseLogFormat('${srcaddr} ${dst-address}'));

    // Assess
    expect(error).toBeInstanceOf(FlowLogFormatError);
    expect((error as Error).message).toContain("'dst-address'");
  });

  it('throws when the format holds text that is not a ${field} token', () => {
    // Act
    const error = thrown(() => parseLogFormat('${srcaddr} dstaddr'));

    // Assess
    expect(error).toBeInstanceOf(FlowLogFormatError);
    expect((error as Error).message).toContain("'dstaddr'");
  });

  it('throws when the format is empty or names a field twice', () => {
    // Act
    const empty = thrown(() => parseLogFormat('  '));
    const twice = thrown(() => parseLogFormat('${srcaddr} ${srcaddr}'));

    // Assess
    expect(empty).toBeInstanceOf(FlowLogFormatError);
    expect((twice as Error).message).toContain('twice');
  });
});

describe('fieldsFromHeader', () => {
  it('reads the field names of an S3 text header', () => {
    // Act
    const fields = fieldsFromHeader(`${V2_HEADER}\r`);

    // Assess
    expect(fields).toEqual([...DEFAULT_FIELDS]);
  });

  it('normalises Parquet/Athena underscore names to hyphenated field names', () => {
    // Act
    const fields = fieldsFromHeader('\uFEFFversion interface_id log_status tcp_flags pkt_srcaddr');

    // Assess
    expect(fields).toEqual(['version', 'interface-id', 'log-status', 'tcp-flags', 'pkt-srcaddr']);
  });

  it('throws FlowLogFormatError naming the file and the token when the first line is a record', () => {
    // Prepare
    const record =
      '2 123456789012 eni-0a1b 10.0.0.1 10.0.0.2 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK';

    // Act
    const error = thrown(() => fieldsFromHeader(record, { file: 'flowlogs/a.log.gz' }));

    // Assess
    expect(error).toBeInstanceOf(FlowLogFormatError);
    expect((error as FlowLogFormatError).file).toBe('flowlogs/a.log.gz');
    expect((error as Error).message).toMatch(/^flowlogs\/a\.log\.gz: line 1: .*'2'/);
  });

  it('keeps well-formed unknown names only when asked to', () => {
    // Prepare
    const header = 'interface-id srcaddr future-field';

    // Act
    const strict = thrown(() => fieldsFromHeader(header));
    const lenient = fieldsFromHeader(header, { allowUnknownFields: true });

    // Assess
    expect(strict).toBeInstanceOf(FlowLogFormatError);
    expect(lenient).toEqual(['interface-id', 'srcaddr', 'future-field']);
  });

  it('rejects an empty header line', () => {
    // Act
    const error = thrown(() => fieldsFromHeader(''));

    // Assess
    expect(error).toBeInstanceOf(FlowLogFormatError);
  });

  it('reads back any format written as a header or a LogFormat', () => {
    // Prepare
    const formats = fc.shuffledSubarray(
      FLOW_LOG_FIELDS.map((f) => f.name),
      { minLength: 1 },
    );

    // Act & Assess
    fc.assert(
      fc.property(formats, (fields) => {
        expect(fieldsFromHeader(fields.join(' '))).toEqual(fields);
        expect(fieldsFromHeader(fields.map(columnName).join(' '))).toEqual(fields);
        expect(parseLogFormat(fields.map((f) => `\${${f}}`).join(' '))).toEqual(fields);
      }),
    );
  });
});

describe('columnName', () => {
  it('turns hyphens into underscores', () => {
    // Act
    const names = ['log-status', 'pkt-src-aws-service', 'end'].map(columnName);

    // Assess
    expect(names).toEqual(['log_status', 'pkt_src_aws_service', 'end']);
  });
});

describe('requiredFieldsMissing', () => {
  it('finds nothing missing in the default format', () => {
    // Act
    const missing = requiredFieldsMissing(DEFAULT_FIELDS);

    // Assess
    expect(missing).toEqual([]);
  });

  it('lists the missing required fields in catalogue order', () => {
    // Prepare
    const fields = REQUIRED_FIELDS.filter((f) => !['srcport', 'log-status', 'bytes'].includes(f));

    // Act
    const missing = requiredFieldsMissing(fields);

    // Assess
    expect(missing).toEqual(['srcport', 'bytes', 'log-status']);
  });

  it('accepts underscore spellings', () => {
    // Act
    const missing = requiredFieldsMissing(REQUIRED_FIELDS.map(columnName));

    // Assess
    expect(missing).toEqual([]);
  });
});

describe('hasField', () => {
  it('matches either spelling', () => {
    // Act
    const found = [hasField(['tcp_flags'], 'tcp-flags'), hasField(['tcp-flags'], 'tcp_flags')];
    const absent = hasField(DEFAULT_FIELDS, 'tcp-flags');

    // Assess
    expect(found).toEqual([true, true]);
    expect(absent).toBe(false);
  });
});

describe('formatVersion', () => {
  it('is the highest version among the fields', () => {
    // Act
    const versions = [
      formatVersion(DEFAULT_FIELDS),
      formatVersion([...DEFAULT_FIELDS, 'tcp-flags']),
      formatVersion(['srcaddr', 'flow-direction', 'az-id']),
    ];

    // Assess
    expect(versions).toEqual([2, 3, 5]);
  });
});
