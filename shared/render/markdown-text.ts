/**
 * Markdown building blocks of summary.md and its sections: escaped text and tables.
 */

/**
 * Text safe inside Markdown prose and table cells: Markdown and HTML metacharacters are
 * backslash-escaped (SG names are user input), line breaks become spaces.
 *
 * @example markdownText('a|b <x>') // 'a\\|b \\<x\\>'
 */
export function markdownText(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]{}<>|#!~]/g, (c) => `\\${c}`);
}

/**
 * A Markdown table: the header, its rule and the rows (cells already escaped).
 *
 * @example table(['A', 'B'], [['1', '2']]) // ['| A | B |', '| --- | --- |', '| 1 | 2 |']
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
}
