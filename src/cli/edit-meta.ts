import type { Config } from '../config.js';
import type { WriteMeta } from '../domain/index.js';
import { cliActor } from '../services/actor.js';

/** An operator's edit from the CLI: who (BALLAST_ACTOR, else cli:<user>@<host>) and which command. */
export function cliEdit(config: Pick<Config, 'actor'>, command: string): WriteMeta {
  return { actor: cliActor(config.actor), cause: { type: 'edit', command } };
}
