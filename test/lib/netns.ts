// Isolated network labs for interop/e2e tests: network namespaces joined by veth pairs
// (or a bridge), processes started inside them, and a cleanup that undoes all of it.
//
// Every namespace is named tsb-<pid>-<seq>-<lab>-<name>, and the lab's temp dir
// tsb-<pid>-<lab>-XXXXXX, so a later run can recognise and delete what a crashed run
// (a dead pid) left behind. Nothing here touches the root namespace's interfaces or
// routes: veth ends are created directly inside their namespaces.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  check,
  pidAlive,
  pidComm,
  run,
  terminate,
  terminateSync,
  waitFor,
  type RunOptions,
  type RunResult,
} from './proc.js';

export interface Ns {
  /** The name the test uses ('r1'). */
  readonly name: string;
  /** The real namespace name under /run/netns. */
  readonly netns: string;
}

export type NsRef = Ns | string;

export interface NamespaceOptions {
  /** Turn on IPv4 and IPv6 forwarding (a router between two other namespaces). */
  readonly forwarding?: boolean;
}

export interface LinkSpec {
  /** IPv4 address with length on a's end, e.g. '192.0.2.1/30'. */
  readonly a?: string;
  readonly b?: string;
  /** IPv6 address with length on a's end, e.g. '2001:db8:12::1/64'. */
  readonly a6?: string;
  readonly b6?: string;
  /** Interface names (default to-<other ns>). At most 15 characters. */
  readonly ifA?: string;
  readonly ifB?: string;
}

export interface LinkInfo {
  readonly a: Ns;
  readonly b: Ns;
  readonly ifA: string;
  readonly ifB: string;
  /** Addresses without their length, for neighbor statements. */
  readonly ipA?: string;
  readonly ipB?: string;
  readonly ip6A?: string;
  readonly ip6B?: string;
}

export interface LanMember {
  readonly ns: NsRef;
  readonly addr?: string;
  readonly addr6?: string;
  readonly ifname?: string;
}

export interface LanInfo {
  /** The namespace holding the bridge br0. */
  readonly bridge: Ns;
  readonly members: ReadonlyArray<{ ns: Ns; ifname: string; ip?: string; ip6?: string }>;
}

export interface SpawnOptions {
  /** File that receives stdout and stderr (appended). Default: a new file in the lab dir. */
  readonly logFile?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** A kernel route as `ip -j route show` gives it, plus `prefix` always in a/len form. */
export interface KernelRoute {
  readonly prefix: string;
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly protocol?: string;
  readonly scope?: string;
  readonly metric?: number;
  readonly type?: string;
  readonly nexthops?: ReadonlyArray<{ gateway?: string; dev?: string }>;
  readonly [key: string]: unknown;
}

const PREFIX = 'tsb';
let labSeq = 0;
const liveLabs = new Set<Lab>();
let sweptStale = false;
let hooksInstalled = false;

function addrOnly(cidr: string | undefined): string | undefined {
  return cidr === undefined ? undefined : cidr.split('/')[0];
}

function sanitize(s: string, max: number): string {
  const t = s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return (t || 'x').slice(0, max);
}

/** An owner pid still running node: its namespaces and dirs are not stale. */
function ownerAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  return pidAlive(pid) && (pidComm(pid) ?? '').startsWith('node');
}

/** Deletes namespaces and temp dirs left by runs whose process is gone. */
export function sweepStale(): string[] {
  const removed: string[] = [];
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of (list.stdout ?? '').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
    if (!m || ownerAlive(Number(m[1]))) continue;
    killNamespaceProcsSync(name);
    spawnSync('ip', ['netns', 'del', name]);
    removed.push(name);
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    // no tmp dir listing: nothing to sweep
  }
  for (const e of entries) {
    const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(e);
    if (!m || ownerAlive(Number(m[1]))) continue;
    rmSync(join(tmpdir(), e), { recursive: true, force: true });
    removed.push(join(tmpdir(), e));
  }
  return removed;
}

function namespacePids(netns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

function killNamespaceProcsSync(netns: string): void {
  for (const pid of namespacePids(netns)) terminateSync(pid, 500);
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const lab of liveLabs) lab.cleanupSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const lab of liveLabs) lab.cleanupSync();
      // Re-raise with the default action so the exit status tells what happened.
      process.kill(process.pid, sig);
    });
  }
}

/** Creates an empty lab; add namespaces and links to it, and always `await lab.cleanup()`. */
export function createLab(name: string): Lab {
  if (!sweptStale) {
    sweptStale = true;
    sweepStale();
  }
  installExitHooks();
  const lab = new Lab(name);
  liveLabs.add(lab);
  return lab;
}

export class Lab {
  readonly name: string;
  /** tsb-<pid>-<seq>-<name>: prefix of every namespace of this lab. */
  readonly id: string;
  /** Private temp dir for configs, sockets and logs; removed by cleanup. */
  readonly dir: string;
  private readonly nsByName = new Map<string, Ns>();
  private readonly ifNames = new Map<string, Set<string>>();
  private readonly procs = new Map<number, { cmd: string; logFile: string }>();
  private cleaning: Promise<void> | undefined;
  private readonly finalizers: Array<() => void> = [];
  private spawnSeq = 0;

  constructor(name: string) {
    this.name = sanitize(name, 16);
    this.id = `${PREFIX}-${process.pid}-${++labSeq}-${this.name}`;
    this.dir = mkdtempSync(join(tmpdir(), `${PREFIX}-${process.pid}-${this.name}-`));
  }

  /** Namespaces created so far. */
  namespaces(): Ns[] {
    return [...this.nsByName.values()];
  }

  /** Pids of the processes started with spawnIn that are still tracked. */
  pids(): number[] {
    return [...this.procs.keys()];
  }

  ns(ref: NsRef): Ns {
    if (typeof ref !== 'string') return ref;
    const ns = this.nsByName.get(ref);
    if (!ns) throw new Error(`lab ${this.name}: no namespace named ${ref}`);
    return ns;
  }

  /** Where mkdir(sub) puts its directory. */
  dirOf(sub: string): string {
    return join(this.dir, sanitize(sub, 40));
  }

  /** A fresh directory inside the lab dir. */
  mkdir(sub: string): string {
    const p = this.dirOf(sub);
    mkdirSync(p, { recursive: true });
    return p;
  }

  private assertOpen(): void {
    if (this.cleaning) throw new Error(`lab ${this.name} is cleaned up`);
  }

  /** Creates a namespace with lo up and IPv6 DAD off (addresses are usable at once). */
  async addNamespace(name: string, opts: NamespaceOptions = {}): Promise<Ns> {
    this.assertOpen();
    if (this.nsByName.has(name)) throw new Error(`lab ${this.name}: namespace ${name} exists`);
    const ns: Ns = { name, netns: `${this.id}-${sanitize(name, 24)}` };
    this.nsByName.set(name, ns);
    this.ifNames.set(ns.netns, new Set(['lo']));
    await check('ip', ['netns', 'add', ns.netns]);
    await check('ip', ['-n', ns.netns, 'link', 'set', 'lo', 'up']);
    const sysctls = ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'];
    // Keep the namespace quiet and deterministic: no router solicitations, no RAs taken.
    sysctls.push('net.ipv6.conf.default.accept_ra=0', 'net.ipv6.conf.default.router_solicitations=0');
    if (opts.forwarding) sysctls.push('net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
    await check('ip', ['netns', 'exec', ns.netns, 'sysctl', '-q', '-w', ...sysctls]);
    return ns;
  }

  private ifName(ns: Ns, wanted: string | undefined, fallback: string): string {
    const used = this.ifNames.get(ns.netns)!;
    if (wanted !== undefined) {
      if (wanted.length > 15) throw new Error(`interface name ${wanted} is longer than 15 characters`);
      if (used.has(wanted)) throw new Error(`interface ${wanted} exists in ${ns.name}`);
      used.add(wanted);
      return wanted;
    }
    const base = sanitize(fallback, 13);
    let n = base;
    for (let i = 2; used.has(n); i++) n = `${base.slice(0, 12)}${i}`;
    used.add(n);
    return n;
  }

  private async addAddrs(ns: Ns, ifname: string, v4: string | undefined, v6: string | undefined): Promise<void> {
    if (v4 !== undefined) await check('ip', ['-n', ns.netns, 'addr', 'add', v4, 'dev', ifname]);
    if (v6 !== undefined) await check('ip', ['-n', ns.netns, '-6', 'addr', 'add', v6, 'dev', ifname, 'nodad']);
  }

  /** Waits until the interface is up and none of its addresses is still tentative. */
  private async waitUsable(ns: Ns, ifname: string, v6: boolean): Promise<void> {
    await waitFor(
      async () => {
        const r = await check('ip', ['-n', ns.netns, '-j', 'addr', 'show', 'dev', ifname]);
        return JSON.parse(r.stdout) as Array<{
          operstate?: string;
          addr_info?: Array<{ family?: string; local?: string; tentative?: boolean; dadfailed?: boolean }>;
        }>;
      },
      {
        timeoutMs: 10_000,
        intervalMs: 50,
        label: `${ns.name}/${ifname} up without tentative addresses`,
        until: (links) =>
          links.length === 1 &&
          links[0]!.operstate === 'UP' &&
          (links[0]!.addr_info ?? []).every((a) => !a.tentative && !a.dadfailed) &&
          // With IPv6 the link-local address (BGP's second next hop) appears once the link is up.
          (!v6 || (links[0]!.addr_info ?? []).some((a) => a.family === 'inet6' && (a.local ?? '').startsWith('fe80'))),
      },
    );
  }

  /** Joins two namespaces with a veth pair and gives each end its addresses. */
  async link(aRef: NsRef, bRef: NsRef, spec: LinkSpec = {}): Promise<LinkInfo> {
    this.assertOpen();
    const a = this.ns(aRef);
    const b = this.ns(bRef);
    const ifA = this.ifName(a, spec.ifA, `to-${b.name}`);
    const ifB = this.ifName(b, spec.ifB, `to-${a.name}`);
    await check('ip', ['link', 'add', ifA, 'netns', a.netns, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.netns]);
    await this.addAddrs(a, ifA, spec.a, spec.a6);
    await this.addAddrs(b, ifB, spec.b, spec.b6);
    await check('ip', ['-n', a.netns, 'link', 'set', ifA, 'up']);
    await check('ip', ['-n', b.netns, 'link', 'set', ifB, 'up']);
    await Promise.all([this.waitUsable(a, ifA, spec.a6 !== undefined), this.waitUsable(b, ifB, spec.b6 !== undefined)]);
    const info: { -readonly [K in keyof LinkInfo]: LinkInfo[K] } = { a, b, ifA, ifB };
    const ipA = addrOnly(spec.a);
    const ipB = addrOnly(spec.b);
    const ip6A = addrOnly(spec.a6);
    const ip6B = addrOnly(spec.b6);
    if (ipA !== undefined) info.ipA = ipA;
    if (ipB !== undefined) info.ipB = ipB;
    if (ip6A !== undefined) info.ip6A = ip6A;
    if (ip6B !== undefined) info.ip6B = ip6B;
    return info;
  }

  /** One shared segment: a bridge namespace `name` with br0, each member joined by a veth. */
  async lan(name: string, members: readonly LanMember[]): Promise<LanInfo> {
    const bridge = await this.addNamespace(name);
    await check('ip', ['-n', bridge.netns, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0']);
    await check('ip', ['-n', bridge.netns, 'link', 'set', 'br0', 'up']);
    const out: Array<{ ns: Ns; ifname: string; ip?: string; ip6?: string }> = [];
    let i = 0;
    for (const m of members) {
      const ns = this.ns(m.ns);
      const ifname = this.ifName(ns, m.ifname, `lan-${name}`);
      const port = this.ifName(bridge, undefined, `p${i++}-${ns.name}`);
      await check('ip', ['link', 'add', ifname, 'netns', ns.netns, 'type', 'veth', 'peer', 'name', port, 'netns', bridge.netns]);
      await check('ip', ['-n', bridge.netns, 'link', 'set', port, 'master', 'br0']);
      await check('ip', ['-n', bridge.netns, 'link', 'set', port, 'up']);
      await this.addAddrs(ns, ifname, m.addr, m.addr6);
      await check('ip', ['-n', ns.netns, 'link', 'set', ifname, 'up']);
      const entry: { ns: Ns; ifname: string; ip?: string; ip6?: string } = { ns, ifname };
      const ip = addrOnly(m.addr);
      const ip6 = addrOnly(m.addr6);
      if (ip !== undefined) entry.ip = ip;
      if (ip6 !== undefined) entry.ip6 = ip6;
      out.push(entry);
    }
    await Promise.all(out.map((m) => this.waitUsable(m.ns, m.ifname, m.ip6 !== undefined)));
    return { bridge, members: out };
  }

  /** Runs a command inside the namespace and resolves with its output (any exit code). */
  exec(ref: NsRef, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.ns(ref).netns, cmd, ...args], opts);
  }

  /** Like exec but rejects unless the command exits 0. */
  check(ref: NsRef, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    return check('ip', ['netns', 'exec', this.ns(ref).netns, cmd, ...args], opts);
  }

  /**
   * Starts a long-running process inside the namespace (`ip netns exec` execs it, so the
   * child's pid is the command's pid). Output goes to a log file; the pid is tracked and
   * killed by cleanup.
   */
  spawnIn(ref: NsRef, cmd: string, args: readonly string[] = [], opts: SpawnOptions = {}): ChildProcess {
    this.assertOpen();
    const ns = this.ns(ref);
    const logFile = opts.logFile ?? join(this.dir, `${ns.name}-${basename(cmd)}-${++this.spawnSeq}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn('ip', ['netns', 'exec', ns.netns, cmd, ...args], {
        stdio: ['ignore', fd, fd],
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
        ...(opts.env !== undefined ? { env: opts.env } : {}),
      });
    } finally {
      closeSync(fd);
    }
    const pid = child.pid;
    if (pid === undefined) throw new Error(`cannot start ${cmd} in ${ns.name}`);
    this.procs.set(pid, { cmd, logFile });
    child.on('error', () => undefined);
    child.on('exit', () => this.procs.delete(pid));
    return child;
  }

  /** Registers a synchronous step for cleanup, run after the processes are gone (e.g. remove files a daemon left outside the lab dir). */
  onCleanup(fn: () => void): void {
    this.finalizers.push(fn);
  }

  private runFinalizers(problems: string[]): void {
    for (const fn of this.finalizers.splice(0)) {
      try {
        fn();
      } catch (e) {
        problems.push(e instanceof Error ? e.message : String(e));
      }
    }
  }

  /** Log file of a process started with spawnIn (while tracked). */
  logFileOf(pid: number): string | undefined {
    return this.procs.get(pid)?.logFile;
  }

  /** Stops a process: SIGTERM, then SIGKILL after `graceMs`. Resolves true when it is gone. */
  async kill(pid: number, graceMs = 3000): Promise<boolean> {
    const gone = await terminate(pid, graceMs);
    if (gone) this.procs.delete(pid);
    return gone;
  }

  /** The namespace's kernel routes of one family (main table unless `table` is given). */
  async routes(ref: NsRef, family: 4 | 6 | 'ipv4' | 'ipv6', table = 'main'): Promise<KernelRoute[]> {
    const six = family === 6 || family === 'ipv6';
    const r = await check('ip', ['-n', this.ns(ref).netns, '-j', six ? '-6' : '-4', 'route', 'show', 'table', table]);
    const raw = JSON.parse(r.stdout || '[]') as Array<Record<string, unknown> & { dst: string }>;
    return raw.map((x) => {
      const dst = x.dst;
      const prefix = dst === 'default' ? (six ? '::/0' : '0.0.0.0/0') : dst.includes('/') ? dst : `${dst}/${six ? 128 : 32}`;
      return { ...x, dst, prefix } as KernelRoute;
    });
  }

  /**
   * Kills every tracked process (SIGTERM, then SIGKILL), anything else still inside the
   * lab's namespaces, deletes the namespaces and the temp dir. Safe to call more than once.
   */
  cleanup(): Promise<void> {
    this.cleaning ??= this.doCleanup();
    return this.cleaning;
  }

  private async doCleanup(): Promise<void> {
    const problems: string[] = [];
    await Promise.all(this.pids().map((pid) => this.kill(pid)));
    const nss = this.namespaces().reverse();
    await Promise.all(nss.map((ns) => Promise.all(namespacePids(ns.netns).map((pid) => terminate(pid, 1000)))));
    for (const ns of nss) {
      const r = await run('ip', ['netns', 'del', ns.netns]);
      if (r.code !== 0 && !/No such file/.test(r.stderr)) problems.push(`ip netns del ${ns.netns}: ${r.stderr.trim()}`);
    }
    for (const pid of this.pids()) if (pidAlive(pid)) problems.push(`pid ${pid} survived SIGKILL`);
    this.runFinalizers(problems);
    rmSync(this.dir, { recursive: true, force: true });
    liveLabs.delete(this);
    if (problems.length > 0) throw new Error(`lab ${this.name} cleanup: ${problems.join('; ')}`);
  }

  /** Synchronous best-effort cleanup for process exit and signals. */
  cleanupSync(): void {
    if (!liveLabs.has(this)) return;
    this.cleaning ??= Promise.resolve();
    for (const pid of this.pids()) terminateSync(pid);
    for (const ns of this.namespaces().reverse()) {
      killNamespaceProcsSync(ns.netns);
      spawnSync('ip', ['netns', 'del', ns.netns]);
    }
    this.runFinalizers([]);
    rmSync(this.dir, { recursive: true, force: true });
    liveLabs.delete(this);
  }
}
