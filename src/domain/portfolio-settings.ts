/**
 * The portfolio rules both front ends share (the CLI and the API used to each write their own):
 * the wire name of every setting and reading a request's settings into the domain's input (the
 * ids a portfolio may not take and the id a new one gets are in ids.ts).
 */
import { SETTINGS, type Setting } from './history.js';
import { generatePortfolioId } from './ids.js';
import type { CreatePortfolioInput, UpdatePortfolioInput } from './portfolio-ops.js';

/** Each setting's name on the wire (snake_case, SPEC section 6). */
export const SETTING_WIRE: Readonly<Record<Setting, string>> = {
  name: 'name',
  ownerId: 'owner_id',
  status: 'status',
  strategy: 'strategy',
  totalBudget: 'total_budget',
  targetRoi: 'target_roi',
  driftThreshold: 'drift_threshold',
  attentionHoursPerWeek: 'attention_hours_per_week',
  maxTurnover: 'max_turnover',
  applyMode: 'apply_mode',
  maxAutoTurnover: 'max_auto_turnover',
  rebalanceTrigger: 'rebalance_trigger',
  driftType: 'drift_type',
  minTrade: 'min_trade',
};

/** The settings an edit may change (the owner is part of the indexes: it is set on create only). */
const EDITABLE = SETTINGS.filter((s): s is Exclude<Setting, 'ownerId'> => s !== 'ownerId');

/**
 * A request's settings (snake_case, already shape-checked by its schema) as the domain's update
 * input: a field left out stays undefined (unchanged), null stays null (cleared, where allowed).
 */
export function updateInputFromWire(body: Readonly<Record<string, unknown>>): UpdatePortfolioInput {
  const input: Record<string, unknown> = {};
  for (const setting of EDITABLE) {
    const value = body[SETTING_WIRE[setting]];
    if (value !== undefined) input[setting] = value;
  }
  return input as UpdatePortfolioInput;
}

/** The same for a create: the id (or a new one), the owner, and the settings given. */
export function createInputFromWire(body: Readonly<Record<string, unknown>>): CreatePortfolioInput {
  const settings = updateInputFromWire(body);
  const id = body['id'];
  return {
    ...(settings as CreatePortfolioInput),
    id: typeof id === 'string' ? id : generatePortfolioId(),
    name: body['name'] as string,
    ownerId: body['owner_id'] as string,
  };
}
