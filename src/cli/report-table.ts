/**
 * The table of a report, one row per business: the ranking (best first, unranked last) with each
 * business's action, weight move and reason. A report of 100,000 businesses makes 10 MB of it, so
 * it comes a slice of lines at a time, to be written as it is made (issue 15); the text is what
 * formatTable prints for the same columns (test/cli/report-table.test.ts holds it to that).
 */
import type { Action, RankingEntry, WireReport } from '../domain/index.js';
import { displayWidth } from './output.js';

/** About this many characters per slice. */
const CHUNK_CHARS = 1 << 16;

const HEADERS = ['Rank', 'Business', 'Name', 'Score', 'Action', 'Weight', 'Reason'] as const;

/** How the table reads a ranking entry and an action: the wire's (a stored report) or the domain's. */
export interface TableView<Entry, Act> {
  readonly rank: (entry: Entry) => number | null;
  readonly entryId: (entry: Entry) => string;
  readonly name: (entry: Entry) => string | null;
  readonly score: (entry: Entry) => number | null;
  readonly actionId: (action: Act) => string;
  readonly kind: (action: Act) => string;
  readonly current: (action: Act) => number;
  readonly recommended: (action: Act) => number;
  readonly reason: (action: Act) => string;
}

type WireEntry = WireReport['ranking'][number];
type WireAction = WireReport['actions'][number];

export const WIRE_TABLE: TableView<WireEntry, WireAction> = {
  rank: (e) => e.rank,
  entryId: (e) => e.business_id,
  name: (e) => e.name,
  score: (e) => e.score,
  actionId: (a) => a.business_id,
  kind: (a) => a.action,
  current: (a) => a.current_weight,
  recommended: (a) => a.recommended_weight,
  reason: (a) => a.reason,
};

/** A run's own report, before the wire: no copy of its entries, each reason written when printed. */
export const DOMAIN_TABLE: TableView<RankingEntry, Action> = {
  rank: (e) => e.rank,
  entryId: (e) => e.businessId,
  name: (e) => e.name,
  score: (e) => e.score,
  actionId: (a) => a.businessId,
  kind: (a) => a.action,
  current: (a) => a.currentWeight,
  recommended: (a) => a.recommendedWeight,
  reason: (a) => a.reason,
};

/** The table's text in slices of whole lines; "No businesses..." when there is no row. */
export function* reportTableChunks<Entry, Act>(
  ranking: readonly Entry[],
  actions: readonly Act[],
  view: TableView<Entry, Act>,
): Generator<string> {
  // An action per business id (the last one, if an id were listed twice), and which of them
  // have a ranking entry: the others get a row of their own after the ranking's.
  const actionAt = new Map<string, number>();
  for (let i = 0; i < actions.length; i++) actionAt.set(view.actionId(actions[i]!), i);
  const ranked = new Uint8Array(actions.length);
  const entryAction = new Int32Array(ranking.length);
  for (let row = 0; row < ranking.length; row++) {
    const i = actionAt.get(view.entryId(ranking[row]!));
    entryAction[row] = i ?? -1;
    if (i !== undefined) ranked[i] = 1;
  }
  const unranked: number[] = [];
  // With every id listed once, action i is its id's; else the id's last action says.
  const once = actionAt.size === actions.length;
  for (let i = 0; i < actions.length; i++) {
    if (ranked[once ? i : actionAt.get(view.actionId(actions[i]!))!] === 0) unranked.push(i);
  }
  const rows = ranking.length + unranked.length;
  if (rows === 0) {
    yield 'No businesses in this portfolio.\n';
    return;
  }
  const withName = ranking.some((entry) => view.name(entry) !== null);
  const actionOf = (row: number): Act | undefined =>
    row < ranking.length
      ? entryAction[row]! < 0
        ? undefined
        : actions[entryAction[row]!]
      : actions[unranked[row - ranking.length]!];
  const weightMove = (action: Act | undefined): string =>
    action === undefined
      ? '-'
      : `${percent(view.current(action) * 100, 2)} -> ${percent(view.recommended(action) * 100, 2)}`;

  // First pass: the cells that cost something to write, kept, and every column's width.
  const scores: string[] = new Array(rows);
  const moves: string[] = new Array(rows);
  const width = HEADERS.map((header) => displayWidth(header));
  for (let row = 0; row < rows; row++) {
    const entry = row < ranking.length ? ranking[row]! : undefined;
    const action = actionOf(row);
    const score = entry === undefined ? null : view.score(entry);
    scores[row] = score === null ? '-' : score.toFixed(3);
    moves[row] = weightMove(action);
    const rank = entry === undefined ? '-' : rankText(view.rank(entry));
    const id = entry === undefined ? view.actionId(action!) : view.entryId(entry);
    const name = entry === undefined ? '' : (view.name(entry) ?? '');
    // Numbers as text are ASCII: their length is their width.
    width[0] = Math.max(width[0]!, rank.length);
    width[1] = Math.max(width[1]!, displayWidth(id));
    width[2] = Math.max(width[2]!, displayWidth(name));
    width[3] = Math.max(width[3]!, scores[row]!.length);
    width[4] = Math.max(width[4]!, displayWidth(action === undefined ? '-' : (view.kind(action) ?? '-')));
    width[5] = Math.max(width[5]!, moves[row]!.length);
  }

  // Second pass: the lines, as formatTable renders them (the last column is not padded).
  const pads: string[] = [];
  const padTo = (n: number): string => {
    if (n <= 0) return '';
    pads[n] ??= ' '.repeat(n);
    return pads[n]!;
  };
  const pad = (cell: string, column: number): string => padTo(width[column]! - displayWidth(cell));
  const padAscii = (cell: string, column: number): string => padTo(width[column]! - cell.length);
  const line = (
    rank: string,
    id: string,
    name: string,
    score: string,
    kind: string,
    move: string,
    reason: string,
  ): string => {
    let text = `${padAscii(rank, 0)}${rank}  ${id}${pad(id, 1)}  `;
    if (withName) text += `${name}${pad(name, 2)}  `;
    text += `${padAscii(score, 3)}${score}  ${kind}${pad(kind, 4)}  ${move}${padAscii(move, 5)}  ${reason}`;
    // Only a blank reason leaves spaces at the end to trim (formatTable trims every line).
    return `${endsInSpace(reason) ? text.trimEnd() : text}\n`;
  };
  let chunk = line(...HEADERS);
  for (let row = 0; row < rows; row++) {
    const entry = row < ranking.length ? ranking[row]! : undefined;
    const action = actionOf(row);
    chunk += line(
      entry === undefined ? '-' : rankText(view.rank(entry)),
      entry === undefined ? view.actionId(action!) : view.entryId(entry),
      entry === undefined ? '' : (view.name(entry) ?? ''),
      scores[row]!,
      action === undefined ? '-' : (view.kind(action) ?? '-'),
      moves[row]!,
      action === undefined ? '' : (view.reason(action) ?? ''),
    );
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

/** Whether trimEnd would change a line ending in `cell`: it is empty or ends in white space. */
function endsInSpace(cell: string): boolean {
  if (cell.length === 0) return true;
  const last = cell.charCodeAt(cell.length - 1);
  return last <= 0x20 || (last >= 0x7f && /\s$/.test(cell));
}

function rankText(rank: number | null): string {
  return rank === null ? '-' : String(rank);
}

const NEGATIVE_ZERO = /^-0(\.0+)?$/;

/** `value` (already in percent) with `digits` decimals and a %, never "-0.00%". */
export function percent(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return `${text.charCodeAt(0) === 0x2d /* - */ && NEGATIVE_ZERO.test(text) ? text.slice(1) : text}%`;
}
