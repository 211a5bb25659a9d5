// Cheap probes of a receiver from outside: routes in its namespace's kernel FIB and the
// memory and CPU time of its processes, all read from /proc without starting a process.
//
// FIB counts: /proc/PID/net/* shows the network namespace of PID, so any process of the
// receiver gives its namespace's tables. IPv4: `fib_triestat` counts the prefixes of the
// main trie (far cheaper than `ip route show`, which formats every route as text); IPv6:
// `rt6_stats` keeps a running count of FIB entries (O(1)). Both count every route of the
// namespace (connected, local, ...), so a baseline taken before the feed is subtracted.
//
// The IPv4 count is a walk of the whole trie (the kernel has no running count), done for
// every table the file lists. Until a namespace has a policy rule, its Local table is the
// Main trie under another name, so each read walks the 1M routes twice (~120-250 ms here,
// under load); splitLocalTable() separates them first, halving it (~60 ms). Callers still
// poll it sparingly (see WatchOptions.budget) and read it off the event loop.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/**
 * Gives the namespace's Local table a trie of its own (the kernel merges Local into Main
 * until the first IPv4 rule is added, and never merges back): a rule is added and
 * removed again, so the rules end as they began. Routing is unchanged (Local is still
 * looked up first, then Main); only lookups of a route's gateway go through the rules.
 * Call before the feed (it copies the Local routes out of the trie) and before baseline().
 */
export async function splitLocalTable(netns: string): Promise<void> {
  await execFileP('ip', ['-n', netns, '-4', 'rule', 'add', 'pref', '32000', 'lookup', 'main']);
  await execFileP('ip', ['-n', netns, '-4', 'rule', 'del', 'pref', '32000', 'lookup', 'main']);
}

/** "Prefixes:" of every table in /proc/net/fib_triestat, by its heading (Main, Local, "Id 100"). */
export function trieStatTables(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let table: string | undefined;
  for (const line of text.split('\n')) {
    const h = /^([^\s:][^:]*):$/.exec(line);
    if (h) {
      table = h[1]!;
      continue;
    }
    const p = /^\s+Prefixes:\s+(\d+)/.exec(line);
    if (p && table !== undefined && !out.has(table)) out.set(table, Number(p[1]));
  }
  return out;
}

/** "Prefixes:" of the Main trie in /proc/net/fib_triestat (it includes Local's routes until splitLocalTable). */
export function parseTrieStatPrefixes(text: string): number {
  const m = /^Main:[\s\S]*?Prefixes:\s+(\d+)/m.exec(text);
  if (!m) throw new Error('fib_triestat: no Main table with a Prefixes line');
  return Number(m[1]);
}

/** fib6 route entries from /proc/net/rt6_stats (hex fields: nodes, route nodes, allocs, entries, cache, discarded). */
export function parseRt6Entries(text: string): number {
  const f = text.trim().split(/\s+/);
  if (f.length < 4 || !/^[0-9a-f]+$/i.test(f[3]!)) throw new Error(`rt6_stats: unexpected ${JSON.stringify(text)}`);
  return parseInt(f[3]!, 16);
}

/** Routes of one namespace (seen through one of its processes), relative to a baseline. */
export class FibCounter {
  private base4 = 0;
  private base6 = 0;

  constructor(
    private readonly pid: number,
    readonly v4: boolean,
    readonly v6: boolean,
  ) {}

  /** Raw totals (IPv4 prefixes, IPv6 entries) of the namespace. */
  raw(): { v4: number; v6: number } {
    return {
      v4: this.v4 ? parseTrieStatPrefixes(readFileSync(`/proc/${this.pid}/net/fib_triestat`, 'utf8')) : 0,
      v6: this.v6 ? parseRt6Entries(readFileSync(`/proc/${this.pid}/net/rt6_stats`, 'utf8')) : 0,
    };
  }

  /** The same, read in libuv's thread pool. */
  async rawAsync(): Promise<{ v4: number; v6: number }> {
    const [t4, t6] = await Promise.all([
      this.v4 ? readFile(`/proc/${this.pid}/net/fib_triestat`, 'utf8') : undefined,
      this.v6 ? readFile(`/proc/${this.pid}/net/rt6_stats`, 'utf8') : undefined,
    ]);
    return { v4: t4 === undefined ? 0 : parseTrieStatPrefixes(t4), v6: t6 === undefined ? 0 : parseRt6Entries(t6) };
  }

  /** Takes the current totals as zero (call before the feed). */
  baseline(): void {
    const r = this.raw();
    this.base4 = r.v4;
    this.base6 = r.v6;
  }

  /** Routes added since the baseline. */
  countSync(): number {
    const r = this.raw();
    return r.v4 - this.base4 + (r.v6 - this.base6);
  }

  async count(): Promise<number> {
    const r = await this.rawAsync();
    return r.v4 - this.base4 + (r.v6 - this.base6);
  }
}

let clkTck: number | undefined;
/** Clock ticks per second of /proc/PID/stat times. */
export function clockTicks(): number {
  if (clkTck === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    clkTck = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clkTck;
}

export interface ProcSample {
  readonly pid: number;
  readonly comm: string;
  /** Peak resident set (VmHWM) and current resident set, bytes. */
  readonly peakRss: number;
  readonly rss: number;
  /** User + system CPU time, seconds (all threads). */
  readonly cpu: number;
}

/** utime + stime (fields 14 and 15) of /proc/PID/stat, in ticks; comm may contain spaces. */
export function parseStatCpuTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  const ut = Number(rest[11]);
  const st = Number(rest[12]);
  if (!Number.isFinite(ut) || !Number.isFinite(st)) throw new Error('unexpected /proc/PID/stat');
  return ut + st;
}

/** A "Name:   N kB" field of /proc/PID/status, in bytes (0 when absent). */
export function statusKb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export function sampleProc(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return {
    pid,
    comm: /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?',
    peakRss: statusKb(status, 'VmHWM'),
    rss: statusKb(status, 'VmRSS'),
    cpu: parseStatCpuTicks(stat) / clockTicks(),
  };
}

/** Samples of several processes; a process that is gone is left out. */
export function sampleProcs(pids: readonly number[]): ProcSample[] {
  const out: ProcSample[] = [];
  for (const pid of pids) {
    try {
      out.push(sampleProc(pid));
    } catch {
      // exited
    }
  }
  return out;
}

export function sumCpu(s: readonly ProcSample[]): number {
  return s.reduce((a, p) => a + p.cpu, 0);
}
