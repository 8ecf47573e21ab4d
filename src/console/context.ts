/** What every console handler shares: the API's context, the assets, the session verifier. */
import type { FastifyReply } from 'fastify';
import type { ApiContext } from '../api/context.js';
import type { NamedToken } from '../config.js';
import type { Assets } from './assets.js';
import { documentText, type Html } from './html.js';
import type { SessionVerifier } from './session.js';

export const CONSOLE_PREFIX = '/ui';

export interface ConsoleContext {
  readonly api: ApiContext;
  readonly assets: Assets;
  /** Null when the console is open (no tokens: `--insecure-no-auth`). */
  readonly verifier: SessionVerifier | null;
  readonly tokens: readonly NamedToken[];
}

export function sendPage(reply: FastifyReply, page: Html): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(documentText(page));
}
