import { setTimeout as delay } from 'node:timers/promises';
import pLimit from 'p-limit';
import { type BusinessMetrics, safeMetricsFromWire } from '../../domain/index.js';
import type { MetricsResult, MetricsSource, MetricsSourceStats } from './metrics-source.js';

export interface MetricsLog {
  warn(obj: object, msg: string): void;
}

export interface HttpMetricsSourceOptions {
  /** `BALLAST_METRICS_URL`; a trailing slash is ignored. */
  baseUrl: string;
  /** Per attempt, headers and body included. */
  timeoutMs: number;
  /** Extra attempts after the first for 5xx, network errors and time-outs. */
  retries: number;
  /** Base of the exponential backoff (full jitter); default 100 ms. */
  backoffMs?: number;
  /** Longest wait between two attempts; default 5 s. */
  maxBackoffMs?: number;
  /** Requests in flight at once, over every fetch of this source. */
  concurrency: number;
  /** Ids per `GET /metrics?ids=...`; 0 = one `GET /businesses/{id}/metrics` per business. */
  batchSize: number;
  /**
   * Largest answer, in bytes after content decoding (`BALLAST_METRICS_MAX_BYTES`); default 16 MiB.
   * A larger one is cut off there, and its businesses are missing without a retry.
   */
  maxBytes?: number;
  fetchImpl?: typeof fetch;
  log?: MetricsLog;
  /** Source of jitter in [0, 1); default Math.random. */
  random?: () => number;
}

export interface HttpMetricsSource extends MetricsSource {
  readonly kind: 'http';
  /** calls: HTTP requests sent (retries included); errors: failed attempts and invalid answers. */
  stats(): MetricsSourceStats;
}

/** One request's fate, shared by every id it asked for. */
type Answer = { ok: true; body: unknown } | { ok: false; reason: string };

export const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * The content codings that fetch (undici) decodes itself, with node:zlib, as the body is read.
 * It passes any other coding through undecoded (and drops every decoder when a list names one,
 * `gzip, identity` included), so such answers are refused rather than parsed as garbage.
 */
const DECODED_CODINGS = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

/** A failure that another attempt may fix. */
class Retryable {
  constructor(readonly reason: string) {}
}

/**
 * The metrics source of SPEC section 4: one GET per business or per batch of ids, a time-out per
 * attempt, retries with exponential backoff and full jitter for what a retry can fix (5xx,
 * network, time-outs) and none for what it cannot (4xx, invalid answers, answers over `maxBytes`
 * or in a content coding fetch does not decode). A business whose metrics do not arrive is
 * missing with a reason; only the caller's abort makes fetch throw.
 */
export function createHttpMetricsSource(opts: HttpMetricsSourceOptions): HttpMetricsSource {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  const backoffMs = opts.backoffMs ?? 100;
  const maxBackoffMs = opts.maxBackoffMs ?? 5_000;
  const random = opts.random ?? Math.random;
  const attempts = Math.max(0, Math.floor(opts.retries)) + 1;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  const limit = pLimit(Math.max(1, Math.floor(opts.concurrency)));
  const counters: MetricsSourceStats = { calls: 0, businessesRequested: 0, errors: 0 };

  /** An answer refused for its size or coding: another attempt would get the same. */
  function refused(url: string, reason: string): Answer {
    counters.errors++;
    opts.log?.warn({ url, reason }, 'metrics answer refused');
    return { ok: false, reason };
  }

  /** One attempt, holding a concurrency slot only while the request is in flight. */
  async function attempt(url: string, signal: AbortSignal | undefined): Promise<Answer> {
    // A request that waited for a slot past the caller's abort is not sent.
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    counters.calls++;
    try {
      const res = await fetchImpl(url, { signal: combined, headers: { accept: 'application/json' } });
      if (res.status >= 500) {
        await res.body?.cancel().catch(() => {});
        throw new Retryable(`HTTP ${res.status}`);
      }
      if (res.status === 404) {
        await res.body?.cancel().catch(() => {});
        return { ok: false, reason: 'not found (HTTP 404)' };
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        counters.errors++;
        return { ok: false, reason: `HTTP ${res.status} (not retried)` };
      }
      const coding = unsupportedCoding(res.headers.get('content-encoding'));
      if (coding !== undefined) {
        await res.body?.cancel().catch(() => {});
        return refused(url, `unsupported content-encoding ${coding}`);
      }
      const tooLarge = `answer too large (over ${maxBytes} bytes`;
      const declared = Number(res.headers.get('content-length') ?? Number.NaN);
      if (declared > maxBytes) {
        await res.body?.cancel().catch(() => {});
        return refused(url, `${tooLarge}: Content-Length ${declared})`);
      }
      const bytes = await readAtMost(res.body, maxBytes);
      if (bytes === undefined) return refused(url, `${tooLarge})`);
      try {
        // What res.text() does: UTF-8, a byte-order mark dropped, bad sequences replaced.
        return { ok: true, body: JSON.parse(new TextDecoder().decode(bytes)) as unknown };
      } catch (err) {
        counters.errors++;
        return { ok: false, reason: `invalid metrics: not JSON (${(err as Error).message})` };
      }
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      counters.errors++;
      if (err instanceof Retryable) throw err;
      if (timeout.aborted) throw new Retryable(`timed out after ${opts.timeoutMs} ms`);
      throw new Retryable(`network error: ${networkReason(err)}`);
    }
  }

  async function request(url: string, signal: AbortSignal | undefined): Promise<Answer> {
    let last = '';
    for (let n = 1; n <= attempts; n++) {
      try {
        return await limit(() => attempt(url, signal));
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        last = err.reason;
      }
      if (n < attempts) {
        const ceiling = Math.min(maxBackoffMs, backoffMs * 2 ** (n - 1));
        try {
          await delay(random() * ceiling, undefined, signal ? { signal } : {});
        } catch (err) {
          throw signal?.aborted ? signal.reason : err;
        }
      }
    }
    const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    const reason = last.startsWith('HTTP ') ? `${last} after ${tries}` : `${last} (${tries})`;
    opts.log?.warn({ url, reason }, 'metrics request failed');
    return { ok: false, reason };
  }

  async function fetchOne(id: string, signal: AbortSignal | undefined, out: Collector): Promise<void> {
    const answer = await request(`${baseUrl}/businesses/${encodeURIComponent(id)}/metrics`, signal);
    if (!answer.ok) return out.miss(id, answer.reason);
    out.entry(id, answer.body);
  }

  async function fetchBatch(ids: string[], signal: AbortSignal | undefined, out: Collector): Promise<void> {
    const answer = await request(`${baseUrl}/metrics?ids=${ids.map(encodeURIComponent).join(',')}`, signal);
    if (!answer.ok) {
      for (const id of ids) out.miss(id, answer.reason);
      return;
    }
    if (!Array.isArray(answer.body)) {
      counters.errors++;
      for (const id of ids) out.miss(id, 'invalid metrics: the batch answer is not an array');
      return;
    }
    const wanted = new Set(ids);
    for (const item of answer.body) {
      const id = (item as { business_id?: unknown } | null)?.business_id;
      if (typeof id === 'string' && wanted.has(id)) {
        wanted.delete(id);
        out.entry(id, item);
      }
    }
    for (const id of wanted) out.miss(id, 'not in the batch answer');
  }

  return {
    kind: 'http',
    async fetch(businessIds, signal) {
      const ids = [...new Set(businessIds)];
      counters.businessesRequested += ids.length;
      const out = new Collector(() => counters.errors++);
      const work: Promise<void>[] = [];
      if (opts.batchSize > 0) {
        for (let i = 0; i < ids.length; i += opts.batchSize) {
          work.push(fetchBatch(ids.slice(i, i + opts.batchSize), signal, out));
        }
      } else {
        for (const id of ids) work.push(fetchOne(id, signal, out));
      }
      // allSettled first so that no request is left running unobserved when one throws.
      const settled = await Promise.allSettled(work);
      for (const s of settled) if (s.status === 'rejected') throw s.reason;
      return out.result();
    },
    stats: () => ({ ...counters }),
  };
}

/** Gathers one fetch's answers, validating each body against the id it was asked for. */
class Collector {
  private readonly metrics = new Map<string, BusinessMetrics>();
  private readonly missing = new Map<string, string>();

  constructor(private readonly onInvalid: () => void) {}

  miss(id: string, reason: string): void {
    this.missing.set(id, reason);
  }

  entry(id: string, body: unknown): void {
    const parsed = safeMetricsFromWire(body);
    if (!parsed.ok) {
      this.onInvalid();
      this.missing.set(id, `invalid metrics: ${parsed.error}`);
    } else if (parsed.metrics.businessId !== id) {
      this.onInvalid();
      this.missing.set(
        id,
        `invalid metrics: business_id is ${JSON.stringify(parsed.metrics.businessId)}, expected ${JSON.stringify(id)}`,
      );
    } else {
      this.metrics.set(id, parsed.metrics);
    }
  }

  result(): MetricsResult {
    return { metrics: this.metrics, missing: this.missing };
  }
}

/**
 * The body's bytes (decoded, as fetch hands them over), or undefined once they pass `max`: the
 * read is cancelled there, which aborts the request, so the rest is neither received nor decoded
 * (a gzip bomb stops at the cap too).
 */
async function readAtMost(
  body: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, total);
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
}

/** The Content-Encoding header when fetch would not decode it; undefined when the body is plain or decoded. */
function unsupportedCoding(header: string | null): string | undefined {
  const value = header?.trim().toLowerCase() ?? '';
  if (value === '' || value === 'identity') return undefined;
  const codings = value.split(',').map((c) => c.trim());
  return codings.every((c) => DECODED_CODINGS.has(c)) ? undefined : value;
}

/** undici hides the useful part (ECONNREFUSED...) in `cause`. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
