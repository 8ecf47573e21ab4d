/**
 * A typed check of wire metrics before zod, for the bulk readers (a metrics file of 100,000
 * entries): zod builds a result, issues and a copy per entry even when all is well, which was a
 * fifth of `ballast plan` on such a file (issue 15).
 *
 * `checkWireMetrics` returns the metrics only when the entry is certainly valid, exactly as the
 * schema of metrics-wire.ts would read it (the same defaults, the same NFC-normalised name, the
 * same as_of); on any doubt it returns undefined and the caller runs the schema, which accepts or
 * explains. So it may refuse what zod accepts (a name outside printable ASCII is handed to the
 * same rules zod runs), never the other way round: test/domain/metrics-check.test.ts holds it to
 * that with random entries.
 */
import { isValidId } from './ids.js';
import {
  COUNT_LIMIT,
  derive,
  MONEY_LIMIT,
  type ParsedMetrics,
  PERCENT_LIMIT,
  readAsOf,
  toMetrics,
} from './metrics-wire.js';
import { type BusinessMetrics, STAGES, type Stage } from './model.js';
import { NAME_MAX_LENGTH, nameProblem } from './validate.js';

const FIELDS: ReadonlySet<string> = new Set([
  'business_id',
  'name',
  'revenue',
  'expenses',
  'profit',
  'margin',
  'customers',
  'growth_rate',
  'health_score',
  'stage',
  'as_of',
]);
const STAGE_SET: ReadonlySet<string> = new Set(STAGES);

const isMoney = (v: unknown): v is number => typeof v === 'number' && v >= -MONEY_LIMIT && v <= MONEY_LIMIT;
const isPercent = (v: unknown): v is number =>
  typeof v === 'number' && v >= -PERCENT_LIMIT && v <= PERCENT_LIMIT;

/**
 * The metrics when `input` is certainly valid for the schema that refuses cosmetic faults
 * (operators' files and imports); `strict` also refuses unknown fields. Undefined: ask zod.
 */
export function checkWireMetrics(input: unknown, strict: boolean): BusinessMetrics | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const proto: unknown = Object.getPrototypeOf(input);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const m = input as Record<string, unknown>;
  if (strict) for (const key in m) if (!FIELDS.has(key)) return undefined;
  const id = m['business_id'];
  const { revenue, expenses, profit, margin, customers } = m;
  const growth = m['growth_rate'];
  const health = m['health_score'];
  if (typeof id !== 'string' || !isValidId(id)) return undefined;
  if (!isMoney(revenue) || !isPercent(growth)) return undefined;
  if (!(typeof health === 'number' && health >= 0 && health <= 100)) return undefined;
  if (expenses !== undefined && !isMoney(expenses)) return undefined;
  if (profit !== undefined && !isMoney(profit)) return undefined;
  if (expenses === undefined && profit === undefined) return undefined;
  if (margin !== undefined && !isPercent(margin)) return undefined;
  if (customers !== undefined && !isCount(customers)) return undefined;
  const stage = m['stage'] === undefined ? 'unknown' : m['stage'];
  if (typeof stage !== 'string' || !STAGE_SET.has(stage)) return undefined;
  const name = checkName(m['name']);
  if (name === false) return undefined;
  const asOf = checkAsOf(m['as_of']);
  if (asOf === false) return undefined;
  const parsed: ParsedMetrics = {
    business_id: id,
    name,
    revenue,
    expenses,
    profit,
    margin,
    customers,
    growth_rate: growth,
    health_score: health,
    stage: stage as Stage,
    as_of: asOf,
  };
  // The derived figures obey the limits of given ones (checkDerived); past them, zod explains.
  const d = derive(parsed);
  if (profit === undefined && !(Math.abs(d.profit) <= MONEY_LIMIT)) return undefined;
  if (expenses === undefined && !(Math.abs(d.expenses) <= MONEY_LIMIT)) return undefined;
  if (margin === undefined && !(Math.abs(d.margin) <= PERCENT_LIMIT)) return undefined;
  return toMetrics(parsed);
}

function isCount(v: unknown): v is number {
  // zod's .int() is a safe integer.
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= COUNT_LIMIT;
}

/**
 * The name as the schema gives it (NFC), null or undefined as given; false when zod must judge.
 * Printable ASCII that is not all spaces is a valid name and its own NFC form: the common case,
 * checked in one pass; anything else goes through nameProblem and normalize as in the schema.
 */
function checkName(value: unknown): string | null | undefined | false {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') return false;
  if (isPlainName(value)) return value;
  return nameProblem(value) === undefined ? value.normalize('NFC') : false;
}

function isPlainName(value: string): boolean {
  if (value.length === 0 || value.length > NAME_MAX_LENGTH) return false;
  let blank = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
    if (c !== 0x20) blank = false;
  }
  return !blank;
}

/** A file's entries mostly share one as_of: the last string read is remembered. */
let lastAsOf: { readonly input: string; readonly value: string } | undefined;

function checkAsOf(value: unknown): string | null | undefined | false {
  if (value === undefined || value === null) return value;
  if (typeof value === 'string' && lastAsOf !== undefined && lastAsOf.input === value) return lastAsOf.value;
  if (typeof value !== 'string' && typeof value !== 'number') return false;
  const read = readAsOf(value, false);
  if (!read.ok) return false;
  if (typeof value === 'string') lastAsOf = { input: value, value: read.value };
  return read.value;
}
