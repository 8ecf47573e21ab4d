/**
 * The http source's bounded answers, against a real HTTP server: a body over the cap is cut off
 * there (and not retried), a Content-Length over it is refused before reading, content codings
 * are decoded under the same cap (a gzip bomb stops there) or refused when unknown.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { brotliCompressSync, createGzip, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHttpMetricsSource,
  DEFAULT_MAX_ANSWER_BYTES,
  type HttpMetricsSourceOptions,
} from '../../src/adapters/metrics/http-metrics-source.js';
import { deferred, type MetricsServer, sendJson, startMetricsServer, wireMetrics } from './metrics-server.js';

const MIB = 1024 * 1024;
const CAP = 1 * MIB;
/** What the streaming endpoint would send in all: far over every cap, never allocated at once. */
const BODY_BYTES = 100 * MIB;
/** What the gzip bomb decodes to; it is about 250 KB on the wire. */
const BOMB_DECODED = 256 * MIB;
/** Growth of the process's peak RSS allowed while one answer is refused (the old read took 100s of MB). */
const RSS_MARGIN = 64 * MIB;

interface Sent {
  /** Bytes handed to the socket before it closed. */
  readonly bytes: number;
  /** Whether every byte was sent: false when the client hung up first. */
  readonly complete: boolean;
}

/** A body of `total` spaces in 64 KiB chunks, written as the socket drains, until the client leaves. */
function streamSpaces(res: ServerResponse, total: number, onClose: (sent: Sent) => void): void {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let bytes = 0;
  res.on('close', () => onClose({ bytes, complete: res.writableFinished }));
  res.writeHead(200, { 'content-type': 'application/json' });
  const pump = () => {
    while (bytes < total && !res.destroyed) {
      bytes += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (bytes >= total) res.end();
  };
  pump();
}

/** `decoded` bytes of spaces, gzipped as a stream (never held decoded). */
async function gzipBomb(decoded: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const ended = once(gzip, 'end');
  const block = Buffer.alloc(MIB, 0x20);
  for (let i = 0; i < decoded / MIB; i++) if (!gzip.write(block)) await once(gzip, 'drain');
  gzip.end();
  await ended;
  return Buffer.concat(out);
}

/** The most this process has held so far, in bytes. */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

const one = (id: string) => `/businesses/${id}/metrics`;

describe('http metrics source, bounded answers', () => {
  let server: MetricsServer;
  let bomb: Buffer;
  let closed = deferred<Sent>();
  const body = (id: string) => Buffer.from(JSON.stringify(wireMetrics(id)));

  beforeAll(async () => {
    bomb = await gzipBomb(BOMB_DECODED);
    server = await startMetricsServer((req, res) => {
      const id = req.id ?? req.ids[0] ?? '';
      switch (id) {
        case 'huge':
        case 'huge-default':
          return streamSpaces(res, BODY_BYTES, closed.resolve);
        case 'declared-huge':
          // Headers only: a client that tried to read the body would wait for its time-out.
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(BODY_BYTES) });
          res.on('close', () => closed.resolve({ bytes: 0, complete: false }));
          res.flushHeaders();
          return;
        case 'gzip-ok':
          res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' });
          return void res.end(gzipSync(body(id)));
        case 'br-ok':
          res.writeHead(200, { 'content-encoding': 'br', 'content-type': 'application/json' });
          return void res.end(brotliCompressSync(body(id)));
        case 'deflate-ok':
          res.writeHead(200, { 'content-encoding': 'deflate', 'content-type': 'application/json' });
          return void res.end(deflateSync(body(id)));
        case 'bomb':
          res.writeHead(200, {
            'content-encoding': 'gzip',
            'content-type': 'application/json',
            'content-length': String(bomb.length),
          });
          res.on('close', () => closed.resolve({ bytes: bomb.length, complete: res.writableFinished }));
          return void res.end(bomb);
        case 'zstd':
          res.writeHead(200, { 'content-encoding': 'zstd', 'content-type': 'application/json' });
          return void res.end(body(id));
        case 'gzip-identity':
          // fetch decodes nothing when a list names a coding it does not know: the gzip bytes would come raw.
          res.writeHead(200, { 'content-encoding': 'gzip, identity', 'content-type': 'application/json' });
          return void res.end(gzipSync(body(id)));
        default:
          return sendJson(res, wireMetrics(id));
      }
    });
  }, 120_000);
  afterAll(() => server.close());

  /** Generous time-outs: a refusal must come from the cap, never from a slow machine. */
  function source(overrides: Partial<HttpMetricsSourceOptions> = {}) {
    return createHttpMetricsSource({
      baseUrl: server.url,
      timeoutMs: 60_000,
      retries: 2,
      backoffMs: 1,
      concurrency: 4,
      batchSize: 0,
      maxBytes: CAP,
      ...overrides,
    });
  }

  it('cuts a 100 MB answer off at the cap, flags the business, and does not retry it', async () => {
    closed = deferred<Sent>();
    const warnings: unknown[] = [];
    const src = source({ log: { warn: (obj) => warnings.push(obj) } });
    const before = peakRss();
    const { metrics, missing } = await src.fetch(['huge', 'fine']);
    const grown = peakRss() - before;

    expect(metrics.has('fine')).toBe(true);
    expect(missing.get('huge')).toBe(`answer too large (over ${CAP} bytes)`);
    expect(server.hits.get(one('huge'))).toBe(1);
    expect(src.stats()).toEqual({ calls: 2, businessesRequested: 2, errors: 1 });
    expect(warnings).toEqual([
      { url: `${server.url}${one('huge')}`, reason: `answer too large (over ${CAP} bytes)` },
    ]);
    // The server saw the connection close long before it had sent everything.
    const sent = await closed.promise;
    expect(sent.complete).toBe(false);
    expect(sent.bytes).toBeLessThan(BODY_BYTES / 4);
    expect(grown).toBeLessThan(RSS_MARGIN);
  });

  it('caps at 16 MiB when no cap is given', async () => {
    closed = deferred<Sent>();
    expect(DEFAULT_MAX_ANSWER_BYTES).toBe(16 * MIB);
    const src = createHttpMetricsSource({
      baseUrl: server.url,
      timeoutMs: 60_000,
      retries: 2,
      backoffMs: 1,
      concurrency: 4,
      batchSize: 0,
    });
    const { missing } = await src.fetch(['huge-default']);
    expect(missing.get('huge-default')).toBe('answer too large (over 16777216 bytes)');
    expect(server.hits.get(one('huge-default'))).toBe(1);
    expect((await closed.promise).complete).toBe(false);
  });

  it('refuses a Content-Length over the cap before reading the body', async () => {
    closed = deferred<Sent>();
    const src = source();
    const { missing } = await src.fetch(['declared-huge']);
    // The body never comes: had the client waited for it, this would be a time-out after 60 s.
    expect(missing.get('declared-huge')).toBe(
      `answer too large (over ${CAP} bytes: Content-Length ${BODY_BYTES})`,
    );
    expect(server.hits.get(one('declared-huge'))).toBe(1);
    // The refused request's connection is dropped, not kept waiting for the body.
    expect(await closed.promise).toEqual({ bytes: 0, complete: false });
  });

  it('flags every business of a batch whose answer is too large', async () => {
    closed = deferred<Sent>();
    const { metrics, missing } = await source({ batchSize: 3 }).fetch(['huge', 'x', 'y']);
    expect(metrics.size).toBe(0);
    for (const id of ['huge', 'x', 'y']) expect(missing.get(id)).toBe(`answer too large (over ${CAP} bytes)`);
    expect(server.hits.get('/metrics?ids=huge,x,y')).toBe(1);
    expect((await closed.promise).complete).toBe(false);
  });

  it('decodes gzip, br and deflate answers', async () => {
    const ids = ['gzip-ok', 'br-ok', 'deflate-ok'];
    const { metrics, missing } = await source().fetch(ids);
    expect(Object.fromEntries(missing)).toEqual({});
    for (const id of ids) expect(metrics.get(id)).toMatchObject({ businessId: id, revenue: 1000 });
  });

  it('stops a gzip bomb at the cap on the decoded bytes, without a retry', async () => {
    expect(bomb.length).toBeLessThan(CAP);
    const before = peakRss();
    const { missing } = await source().fetch(['bomb']);
    const grown = peakRss() - before;
    expect(missing.get('bomb')).toBe(`answer too large (over ${CAP} bytes)`);
    expect(server.hits.get(one('bomb'))).toBe(1);
    // Decoded whole, the bomb alone would take 256 MB, and its text as much again.
    expect(grown).toBeLessThan(RSS_MARGIN);
  });

  it('refuses a content coding it does not decode, naming it, without a retry', async () => {
    const src = source();
    const { missing } = await src.fetch(['zstd', 'gzip-identity']);
    expect(missing.get('zstd')).toBe('unsupported content-encoding zstd');
    expect(missing.get('gzip-identity')).toBe('unsupported content-encoding gzip, identity');
    expect(server.hits.get(one('zstd'))).toBe(1);
    expect(server.hits.get(one('gzip-identity'))).toBe(1);
    expect(src.stats().errors).toBe(2);
  });
});
