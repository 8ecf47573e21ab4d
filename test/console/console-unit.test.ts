/** Without a browser or a server: HTML escaping, the session cookie, where an action goes back to. */
import { describe, expect, it } from 'vitest';
import { withoutExternalLinks } from '../../src/api/http/dashboard.js';
import { escapeHtml, html, jsonScript } from '../../src/console/html.js';
import { safeBack } from '../../src/console/request-context.js';
import { openSession, SESSION_TTL_MS, sealSession, sessionSecret } from '../../src/console/session.js';

describe('html``', () => {
  it('escapes every interpolation, and only those', () => {
    const name = `<script>alert("x")</script> & 'y' \`z\``;
    expect(html`<td title="${name}">${name}</td>`.text).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &#96;z&#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &#96;z&#96;</td>',
    );
    expect(escapeHtml('a"b')).toBe('a&quot;b');
  });

  it('keeps fragments, joins arrays, drops null, undefined and false, writes numbers', () => {
    const items = ['<a>', 'b'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.text).toBe(
      '<ul><li>&lt;a&gt;</li><li>b</li></ul>0',
    );
    // An object that only looks like a fragment is text.
    const fake = { text: '<b>' } as unknown as string;
    expect(html`${fake}`.text).toBe('[object Object]');
  });

  it('writes JSON that cannot close its script element', () => {
    const block = jsonScript(
      'd',
      { name: '</script><script>alert(1)</script>', amp: 'a&b' },
      { chart: 'x"y' },
    );
    expect(block.text).not.toContain('</script><script>');
    expect(block.text).toContain('data-chart="x&quot;y"');
    const json = /<script[^>]*>(.*)<\/script>$/.exec(block.text)?.[1] ?? '';
    expect(JSON.parse(json)).toEqual({ name: '</script><script>alert(1)</script>', amp: 'a&b' });
  });
});

describe('the session cookie', () => {
  const tokens = [
    { name: 'alice', token: 'alice-token-0123456789abcdef' },
    { name: 'bob', token: 'bob-token-0123456789abcdef00' },
  ];
  const secret = sessionSecret(tokens);
  const names = new Set(tokens.map((t) => t.name));
  const now = Date.parse('2026-03-01T02:00:00Z');

  it('opens what it sealed until it expires', () => {
    const value = sealSession({ name: 'bob', expiresAt: now + SESSION_TTL_MS }, secret);
    expect(openSession(value, secret, now, names)).toEqual({ name: 'bob', expiresAt: now + SESSION_TTL_MS });
    expect(openSession(value, secret, now + SESSION_TTL_MS - 1, names)?.name).toBe('bob');
    expect(openSession(value, secret, now + SESSION_TTL_MS, names)).toBeNull();
  });

  it('refuses a changed value, a missing signature, a name no longer configured, an over-long life', () => {
    const value = sealSession({ name: 'bob', expiresAt: now + 1000 }, secret);
    expect(openSession(value.replace('bob', 'ali'), secret, now, names)).toBeNull();
    expect(openSession(value.replace(/\d{13}/, String(now + 5000)), secret, now, names)).toBeNull();
    expect(openSession(value.slice(0, value.lastIndexOf('.')), secret, now, names)).toBeNull();
    expect(openSession(value, secret, now, new Set(['alice']))).toBeNull();
    expect(openSession('', secret, now, names)).toBeNull();
    expect(openSession(undefined, secret, now, names)).toBeNull();
    const forever = sealSession({ name: 'bob', expiresAt: now + SESSION_TTL_MS + 1 }, secret);
    expect(openSession(forever, secret, now, names)).toBeNull();
  });

  it('derives one secret from the tokens: the same in any order, another when a token changes', () => {
    expect(sessionSecret([...tokens].reverse()).equals(secret)).toBe(true);
    const rotated = sessionSecret([tokens[0]!, { name: 'bob', token: 'bob-token-rotated-0123456789' }]);
    expect(rotated.equals(secret)).toBe(false);
    const value = sealSession({ name: 'alice', expiresAt: now + 1000 }, secret);
    expect(openSession(value, rotated, now, names)).toBeNull();
  });
});

describe('safeBack', () => {
  it('returns only paths inside the console', () => {
    for (const ok of ['/ui', '/ui/portfolios/a?x=1', '/ui?owner=o', '/ui/runs/r#x']) {
      expect(safeBack(ok, '/ui'), ok).toBe(ok);
    }
    for (const bad of [
      'https://elsewhere.example/ui',
      '//elsewhere.example/ui',
      '/ui//elsewhere.example',
      '/ui/\\elsewhere.example',
      '/uix',
      '/admin',
      '/ui/a\r\nSet-Cookie: x=1',
      undefined,
    ]) {
      expect(safeBack(bad, '/ui'), String(bad)).toBe('/ui');
    }
  });
});

describe("bull-board's page", () => {
  it('loses its links to other hosts and keeps its own', () => {
    const page =
      '<link rel="icon" href="static/x.png">\n    <link href="https://fonts.googleapis.com/css2?family=IBM+Plex+Sans" rel="stylesheet">\n<link href="static/css/main.css" rel="stylesheet">';
    expect(withoutExternalLinks(page)).toBe(
      '<link rel="icon" href="static/x.png">\n    <link href="static/css/main.css" rel="stylesheet">',
    );
  });
});
