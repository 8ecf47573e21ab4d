/**
 * Preloaded into the bench's worker processes (`node --import`): counts the Redis commands the
 * process sends and the writes that carry them (a command on its own, or a whole pipeline or
 * MULTI), by patching ioredis's one way out, and writes them to BENCH_COMMAND_COUNT_FILE as the
 * process exits. Redis's commandstats cannot tell a command sent from one a script runs
 * (redis.call); this can. A script call counts as `evalsha:<name>` (BullMQ's and Ballast's
 * scripts are all defined by name). With BENCH_AUTO_PIPELINE=1 the process's first connection
 * (the app's: createApp opens it before the queue's and the worker's) auto-pipelines, to measure
 * ioredis's enableAutoPipelining without a build of its own.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';

export interface SentCounts {
  /** Commands sent, by name (lower case); a script call is one `evalsha:<script>`. */
  readonly commands: Record<string, number>;
  /** Writes to a Redis socket: one per command sent alone, one per pipeline or MULTI. */
  readonly writes: number;
}

const file = process.env.BENCH_COMMAND_COUNT_FILE;
if (file) {
  const commands = new Map<string, number>();
  const pipelines = new WeakSet<object>();
  let writes = 0;
  const scripts = new Map<string, string>();
  type Command = { name: string; args: unknown[] };
  type Send = (command: Command, stream?: { isPipeline?: boolean }, node?: unknown) => unknown;
  type Define = (name: string, definition: { lua: string }) => unknown;
  const proto = Redis.prototype as unknown as { sendCommand: Send; defineCommand: Define };
  const define = proto.defineCommand;
  proto.defineCommand = function (this: unknown, name, definition) {
    scripts.set(createHash('sha1').update(definition.lua).digest('hex'), name);
    return define.call(this, name, definition);
  };
  let connections = 0;
  const send = proto.sendCommand;
  proto.sendCommand = function (
    this: { options: { enableAutoPipelining?: boolean } },
    command,
    stream,
    node,
  ) {
    let name = command.name.toLowerCase();
    if (name === 'evalsha') name = `evalsha:${scripts.get(String(command.args[0])) ?? '?'}`;
    commands.set(name, (commands.get(name) ?? 0) + 1);
    // ioredis hands a pipeline's commands over one by one with the pipeline's own stream object,
    // and writes them together once the last is in.
    if (!stream?.isPipeline) writes++;
    else if (!pipelines.has(stream)) {
      pipelines.add(stream);
      writes++;
    }
    return send.call(this, command, stream, node);
  };
  if (process.env.BENCH_AUTO_PIPELINE === '1') {
    type Connect = () => unknown;
    const p = Redis.prototype as unknown as { connect: Connect };
    const connect = p.connect;
    p.connect = function (this: { options: { enableAutoPipelining?: boolean } }) {
      if (connections++ === 0) this.options.enableAutoPipelining = true;
      return connect.call(this);
    };
  }
  process.once('exit', () => {
    const counts: SentCounts = { commands: Object.fromEntries(commands), writes };
    writeFileSync(file, JSON.stringify(counts));
  });
}
