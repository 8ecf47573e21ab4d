import { type ChainableCommander, Cluster } from 'ioredis';
import type { RedisClient } from './redis.js';

/**
 * A batch of commands whose keys may lie in different hash slots: a pipeline on one Redis (one
 * round trip); on a Cluster, where a pipeline must stay on one node and a command on one slot,
 * each command is sent on its own, all at once (the client writes them without waiting, so it is
 * still about one round trip per node). `exec()` answers as a pipeline does: `[error, reply]` per
 * command, in order. Not atomic on a Cluster: use it only where the code does not need MULTI's
 * all-or-nothing across these keys (one key's own MULTI stays a MULTI).
 */
export function crossSlot(client: RedisClient): ChainableCommander {
  return client instanceof Cluster ? splitBatch(client) : client.pipeline();
}

type Send = () => Promise<unknown>;

function splitBatch(client: Cluster): ChainableCommander {
  const queued: Send[] = [];
  const commands = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const exec = async (): Promise<[Error | null, unknown][]> => {
    const settled = await Promise.allSettled(queued.map((send) => send()));
    return settled.map((s) => (s.status === 'fulfilled' ? [null, s.value] : [toError(s.reason), null]));
  };
  const batch: ChainableCommander = new Proxy({} as ChainableCommander, {
    get(_target, name) {
      if (name === 'exec') return exec;
      if (name === 'length') return queued.length;
      // Not a thenable: `await batch` must not call a command named "then".
      if (typeof name !== 'string' || name === 'then') return undefined;
      const command = commands[name];
      if (typeof command !== 'function') throw new TypeError(`no Redis command ${name}`);
      return (...args: unknown[]) => {
        queued.push(() => command.apply(client, args));
        return batch;
      };
    },
  });
  return batch;
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
