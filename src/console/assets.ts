/**
 * The console's static files, all served by Ballast itself under /ui/static/: uPlot's script and
 * stylesheet, read once at start-up from the installed package (a production dependency, so it is
 * in every image's node_modules), and the console's own script and stylesheet. Each URL carries
 * a hash of its content, so the files can be cached for good.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CONSOLE_CSS } from './static/console-css.js';
import { CONSOLE_JS } from './static/console-js.js';

export const STATIC_PREFIX = '/ui/static';

export interface Asset {
  readonly name: string;
  readonly type: string;
  readonly body: Buffer;
  /** Where a page links it: `/ui/static/<name>?v=<hash>`. */
  readonly url: string;
}

export interface Assets {
  readonly byName: ReadonlyMap<string, Asset>;
  readonly uplotJs: Asset;
  readonly uplotCss: Asset;
  readonly consoleJs: Asset;
  readonly consoleCss: Asset;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

function asset(name: string, type: string, body: Buffer): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { name, type, body, url: `${STATIC_PREFIX}/${name}?v=${hash}` };
}

let loaded: Assets | undefined;

/** Reads uPlot's files from node_modules (once per process). */
export function loadAssets(): Assets {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const read = (specifier: string) => readFileSync(require.resolve(specifier));
  const uplotJs = asset('uPlot.iife.min.js', JS, read('uplot/dist/uPlot.iife.min.js'));
  const uplotCss = asset('uPlot.min.css', CSS, read('uplot/dist/uPlot.min.css'));
  const consoleJs = asset('console.js', JS, Buffer.from(CONSOLE_JS, 'utf8'));
  const consoleCss = asset('console.css', CSS, Buffer.from(CONSOLE_CSS, 'utf8'));
  const all = [uplotJs, uplotCss, consoleJs, consoleCss];
  loaded = {
    byName: new Map(all.map((a) => [a.name, a])),
    uplotJs,
    uplotCss,
    consoleJs,
    consoleCss,
  };
  return loaded;
}
