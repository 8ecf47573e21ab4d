/**
 * A tagged template for HTML that escapes every interpolation unless it is already HTML made by
 * this module: a portfolio named `<script>` is shown as text, never run. Arrays are joined, and
 * null, undefined and false render as nothing (so `${cond && html`...`}` works).
 */

const HTML = Symbol('html');

export interface Html {
  readonly [HTML]: true;
  readonly text: string;
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

function fragment(text: string): Html {
  return { [HTML]: true, text };
}

export function isHtml(value: unknown): value is Html {
  return typeof value === 'object' && value !== null && (value as { [HTML]?: unknown })[HTML] === true;
}

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (isHtml(value)) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return fragment(out);
}

/**
 * JSON for a `<script type="application/json">` block: `<` is written as `\u003c`, so no value
 * can close the script element (`</script>`) or open a comment inside it.
 */
export function jsonScript(
  id: string,
  data: unknown,
  /** `data-*` attributes: `{ chart: 'weights' }` is `data-chart="weights"`. */
  attributes: Readonly<Record<string, string>> = {},
): Html {
  const json = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
  const extra = Object.entries(attributes).map(([name, value]) => html` data-${name}="${value}"`);
  return html`<script type="application/json" id="${id}"${extra}>${fragment(json)}</script>`;
}

/** The document: `<!doctype html>` and the page as one string. */
export function documentText(page: Html): string {
  return `<!doctype html>\n${page.text}`;
}
