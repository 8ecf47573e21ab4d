/** Time limits of the HTTP API, in one place. */

/**
 * Longest a request may take before it is answered 503 (request-deadline.ts): a Redis that
 * accepts connections but does not answer, a dependency stuck. A Redis that is down is refused
 * at once (api-redis.ts); `POST /portfolios/{id}/rebalance` adds its wait for the job.
 */
export const REQUEST_TIMEOUT_MS = 10_000;

/** Opening the shared QueueEvents reader: beyond this the request is a 503. */
export const EVENTS_OPEN_TIMEOUT_MS = 3000;

/** How long a request waits for a Redis connection that is still connecting (just after start-up). */
export const REDIS_CONNECT_WAIT_MS = 2000;

/**
 * Closing: how long the API waits for Redis to acknowledge (a queue's close, QUIT, a reader's
 * close) before it cuts the connection. A Redis that accepts and never answers would otherwise
 * hold the shutdown, and the process, forever.
 */
export const CLOSE_WAIT_MS = 2000;
