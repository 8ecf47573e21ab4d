/**
 * The rebalancing options of a portfolio (rebalance_trigger, drift_type, min_trade): their
 * validation, and the settings recommend reads, with the defaults of documents written before
 * the options existed.
 */

import { z } from 'zod';
import { ValidationError } from './errors.js';
import {
  DRIFT_TYPES,
  type DriftType,
  type Portfolio,
  REBALANCE_TRIGGERS,
  type RebalanceTrigger,
} from './model.js';
import { showValue as show } from './show-value.js';

export interface RebalanceSettings {
  readonly trigger: RebalanceTrigger;
  readonly driftType: DriftType;
  /** 0 when unset: every move is made. */
  readonly minTrade: number;
}

export function rebalanceSettings(p: Portfolio): RebalanceSettings {
  return {
    trigger: p.rebalanceTrigger ?? 'allocation',
    driftType: p.driftType ?? 'absolute',
    minTrade: p.minTrade ?? 0,
  };
}

export interface RebalanceInput {
  readonly rebalanceTrigger?: RebalanceTrigger | undefined;
  readonly driftType?: DriftType | undefined;
  /** On update, null removes it. */
  readonly minTrade?: number | null | undefined;
}

type RebalanceFields = Pick<Portfolio, 'rebalanceTrigger' | 'driftType' | 'minTrade'>;

/** createPortfolio's part: the defaults written out, as applyMode's is. */
export function createRebalanceOptions(input: RebalanceInput): RebalanceFields {
  return {
    rebalanceTrigger:
      input.rebalanceTrigger === undefined ? 'allocation' : assertRebalanceTrigger(input.rebalanceTrigger),
    driftType: input.driftType === undefined ? 'absolute' : assertDriftType(input.driftType),
    minTrade:
      input.minTrade === undefined || input.minTrade === null ? undefined : assertMinTrade(input.minTrade),
  };
}

/** updatePortfolio's part: undefined keeps a setting, null removes min_trade. */
export function updateRebalanceOptions(p: Portfolio, input: RebalanceInput): RebalanceFields {
  return {
    rebalanceTrigger:
      input.rebalanceTrigger === undefined
        ? p.rebalanceTrigger
        : assertRebalanceTrigger(input.rebalanceTrigger),
    driftType: input.driftType === undefined ? p.driftType : assertDriftType(input.driftType),
    minTrade:
      input.minTrade === null
        ? undefined
        : input.minTrade === undefined
          ? p.minTrade
          : assertMinTrade(input.minTrade),
  };
}

export function assertRebalanceTrigger(value: unknown): RebalanceTrigger {
  if (!REBALANCE_TRIGGERS.includes(value as RebalanceTrigger)) {
    throw new ValidationError(
      `unknown rebalance_trigger ${show(value)}: use one of ${REBALANCE_TRIGGERS.join(', ')}`,
    );
  }
  return value as RebalanceTrigger;
}

export function assertDriftType(value: unknown): DriftType {
  if (!DRIFT_TYPES.includes(value as DriftType)) {
    throw new ValidationError(`unknown drift_type ${show(value)}: use one of ${DRIFT_TYPES.join(', ')}`);
  }
  return value as DriftType;
}

/** A weight in [0, 1): a min_trade of 1 would forbid every move but a whole portfolio's. */
export function assertMinTrade(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new ValidationError(
      `min_trade must be a weight from 0 up to (not including) 1, got ${show(value)}`,
    );
  }
  return value;
}

export const rebalanceTriggerSchema = z.enum(REBALANCE_TRIGGERS, {
  error: (issue) =>
    `unknown rebalance_trigger ${JSON.stringify(issue.input)}: use one of ${REBALANCE_TRIGGERS.join(', ')}`,
});
export const driftTypeSchema = z.enum(DRIFT_TYPES, {
  error: (issue) => `unknown drift_type ${JSON.stringify(issue.input)}: use one of ${DRIFT_TYPES.join(', ')}`,
});
const MIN_TRADE = 'must be a number from 0 up to (not including) 1';
/** The wire's min_trade: see assertMinTrade. */
export const minTradeSchema = z.number({ error: MIN_TRADE }).min(0, MIN_TRADE).lt(1, MIN_TRADE);
