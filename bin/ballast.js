#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build` (run by `npm ci` through `prepare`).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `ballast --version` alone needs nothing but package.json: answered before the command tree loads.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
  process.exit(0);
}

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('ballast: not built yet; run `npm run build` (npm ci does it for you)\n');
  process.exit(2);
}
await import(entry.href);
