/**
 * A private Redis Cluster from the `redis-server` and `redis-cli` binaries, on free ports: for the
 * tests and the scale bench (never for production; operators run their own cluster).
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { type PrivateRedis, startPrivateRedis } from './redis-launcher.js';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 20_000;

export interface PrivateClusterNode {
  readonly port: number;
  readonly server: PrivateRedis;
}

export interface PrivateCluster {
  /** `redis://127.0.0.1:<port>` of every node, comma-separated: a BALLAST REDIS_URL. */
  readonly url: string;
  readonly nodes: readonly PrivateClusterNode[];
  /** The ports of the nodes that are masters now (asked of the cluster, not remembered). */
  masterPorts(): Promise<number[]>;
  /** Stops every node and removes their data dirs. */
  stop(): Promise<void>;
}

export interface StartPrivateClusterOptions {
  /** Masters (at least 3, as Redis requires). */
  readonly masters?: number;
  /** Replicas per master (1 for a failover test). */
  readonly replicas?: number;
  /** cluster-node-timeout: how long a master may be silent before its replica takes over. */
  readonly nodeTimeoutMs?: number;
}

export async function startPrivateCluster(opts: StartPrivateClusterOptions = {}): Promise<PrivateCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicas ?? 0;
  const args = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(opts.nodeTimeoutMs ?? 1500),
    // A node that lost its slots' master still answers for the slots it has.
    '--cluster-require-full-coverage',
    'no',
    // A replica gets its master's data at once (no 5 s wait for other replicas to join the sync).
    '--repl-diskless-sync-delay',
    '0',
  ];
  const nodes: PrivateClusterNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.server.stop()));
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const server = await startPrivateRedis({ extraArgs: args });
      nodes.push({ port: server.port, server });
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    await waitUntilReady(
      nodes.map((node) => node.port),
      masters,
      replicas,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: nodes.map((node) => `redis://127.0.0.1:${node.port}`).join(','),
    nodes,
    masterPorts: () => masterPortsOf(nodes),
    stop,
  };
}

/** Every node says cluster_state:ok and sees every master and replica. */
async function waitUntilReady(ports: number[], masters: number, replicas: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const states = await Promise.all(ports.map((port) => nodeState(port)));
    const ok = states.every((s) => s.ok && s.masters === masters && s.replicas === masters * replicas);
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`private cluster on ports ${ports.join(',')} not ready: ${JSON.stringify(states)}`);
    }
    await sleep(100);
  }
}

async function nodeState(port: number): Promise<{ ok: boolean; masters: number; replicas: number }> {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = String(await client.call('CLUSTER', 'INFO'));
    const replication = await client.info('replication');
    // A replica that has not synced yet could not take over its master.
    const synced = !/^role:slave/m.test(replication) || /^master_link_status:up/m.test(replication);
    const nodes = String(await client.call('CLUSTER', 'NODES'))
      .split('\n')
      .filter((line) => line.trim() && !/fail/.test(line.split(' ')[2] ?? ''));
    const role = (line: string) => line.split(' ')[2] ?? '';
    return {
      ok: /cluster_state:ok/.test(info) && synced,
      masters: nodes.filter((line) => role(line).includes('master')).length,
      replicas: nodes.filter((line) => role(line).includes('slave')).length,
    };
  } catch {
    return { ok: false, masters: 0, replicas: 0 };
  } finally {
    client.disconnect();
  }
}

async function masterPortsOf(nodes: readonly PrivateClusterNode[]): Promise<number[]> {
  for (const node of nodes) {
    if (node.server.pid() === undefined) continue;
    const client = new Redis(node.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    try {
      await client.connect();
      const lines = String(await client.call('CLUSTER', 'NODES')).split('\n');
      return lines
        .filter((line) => /master/.test(line.split(' ')[2] ?? '') && !/fail/.test(line.split(' ')[2] ?? ''))
        .filter((line) => (line.split(' ')[8] ?? '') !== '') // owns slots
        .map((line) => Number((line.split(' ')[1] ?? '').split(':')[1]?.split('@')[0]));
    } catch {
    } finally {
      client.disconnect();
    }
  }
  throw new Error('no node of the private cluster answers');
}
