/**
 * Deleting a portfolio (`portfolio delete`, `DELETE /portfolios/{id}`): refused while one of its
 * jobs runs; otherwise every key of it goes, compare-and-delete on the version read, with an
 * audit entry naming who deleted it.
 */
import type { App } from '../app.js';
import { RefusedError, StaleVersionError, type WriteMeta } from '../domain/index.js';

export interface DeleteResult {
  readonly portfolio_id: string;
  readonly deleted: true;
  /** The version it had when it was deleted. */
  readonly version: number;
  readonly businesses: number;
}

const TRIES = 3;

export async function deletePortfolio(
  app: Pick<App, 'store' | 'queue'>,
  portfolioId: string,
  meta: WriteMeta,
): Promise<DeleteResult> {
  for (let attempt = 1; ; attempt++) {
    const p = await app.store.require(portfolioId);
    const running = (await app.queue.listJobs(['active'], 0, 999)).filter((j) =>
      j.id.endsWith(`.${portfolioId}`),
    );
    if (running.length > 0) {
      throw new RefusedError(
        `portfolio ${portfolioId} has a job running (${running.map((j) => j.id).join(', ')}): delete it once the job has finished`,
      );
    }
    try {
      await app.store.delete(p, { ...meta, note: meta.note ?? 'portfolio deleted' });
      return { portfolio_id: p.id, deleted: true, version: p.version, businesses: p.allocations.length };
    } catch (err) {
      // Changed between the read and the delete (a run committed): look again.
      if (!(err instanceof StaleVersionError) || attempt >= TRIES) throw err;
    }
  }
}
