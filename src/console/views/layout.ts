/** The page around every console view: head with the server's own assets, navigation, flash. */
import type { Assets } from '../assets.js';
import { type Html, html } from '../html.js';
import { formFields } from './format.js';

export interface Flash {
  readonly kind: 'done' | 'error';
  readonly message: string;
}

/** What every page needs besides its own data. */
export interface PageContext {
  readonly assets: Assets;
  /** The token name of the session; null when the console is open (no tokens configured). */
  readonly user: string | null;
  /** The CSRF token for this page's forms. */
  readonly csrf: string;
  readonly flash: Flash | null;
  /** The page's own path and query: where an action on it comes back to. */
  readonly path: string;
}

export function layout(
  page: PageContext,
  title: string,
  body: Html,
  options: { chart?: boolean } = {},
): Html {
  const { assets } = page;
  return html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · Ballast</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assets.consoleCss.url}">
${options.chart ? html`<link rel="stylesheet" href="${assets.uplotCss.url}">` : ''}
${options.chart ? html`<script src="${assets.uplotJs.url}" defer></script>` : ''}
<script src="${assets.consoleJs.url}" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/ui">Ballast</a>
  <a href="/ui">Overview</a>
  <a href="/ui/audit">Audit</a>
  <a href="/admin/queues">Queues</a>
  ${
    page.user === null
      ? html`<span class="who">no login (--insecure-no-auth)</span>`
      : html`<span class="who">signed in as <strong>${page.user}</strong></span>
  <form class="inline" method="post" action="/ui/logout">${formFields(page.csrf)}<button type="submit" id="logout">Log out</button></form>`
  }
</header>
<main>
${flash(page.flash)}
${body}
</main>
</body>
</html>`;
}

function flash(f: Flash | null): Html {
  if (f === null) return html``;
  return html`<div class="flash ${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}" id="flash">${f.message}</div>`;
}

/** A page that says what went wrong (an unknown portfolio, Redis down): no stack, no internals. */
export function errorPage(page: PageContext, title: string, message: string): Html {
  return layout(
    page,
    title,
    html`<h1>${title}</h1><div class="flash error" role="alert" id="page-error">${message}</div><p><a href="/ui">Back to the overview</a></p>`,
  );
}
