/** The login form: one password field for an API token. */
import type { Assets } from '../assets.js';
import { type Html, html } from '../html.js';

export function loginPage(
  assets: Assets,
  options: { readonly csrf: string; readonly next: string; readonly error: string | null },
): Html {
  return html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Log in · Ballast</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assets.consoleCss.url}">
</head>
<body>
<div class="login">
  <h1>Ballast console</h1>
  ${options.error ? html`<div class="flash error" role="alert" id="login-error">${options.error}</div>` : ''}
  <form class="stack" method="post" action="/ui/login">
    <input type="hidden" name="_csrf" value="${options.csrf}">
    <input type="hidden" name="next" value="${options.next}">
    <label>API token
      <input type="password" name="token" id="token" autocomplete="current-password" required autofocus>
    </label>
    <button type="submit" id="login">Log in</button>
  </form>
  <p class="muted">Any of the API's tokens (BALLAST_API_TOKEN or one of BALLAST_API_TOKENS): what you do here is recorded as <code>api:&lt;token name&gt;</code>. The session lasts 12 hours.</p>
</div>
</body>
</html>`;
}
