/** The `ballast` executable (bin/ballast.js imports this). */
import { processContext } from './context.js';
import { runCli } from './run-cli.js';

// `ballast plan ... | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2), processContext());
