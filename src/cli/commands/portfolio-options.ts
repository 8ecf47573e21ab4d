/**
 * What the `portfolio` subcommands share: option value parsers and how a written portfolio is
 * printed. Option parsers check only the kind of value (a number, true/false, `none`), so that
 * `--weight abc` is bad usage (exit 2); ranges and names are the domain's rules (`--weight 1.5`
 * is refused with the domain's message, exit 1), the same ones the HTTP API applies.
 */
import { InvalidArgumentError } from 'commander';
import { type Portfolio, portfolioToWire } from '../../domain/index.js';
import type { CliContext } from '../context.js';
import { parseNumber } from '../option-parsers.js';
import { formatJson } from '../output.js';
import { formatPortfolioText } from '../portfolio-text.js';

export const NONE = 'none';

/**
 * A number, or `none` to clear the setting. `none` stays a string here (commander turns a parser's
 * null into ''); `orNull` maps it to the domain's null after parsing.
 */
export function parseNumberOrNone(value: string): number | typeof NONE {
  if (value === NONE) return NONE;
  try {
    return parseNumber(value);
  } catch {
    throw new InvalidArgumentError(`expected a number or "${NONE}", got ${JSON.stringify(value)}`);
  }
}

export function orNull(value: number | typeof NONE | undefined): number | null | undefined {
  return value === NONE ? null : value;
}

/** `--json` prints the wire portfolio; otherwise a line saying what happened, then the portfolio. */
export function printWritten(
  ctx: CliContext,
  p: Portfolio,
  json: boolean | undefined,
  message: string,
): void {
  const wire = portfolioToWire(p);
  if (json) {
    ctx.out(formatJson(wire));
    return;
  }
  ctx.out(`${message} (version ${p.version})\n\n${formatPortfolioText(wire)}`);
}
