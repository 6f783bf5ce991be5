/**
 * Markup that escapes by construction: every value interpolated into the `html` tag is escaped
 * unless it is already `Markup` built the same way. SG names, descriptions and rule
 * descriptions are user input, so no renderer concatenates raw strings into the page.
 */

/** A fragment of HTML/SVG known to be safe (built by `html` or `raw`). */
export class Markup {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

/** What may be interpolated: text (escaped), numbers, markup, lists of those; nothing for absent values. */
export type MarkupValue = Markup | string | number | boolean | null | undefined | readonly MarkupValue[];

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text escaped for HTML content and double- or single-quoted attributes.
 *
 * @example escapeHtml('<b title="x">') // '&lt;b title=&quot;x&quot;&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function render(value: MarkupValue): string {
  if (value instanceof Markup) return value.text;
  if (value === null || value === undefined || value === false || value === true) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'string') return escapeHtml(value);
  return value.map(render).join('');
}

/**
 * Tagged template producing Markup; interpolations are escaped (booleans and absent values
 * render as nothing, arrays are concatenated).
 *
 * @example html`<td>${sg.name}</td>` // name escaped
 */
export function html(strings: TemplateStringsArray, ...values: readonly MarkupValue[]): Markup {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i += 1) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Markup(out);
}

/**
 * Trusted constant markup (style sheets, scripts written in this module tree). Never pass report
 * data.
 *
 * @example raw('<br>')
 */
export function raw(trusted: string): Markup {
  return new Markup(trusted);
}

/**
 * A number with fixed decimals for SVG geometry (short, stable output).
 *
 * @example svgNumber(12.3456) // '12.35'
 */
export function svgNumber(n: number): string {
  return String(Math.round(n * 100) / 100);
}
