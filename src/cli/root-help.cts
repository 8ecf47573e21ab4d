/**
 * `ballast --help` from the command list, answered by bin/ballast.js before the command tree
 * loads (issue 15). CommonJS, like the bin, because starting Node's ESM loader alone costs ~7 ms of
 * the 20 ms the help may take above `node -e 0`; so no import of an ES module here, and nothing
 * from commander. The text is the one commander prints for the full program, at any width:
 * test/cli/command-table.test.ts compares the two byte for byte.
 *
 * The layout follows commander's Help (formatHelp, formatItem, boxWrap) for what the root uses:
 * a description, two options, the commands and the implicit `help` command.
 */
import fs = require('node:fs');
import tty = require('node:tty');
import commandList = require('./command-list.json');

type Item = readonly [term: string, description: string];

const HELP_DESCRIPTION = 'display help for command';
const OPTIONS: readonly Item[] = [
  ['-V, --version', 'output the version number'],
  ['-h, --help', HELP_DESCRIPTION],
];
const COMMANDS: readonly Item[] = [
  ...commandList.commands.map((command): Item => [command.term, command.summary]),
  ['help [command]', HELP_DESCRIPTION],
];

/** Commander's defaults: 80 columns unless the output is a terminal; no wrapping below 40. */
const DEFAULT_WIDTH = 80;
const MIN_WIDTH_TO_WRAP = 40;
const ITEM_INDENT = '  ';
const SPACER = '  ';

/** Whether argv asks for the root help and nothing else (commander would print the same). */
function isRootHelp(argv: readonly string[]): boolean {
  return argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h');
}

/** `helpWidth`: the terminal's columns, as commander takes them (undefined when not a terminal). */
function rootHelp(helpWidth: number = DEFAULT_WIDTH): string {
  const termWidth = Math.max(...[...OPTIONS, ...COMMANDS].map(([term]) => term.length));
  const item = ([term, description]: Item) => formatItem(term, termWidth, description, helpWidth);
  return [
    `Usage: ${commandList.name} [options] [command]`,
    '',
    boxWrap(commandList.description, helpWidth),
    '',
    'Options:',
    ...OPTIONS.map(item),
    '',
    'Commands:',
    ...COMMANDS.map(item),
    '',
  ].join('\n');
}

/**
 * At a terminal, as wide as it is (as commander does). Otherwise at 80 columns, written to fd 1
 * directly: setting up `process.stdout` for a pipe costs more than the rest of the help (~4 ms).
 */
function printRootHelp(): void {
  if (tty.isatty(1)) {
    process.stdout.write(rootHelp(process.stdout.columns));
    return;
  }
  const bytes = Buffer.from(rootHelp());
  let written = 0;
  try {
    while (written < bytes.length) written += fs.writeSync(1, bytes, written);
  } catch (err) {
    // A reader that has gone (`ballast --help | head -1`) is no error; a full non-blocking pipe
    // (EAGAIN) gets the rest through the stream, which waits.
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') process.stdout.write(bytes.subarray(written));
  }
}

function formatItem(term: string, termWidth: number, description: string, helpWidth: number): string {
  const remainingWidth = helpWidth - termWidth - SPACER.length - ITEM_INDENT.length;
  const preformatted = /\n[^\S\r\n]/.test(description);
  const formatted =
    remainingWidth < MIN_WIDTH_TO_WRAP || preformatted
      ? description
      : boxWrap(description, remainingWidth).replace(/\n/g, `\n${' '.repeat(termWidth + SPACER.length)}`);
  return ITEM_INDENT + term.padEnd(termWidth) + SPACER + formatted.replace(/\n/g, `\n${ITEM_INDENT}`);
}

/** Wraps at whitespace, keeping existing line breaks. */
function boxWrap(text: string, width: number): string {
  if (width < MIN_WIDTH_TO_WRAP) return text;
  const wrapped: string[] = [];
  for (const line of text.split(/\r\n|\n/)) {
    const chunks = line.match(/\s*\S+/g);
    if (chunks === null) {
      wrapped.push('');
      continue;
    }
    let current = chunks[0] ?? '';
    for (const chunk of chunks.slice(1)) {
      if (current.length + chunk.length <= width) {
        current += chunk;
      } else {
        wrapped.push(current);
        current = chunk.trimStart();
      }
    }
    wrapped.push(current);
  }
  return wrapped.join('\n');
}

export = { isRootHelp, rootHelp, printRootHelp };
