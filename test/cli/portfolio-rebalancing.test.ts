/** `portfolio create|update|show` with the rebalancing options (issue 16), in-process, on Redis. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { WirePortfolio } from '../../src/domain/index.js';
import { testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { runIn } from './in-process.js';

const redis = useRedisPrefix('cli-rebalancing');
let app: App;

beforeAll(() => {
  app = testApp(redis.prefix);
});

afterAll(async () => {
  await app.close();
});

const run = (...argv: string[]) => runIn(redis.prefix, argv);

async function ok(...argv: string[]): Promise<WirePortfolio> {
  const result = await run(...argv, '--json');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as WirePortfolio;
}

describe('portfolio rebalancing options', () => {
  it('create sets them, show prints them in words, update changes them and none resets min_trade', async () => {
    const created = await ok(
      'portfolio',
      'create',
      '--id',
      'reb',
      '--name',
      'Rebalanced',
      '--owner',
      'dana',
      '--rebalance-trigger',
      'portfolio',
      '--drift-type',
      'relative',
      '--drift-threshold',
      '0.25',
      '--min-trade',
      '0.01',
    );
    expect(created).toMatchObject({
      rebalance_trigger: 'portfolio',
      drift_type: 'relative',
      min_trade: 0.01,
    });

    const shown = await run('portfolio', 'show', 'reb');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(
      /Drift threshold\s+0\.25 relative \(an allocation within 25\.0% of its target/,
    );
    expect(shown.stdout).toMatch(
      /Rebalance trigger\s+portfolio \(one allocation outside its drift band moves every/,
    );
    expect(shown.stdout).toMatch(/Min trade\s+0\.01 \(moves under 1\.0% are not made\)/);

    const updated = await ok(
      'portfolio',
      'update',
      'reb',
      '--rebalance-trigger',
      'allocation',
      '--min-trade',
      'none',
    );
    expect(updated).toMatchObject({
      rebalance_trigger: 'allocation',
      drift_type: 'relative',
      min_trade: null,
    });
    const plain = await run('portfolio', 'show', 'reb');
    expect(plain.stdout).toMatch(/Min trade\s+none/);
  });

  it('refuses unknown values (exit 1, naming the field and the values) and a non-number (exit 2)', async () => {
    const bad = await run('portfolio', 'create', '--name', 'B', '--owner', 'dana', '--drift-type', 'percent');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown drift_type "percent": use one of absolute, relative/);
    const trigger = await run(
      'portfolio',
      'create',
      '--name',
      'B',
      '--owner',
      'dana',
      '--rebalance-trigger',
      'x',
    );
    expect(trigger.code).toBe(1);
    expect(trigger.stderr).toMatch(/unknown rebalance_trigger "x": use one of allocation, portfolio/);
    const high = await run('portfolio', 'create', '--name', 'B', '--owner', 'dana', '--min-trade', '1');
    expect(high.code).toBe(1);
    expect(high.stderr).toMatch(/min_trade must be a weight from 0 up to \(not including\) 1, got 1/);
    const word = await run('portfolio', 'update', 'reb', '--min-trade', 'some');
    expect(word.code).toBe(2);
    expect(word.stderr).toMatch(/--min-trade.*expected a number or "none"/);
  });
});
