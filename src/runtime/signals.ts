/**
 * Resolves on the first SIGTERM or SIGINT. A second signal while shutting down forces the
 * process out (exit 1), for an operator who does not want to wait for active jobs.
 */
export function shutdownSignal(onForced: () => void = () => process.exit(1)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) {
        onForced();
        return;
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
