#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build` (run by `npm ci` through `prepare`).
//
// CommonJS (bin/package.json), unlike the rest: `--version` and `--help` are answered here before
// the command tree loads, and without starting Node's ESM loader, which alone costs ~7 ms of the
// 20 ms they may take above `node -e 0` (issue 15). Everything else imports dist/src/cli/main.js.
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
  process.exit(0);
}

const cli = join(__dirname, '..', 'dist', 'src', 'cli');
const entry = join(cli, 'main.js');
const rootHelp = join(cli, 'root-help.cjs');
if (!existsSync(entry) || !existsSync(rootHelp)) {
  process.stderr.write('ballast: not built yet; run `npm run build` (npm ci does it for you)\n');
  process.exit(2);
}
const help = require(rootHelp);
if (help.isRootHelp(args)) help.printRootHelp();
else import(pathToFileURL(entry).href);
