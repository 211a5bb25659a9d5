// The node side of the namespace interop labs that run tsbgpd from a policy file with
// the kernel FIB: its routes in the node's kernel, waiting for an exact set of them,
// starting and stopping tsbgpd; and a BIRD run from a config text the test writes
// (for settings the shared driver in test/lib/peers has not got).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tsbgpd } from '../e2e/lab.js';
import type { Lab, Ns } from './netns.js';
import { check, run, waitFor } from './proc.js';

/** Protocol of tsbgpd's routes in these labs (routeInstall protocol: 186). */
export const NODE_ROUTE_PROTO = '186';

/** tsbgpd's IPv4 routes in the node's main table, sorted. */
export async function nodeKernelRoutes(node: Ns): Promise<string[]> {
  const r = await check('ip', ['-n', node.netns, '-j', '-4', 'route', 'show', 'table', 'main', 'proto', NODE_ROUTE_PROTO]);
  return (JSON.parse(r.stdout || '[]') as { dst: string }[]).map((x) => x.dst).sort();
}

/**
 * Waits until the node's routes are exactly `want`; on a timeout fails with the
 * difference and the end of tsbgpd's log (`logTail`, read then).
 */
export async function waitNodeKernel(node: Ns, want: readonly string[], label: string, logTail: () => string, timeoutMs = 20_000): Promise<void> {
  const w = [...want].sort();
  try {
    await waitFor(() => nodeKernelRoutes(node), { timeoutMs, intervalMs: 100, label, until: (have) => JSON.stringify(have) === JSON.stringify(w) });
  } catch (e) {
    assert.deepEqual(await nodeKernelRoutes(node), w, `${(e as Error).message}\n--- tsbgpd log ---\n${logTail()}`);
  }
}

/** tsbgpd in `node` with one policy file, the kernel FIB, socket and log in the lab folder. */
export function startNodeDaemon(lab: Lab, node: Ns, policyFile: string, nodeName: string): Promise<Tsbgpd> {
  return Tsbgpd.startIn(lab, node, {
    config: [policyFile],
    nodeName,
    socket: join(lab.dir, 'tsbgpd.sock'),
    fib: 'kernel',
    logFile: join(lab.dir, 'tsbgpd.log'),
  });
}

/** The `after` of such a lab: stop tsbgpd (if alive) with `sig`, clean the lab up, print how long it all took. */
export async function finishNodeLab(lab: Lab | undefined, daemon: Tsbgpd | undefined, sig: NodeJS.Signals, label: string, startedAt: number): Promise<void> {
  try {
    if (daemon?.alive) await daemon.stop(sig);
  } finally {
    await lab?.cleanup();
  }
  process.stderr.write(`# ${label}: ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
}

/** SIGKILLs a child (a peer "crashing") and resolves once it has exited; false when there was none. */
export async function crash(child: ChildProcess | undefined): Promise<boolean> {
  const pid = child?.pid;
  if (child === undefined || pid === undefined) return false;
  const gone = new Promise((r) => child.once('exit', r));
  process.kill(pid, 'SIGKILL');
  await gone;
  return true;
}

/** BIRD 2 in a lab namespace from a config text, with its control socket, pid and log in `dir`. */
export class BirdProcess {
  child: ChildProcess | undefined;
  readonly sock: string;
  readonly conf: string;
  constructor(
    readonly lab: Lab,
    readonly ns: Ns,
    readonly dir: string,
    /** Names it in wait labels (its router ID). */
    readonly name: string,
  ) {
    this.sock = join(dir, 'bird.ctl');
    this.conf = join(dir, 'bird.conf');
  }

  /** Writes and checks the config, starts BIRD (`extraArgs` after the usual ones), waits until it is up. */
  async run(confText: string, extraArgs: readonly string[] = []): Promise<void> {
    writeFileSync(this.conf, confText);
    await check('bird', ['-p', '-c', this.conf]);
    const args = ['-f', '-c', this.conf, '-s', this.sock, '-P', join(this.dir, 'bird.pid'), ...extraArgs];
    this.child = this.lab.spawnIn(this.ns, 'bird', args, { logFile: join(this.dir, 'bird.log') });
    await waitFor(async () => /Daemon is up and running/.test((await run('birdc', ['-s', this.sock, 'show', 'status'])).stdout), {
      timeoutMs: 15_000,
      label: `bird ${this.name} up`,
    });
  }

  async birdc(...args: string[]): Promise<string> {
    const r = await run('birdc', ['-s', this.sock, ...args], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`birdc ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** BIRD's log so far ('' before it wrote one). */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'bird.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** SIGKILL, as a crash; resolves once it has exited. */
  async kill(): Promise<void> {
    if (await crash(this.child)) this.child = undefined;
  }
}
