/**
 * What a command may touch besides its arguments. Commands print through `out`/`err` and read the
 * environment and the clock from here, never from `process`, so tests can run them in-process
 * with captured output and a pinned clock.
 */
export interface CliContext {
  /** Standard output: results (tables, JSON). */
  readonly out: (text: string) => void;
  /** Standard error: messages for the person at the terminal. */
  readonly err: (text: string) => void;
  /** For `loadConfig(ctx.env)` in commands that need Redis. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: NodeJS.ReadableStream;
  /**
   * Whether stderr is a terminal: progress bars are drawn there (stdout keeps the results, so
   * `enqueue nightly --wait > out.txt` at a terminal still shows the bar).
   */
  readonly interactive: boolean;
  readonly now: () => Date;
  /**
   * Calls `handler` on SIGINT or SIGTERM until the returned function is called. A command that
   * runs until stopped (`reports tail`) listens only while it runs, so every other command keeps
   * the default Ctrl-C behaviour. Tests pass their own to stop such a command; left out, the
   * command runs until its other end condition.
   */
  readonly onInterrupt?: (handler: () => void) => () => void;
  /** How long `--wait` waits for a worker's heartbeat before warning; default 10 s (tests use less). */
  readonly noWorkerWarnMs?: number;
}

export function processContext(): CliContext {
  return {
    out: (text) => {
      process.stdout.write(text);
    },
    err: (text) => {
      process.stderr.write(text);
    },
    env: process.env,
    stdin: process.stdin,
    interactive: process.stderr.isTTY === true,
    now: () => new Date(),
    onInterrupt: (handler) => {
      const listener = () => handler();
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
      };
    },
  };
}
