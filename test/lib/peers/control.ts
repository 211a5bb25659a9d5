// The drivers' daemons' own CLIs, for what PeerHandle does not expose (last errors,
// counters, one-off configuration). Each driver keeps its control socket in the lab
// directory it made with lab.mkdir(`${ns.name}-<daemon>`).
import { join } from 'node:path';
import type { Lab, Ns } from '../netns.js';
import { run } from '../proc.js';

/** The directory a driver of `daemon` made for `ns`. */
export function driverDir(lab: Lab, ns: Ns, daemon: string): string {
  return lab.dirOf(`${ns.name}-${daemon}`);
}

/** `birdc ARGS` for a BIRD started by the bird driver. */
export async function birdc(lab: Lab, ns: Ns, ...args: string[]): Promise<string> {
  const r = await run('birdc', ['-s', join(driverDir(lab, ns, 'bird'), 'bird.ctl'), ...args], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`birdc ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `vtysh -c CMD` for an FRR started by the frr driver. */
export async function vtysh(lab: Lab, ns: Ns, cmd: string): Promise<string> {
  const r = await run('vtysh', ['--vty_socket', driverDir(lab, ns, 'frr'), '-c', cmd], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`vtysh -c '${cmd}': ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `gobgp --target ... ARGS` for a gobgpd started by the gobgp driver. */
export async function gobgp(lab: Lab, ns: Ns, ...args: string[]): Promise<string> {
  const target = `unix://${join(driverDir(lab, ns, 'gobgp'), 'api.sock')}`;
  const r = await run('gobgp', ['--target', target, ...args], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`gobgp ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}
