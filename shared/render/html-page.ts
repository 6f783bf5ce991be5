/**
 * The start of every sg-audit HTML page (report.html, the organization's report.html): the
 * document head with its Content-Security-Policy — nothing is fetched, styles are inline, and only
 * the page's own script (by hash) runs, none when it has none — then the opening body tag.
 */
import { createHash } from 'node:crypto';
import { html, type Markup, raw } from './html-markup';

/** What a page's head says. */
export interface PageHead {
  readonly title: string;
  /** The tool's name and version, for the generator meta tag. */
  readonly generator: string;
  /** The page's whole stylesheet, inlined. */
  readonly css: string;
  /** The page's one inline script, allowed by its hash; no script runs without it. */
  readonly script?: string;
}

/**
 * The policy of a page: no fetches, inline styles, and the one script whose hash is given.
 *
 * @example pageContentSecurityPolicy().includes("script-src 'none'") // true
 */
export function pageContentSecurityPolicy(script?: string): string {
  const scripts =
    script === undefined
      ? "'none'"
      : `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `script-src ${scripts}`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * The page up to and including `<body>`.
 *
 * @example pageStart({ title: 'Security group audit', generator: 'sg-audit 0.1.0', css: '' })
 */
export function pageStart(head: PageHead): Markup {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${pageContentSecurityPolicy(head.script)}">
<meta name="generator" content="${head.generator}">
<title>${head.title}</title>
<style>${raw(head.css)}</style>
</head>
<body>`;
}
