import { InvalidValueError } from '../../../shared/errors';
import { OUTPUT_FORMATS, parseOutputFormats, renderReport } from '../../../shared/render/index';
import { sampleReport } from '../../fixtures/report-fixture';

describe('parseOutputFormats', () => {
  it('parses a comma-separated list, ignoring case, spaces and duplicates', () => {
    // Act
    const formats = parseOutputFormats(' json, CSV ,json,html');

    // Assess
    expect(formats).toEqual(['json', 'csv', 'html']);
  });

  it('expands all to every format', () => {
    // Act
    const formats = parseOutputFormats('all');

    // Assess
    expect(formats).toEqual(['json', 'csv', 'xlsx', 'md', 'html', 'ocsf']);
  });

  it.each(['pdf', 'json,pdf', '', ' , '])(
    'rejects %j with an InvalidValueError naming the format field',
    (text) => {
      // Act
      const parse = () => parseOutputFormats(text);

      // Assess
      expect(parse).toThrow(InvalidValueError);
      expect(parse).toThrow(/format/);
    },
  );

  it('names the unknown format and the accepted ones', () => {
    // Act
    const parse = () => parseOutputFormats('json,pdf');

    // Assess
    expect(parse).toThrow(
      "format: unknown output format 'pdf' (expected json, csv, xlsx, md, html, ocsf or all)",
    );
  });
});

describe('renderReport', () => {
  it('renders every file of every format with its content type', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const files = await renderReport(report, OUTPUT_FORMATS);

    // Assess
    expect(files.map((f) => [f.name, f.contentType])).toEqual([
      ['report.json', 'application/json; charset=utf-8'],
      ['findings.csv', 'text/csv; charset=utf-8'],
      ['rules.csv', 'text/csv; charset=utf-8'],
      ['recommendations.csv', 'text/csv; charset=utf-8'],
      ['resources.csv', 'text/csv; charset=utf-8'],
      ['delivery.csv', 'text/csv; charset=utf-8'],
      ['rejected.csv', 'text/csv; charset=utf-8'],
      ['egress.csv', 'text/csv; charset=utf-8'],
      ['report.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
      ['summary.md', 'text/markdown; charset=utf-8'],
      ['report.html', 'text/html; charset=utf-8'],
      ['findings.ocsf.json', 'application/json; charset=utf-8'],
    ]);
  });

  it('returns text for text formats and zip bytes for the workbook', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const files = await renderReport(report, ['xlsx', 'json']);

    // Assess
    const [json, xlsx] = files;
    expect(typeof json?.body).toBe('string');
    const workbook = xlsx?.body as Uint8Array;
    expect(workbook).toBeInstanceOf(Uint8Array);
    expect(Array.from(workbook.subarray(0, 2))).toEqual([0x50, 0x4b]); // a zip archive
  });

  it('renders only the formats asked, each once', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const files = await renderReport(report, ['md', 'md', 'csv']);

    // Assess
    expect(files.map((f) => f.name)).toEqual([
      'findings.csv',
      'rules.csv',
      'recommendations.csv',
      'resources.csv',
      'delivery.csv',
      'rejected.csv',
      'egress.csv',
      'summary.md',
    ]);
  });

  it('renders the OCSF findings as a JSON array of Detection Findings', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const files = await renderReport(report, ['ocsf']);

    // Assess
    expect(files.map((f) => f.name)).toEqual(['findings.ocsf.json']);
    const events = JSON.parse(String(files[0]?.body)) as { class_uid: number }[];
    expect(events).toHaveLength(report.findings.length);
    expect(new Set(events.map((e) => e.class_uid))).toEqual(new Set([2004]));
  });

  it('renders nothing for no format', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const files = await renderReport(report, []);

    // Assess
    expect(files).toEqual([]);
  });
});
