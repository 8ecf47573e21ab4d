/**
 * `withApp`, loaded when a command first needs Redis: ioredis, bullmq and pino stay out of
 * `ballast --help` and the offline `plan` (see the note in program.ts).
 */
import type { App } from '../app.js';
import type { CliContext } from './context.js';

export async function withApp<T>(ctx: CliContext, fn: (app: App) => Promise<T>): Promise<T> {
  const loaded = await import('./with-app.js');
  return loaded.withApp(ctx, fn);
}
