import { hostname, userInfo } from 'node:os';

/**
 * Who the CLI says made a change: BALLAST_ACTOR when set, else `cli:<os user>@<host>`. The API
 * names the token (`api:<name>`), runs their run id (`run:<run_id>`).
 */
export function cliActor(configured: string | undefined): string {
  if (configured) return configured;
  let user = 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry for this uid (some containers): the host still says where it came from.
  }
  return `cli:${user}@${hostname()}`;
}

export const apiActor = (tokenName: string): string => `api:${tokenName}`;
export const runActor = (runId: string): string => `run:${runId}`;
/** The scheduler's own runs: `scheduler:<host>`. */
export const schedulerActor = (): string => `scheduler:${hostname()}`;
