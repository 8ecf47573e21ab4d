/**
 * `portfolio import FILE`: portfolios created or updated from the shape `portfolio show --json`
 * prints (a JSON array, one object, or NDJSON). The whole file is checked before anything is
 * written; each portfolio is then written compare-and-set, and one that already matches the file
 * writes nothing, so importing the same file twice changes nothing the second time.
 */
import type { App } from '../app.js';
import {
  BallastError,
  createPortfolio,
  type Portfolio,
  portfolioFromWire,
  ValidationError,
  type WriteMeta,
} from '../domain/index.js';

export interface ImportEntry {
  /** Where it is in the file: `index 2`, `line 5`. */
  readonly where: string;
  readonly value: unknown;
}

export interface ImportResult {
  readonly created: string[];
  readonly updated: string[];
  readonly unchanged: string[];
}

/** At most this many problems are quoted in a refusal; the rest are counted. */
const QUOTED = 20;

export async function importPortfolios(
  app: Pick<App, 'store' | 'clock'>,
  entries: readonly ImportEntry[],
  meta: WriteMeta,
): Promise<ImportResult> {
  const now = app.clock().toISOString();
  const problems: string[] = [];
  const portfolios: Portfolio[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    try {
      const p = portfolioFromWire(entry.value, now);
      // The settings' own limits (the wire schema checks shapes; the domain checks sense).
      createPortfolio({ ...p, id: p.id, name: p.name, ownerId: p.ownerId }, now);
      if (seen.has(p.id)) throw new ValidationError(`portfolio ${p.id} is in the file twice`);
      seen.add(p.id);
      portfolios.push(p);
    } catch (err) {
      if (!(err instanceof BallastError)) throw err;
      problems.push(`${entry.where}: ${err.message}`);
    }
  }
  if (entries.length === 0) problems.push('the file holds no portfolio');
  // Owners are part of the indexes: a file does not move a portfolio to another owner.
  const stored = await Promise.all(portfolios.map((p) => app.store.get(p.id)));
  portfolios.forEach((p, i) => {
    const current = stored[i];
    if (current && current.ownerId !== p.ownerId) {
      problems.push(
        `portfolio ${p.id}: owner_id ${p.ownerId} differs from the stored owner ${current.ownerId} (import does not change owners)`,
      );
    }
  });
  if (problems.length > 0) {
    const more = problems.length > QUOTED ? `; and ${problems.length - QUOTED} more` : '';
    throw new ValidationError(
      `nothing imported: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}: ${problems.slice(0, QUOTED).join('; ')}${more}`,
      problems,
    );
  }
  const result: ImportResult = { created: [], updated: [], unchanged: [] };
  for (const [i, p] of portfolios.entries()) {
    if (!stored[i]) {
      await app.store.create({ ...p, version: 1, createdAt: now, updatedAt: now, lastRun: undefined }, meta);
      result.created.push(p.id);
      continue;
    }
    const written = await app.store.update(
      p.id,
      (current) => ({
        ...p,
        version: current.version,
        createdAt: current.createdAt,
        updatedAt: now,
        lastRun: current.lastRun,
      }),
      meta,
    );
    (written.version === stored[i].version ? result.unchanged : result.updated).push(p.id);
  }
  return result;
}
