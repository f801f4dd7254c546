// The training page's HTML, on the ApplicationMaster's side. The live page is a small shell that
// loads page.js and page.css (relative links: the RM proxy serves it under /proxy/<appId>/) and
// polls status.json; the report is the same page frozen: script, styles and the final status
// document inlined, so the one file opens from disk with no server and no network.
import type { StatusDocument } from '../../protocol';
import pageScript from '../../../build/web/page.js.txt';
import pageStyle from '../../../build/web/page.css.txt';

export const PAGE_SCRIPT: string = pageScript;
export const PAGE_STYLE: string = pageStyle;
/** The id of the <script type="application/json"> that holds a report's document (page.ts reads it). */
export const EMBEDDED_STATUS_ID = 'horn-status';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON that cannot end the <script> element it sits in (nor an HTML comment inside it). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function shell(doc: StatusDocument, head: string, body: string): string {
  const title = `horn: ${escapeHtml(doc.name)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,">
${head}</head>
<body><main id="horn"><h1>${title}</h1><p>${escapeHtml(doc.applicationId)} — ${escapeHtml(doc.phase)}</p>
<noscript><p>This page draws its charts and tables with JavaScript; the raw document is <a href="status.json">status.json</a>.</p></noscript></main>
${body}</body></html>
`;
}

/**
 * The live page. A path without its trailing slash (…/proxy/<appId>) would resolve the relative
 * links one level up, so the first inline line adds it.
 */
export function renderLivePage(doc: StatusDocument): string {
  const fixSlash = `<script>if(!/\\/$|\\.html$/.test(location.pathname))location.replace(location.pathname+'/'+location.search)</script>`;
  return shell(doc, `${fixSlash}<link rel="stylesheet" href="page.css">`, `<script src="page.js"></script>`);
}

/** The frozen report of a (final) document: one self-contained file. */
export function renderReport(doc: StatusDocument): string {
  const script = PAGE_SCRIPT.replace(/<\/(script)/gi, '<\\/$1');
  return shell(
    doc,
    `<style>${PAGE_STYLE.replace(/<\/(style)/gi, '<\\/$1')}</style>`,
    `<script type="application/json" id="${EMBEDDED_STATUS_ID}">${scriptJson(doc)}</script>\n<script>${script}</script>`,
  );
}
