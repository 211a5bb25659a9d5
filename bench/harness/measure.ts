// One receiver through the whole bench: its own namespace linked to the feeder's, the
// receiver started, the session brought up by the receiver, the table sent the moment
// it is Established, RIB and FIB watched until complete, then withdraw-all watched
// until both are empty. Memory, CPU, keepalive gaps and (tsbgpd) event-loop lag are
// sampled around each phase. The namespace is deleted afterwards.
import { spawn } from 'node:child_process';
import type { Lab, Ns } from '../../test/lib/netns.js';
import { epochNow, type PhaseResult } from '../feeder/feeder.js';
import type { FeederClient } from './feeder-client.js';
import type { FeederEvent, GapsAnswer } from './feeder-protocol.js';
import { deleteNamespace } from './floor.js';
import { FibCounter, sampleProcs, splitLocalTable, sumCpu, type ProcSample } from './proc-stats.js';
import { startReceiver, type Receiver, type ReceiverKind } from './receivers.js';
import { watchCount, type Convergence } from './watch.js';

/**
 * Addresses of the feeder ↔ receiver link: the benchmarking block (RFC 2544), which no
 * Internet table carries (the 2015 PCH table has routes in TEST-NET-1, 192.0.2.0/24),
 * and the documentation prefix, which the synthetic tables leave out.
 */
export const LINK = {
  receiver4: '198.18.0.1',
  feeder4: '198.18.0.2',
  receiver6: '2001:db8:1::1',
  feeder6: '2001:db8:1::2',
} as const;
export const FEEDER_AS = 65010;
export const RECEIVER_AS = 65001;
/**
 * The kernel count costs a trie walk per read (~60 ms at 1M routes): sparse while the
 * target is far, back to back around its predicted moment, a quarter of a core at most.
 */
export const FIB_POLL = { predict: true, budget: 0.25 } as const;

export interface PhaseTimes {
  /** Milliseconds from the phase's origin (Established, or the first withdrawal sent), null = not reached. */
  readonly ms: number | null;
  /** Lower bound of the same: when the last read that had not seen it yet was asked (watch.ts). */
  readonly lowMs: number;
  readonly count: number;
  readonly target: number;
  readonly settled: boolean;
  /** Polls made, and the slowest answer (ms). */
  readonly polls: number;
  readonly maxReadMs: number;
  /** Milliseconds spent in reads (the FIB probe's cost to the machine). */
  readonly busyMs?: number;
  readonly error?: string;
}

export interface ReceiverResult {
  readonly kind: ReceiverKind;
  readonly label: string;
  readonly version: string;
  readonly fib: boolean;
  /** Everything reached its target and the session stayed up. */
  readonly ok: boolean;
  readonly errors: readonly string[];
  /** Things to know that are not failures (a count that settled short of the feed). */
  readonly notes: readonly string[];
  /** Session parameters as the feeder negotiated them. */
  readonly holdTime: number | null;
  /** The feeder's write of the table: ms from Established until the last byte went to the kernel. */
  readonly sendMs: number | null;
  readonly rib: PhaseTimes | null;
  readonly fibInstall: PhaseTimes | null;
  /** Routes of the receiver's protocol in the kernel after the ingest (`ip route show proto X`). */
  readonly fibListed: number | null;
  readonly withdraw: {
    readonly sendMs: number;
    readonly rib: PhaseTimes | null;
    readonly fib: PhaseTimes | null;
  } | null;
  /** CPU seconds of the receiver's processes from Established to RIB+FIB complete, and over its whole life. */
  readonly cpuIngestSec: number | null;
  readonly cpuTotalSec: number | null;
  /** Sum over the receiver's processes (bytes): peak (VmHWM) at the end, resident after the ingest. */
  readonly peakRss: number | null;
  readonly rssAfterIngest: number | null;
  readonly procs: readonly ProcSample[];
  /** The receiver's longest silences as the feeder saw them: from Established to the end of the ingest, and to the end of withdraw-all. */
  readonly gaps: { readonly ingest: GapsAnswer | null; readonly withdraw: GapsAnswer | null };
  /** Largest event-loop delay (ms) per phase, from the receiver's metrics (tsbgpd). */
  readonly lagMaxMs: { readonly ingest: number | null; readonly withdraw: number | null } | null;
  readonly logFiles: readonly string[];
}

export interface ReceiverRun {
  readonly lab: Lab;
  readonly feederNs: Ns;
  readonly feeder: FeederClient;
  readonly kind: ReceiverKind;
  /** A number unique in the run (interface names). */
  readonly index: number;
  /** Prefixes the RIB (and FIB) must reach. */
  readonly target: number;
  readonly v4: boolean;
  readonly v6: boolean;
  readonly holdTime: number;
  readonly keepalive: number;
  readonly timeoutMs: number;
  readonly settleMs: number;
  readonly tolerance: number;
  readonly withdraw: boolean;
  readonly log: (line: string) => void;
}

/** `nodejs_eventloop_lag_max_seconds` of a Prometheus text, in ms. */
export function lagMaxMs(text: string): number | null {
  const m = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})?\s+(\S+)/m.exec(text);
  return m ? Number(m[1]) * 1000 : null;
}

/** Lines of `ip -n NS -F route show table main proto P`, counted as they stream. */
export function countListedRoutes(netns: string, family: 4 | 6, proto: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['-n', netns, family === 6 ? '-6' : '-4', 'route', 'show', 'table', 'main', 'proto', proto], { stdio: ['ignore', 'pipe', 'pipe'] });
    let n = 0;
    let err = '';
    c.stdout.on('data', (b: Buffer) => {
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
    });
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(n) : reject(new Error(`ip route show: exit ${code}: ${err.trim()}`))));
  });
}

function phaseTimes(c: Convergence, origin: number): PhaseTimes {
  return {
    ms: c.at === null ? null : c.at - origin,
    lowMs: Math.max(0, c.lowAt - origin),
    count: c.count,
    target: c.target,
    settled: c.settled,
    polls: c.polls,
    maxReadMs: Math.round(c.maxReadMs),
    busyMs: Math.round(c.busyMs),
    ...(c.error !== undefined ? { error: c.error } : {}),
  };
}

function once<K extends FeederEvent['event']>(f: FeederClient, name: K, timeoutMs: number): { promise: Promise<Extract<FeederEvent, { event: K }>>; cancel: () => void } {
  let cancel = (): void => undefined;
  const promise = new Promise<Extract<FeederEvent, { event: K }>>((resolve, reject) => {
    const t = setTimeout(() => {
      cancel();
      reject(new Error(`no ${name} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const h = (e: FeederEvent): void => {
      cancel();
      resolve(e as Extract<FeederEvent, { event: K }>);
    };
    cancel = () => {
      clearTimeout(t);
      (f.off as (n: string, h: (e: FeederEvent) => void) => void)(name, h);
    };
    (f.once as (n: string, h: (e: FeederEvent) => void) => void)(name, h);
  });
  return { promise, cancel };
}

export async function runReceiver(r: ReceiverRun): Promise<ReceiverResult> {
  const { lab, feeder, kind, log } = r;
  const errors: string[] = [];
  const notes: string[] = [];
  const ns = await lab.addNamespace(`rx-${kind}-${r.index}`);
  await lab.link(r.feederNs, ns, {
    a: `${LINK.feeder4}/30`,
    b: `${LINK.receiver4}/30`,
    a6: `${LINK.feeder6}/64`,
    b6: `${LINK.receiver6}/64`,
    ifA: `rx${r.index}`,
    ifB: 'feeder',
  });
  const dir = lab.mkdir(ns.name);
  let rec: Receiver | undefined;
  let sessionLost: string | undefined;
  const onClosed = (e: { reason: string }): void => {
    sessionLost ??= `session closed: ${e.reason}`;
  };
  const onError = (e: { message: string }): void => {
    sessionLost ??= `session error: ${e.message}`;
  };
  const result: { -readonly [K in keyof ReceiverResult]: ReceiverResult[K] } = {
    kind,
    label: kind,
    version: '',
    fib: false,
    ok: false,
    errors,
    notes,
    holdTime: null,
    sendMs: null,
    rib: null,
    fibInstall: null,
    fibListed: null,
    withdraw: null,
    cpuIngestSec: null,
    cpuTotalSec: null,
    peakRss: null,
    rssAfterIngest: null,
    procs: [],
    gaps: { ingest: null, withdraw: null },
    lagMaxMs: null,
    logFiles: [],
  };
  try {
    rec = await startReceiver(kind, {
      lab,
      ns,
      dir,
      localAs: RECEIVER_AS,
      address: LINK.receiver4,
      peerAddress: LINK.feeder4,
      peerAs: FEEDER_AS,
      holdTime: r.holdTime,
      keepalive: r.keepalive,
    });
    result.label = rec.label;
    result.version = rec.version;
    result.fib = rec.fib;
    result.logFiles = rec.logFiles;
    const receiver = rec;
    const pids = rec.pids();
    log(`${rec.label}: started (pids ${pids.join(', ')})`);
    const counter = new FibCounter(pids[0]!, r.v4, r.v6);
    // Before the feed: each IPv4 count then walks the receiver's routes once, not twice.
    if (r.v4) await splitLocalTable(ns.netns);
    counter.baseline();
    const scrapeLag = async (): Promise<number | null> => {
      if (receiver.metricsUrl === undefined) return null;
      try {
        return lagMaxMs(await feeder.fetch(receiver.metricsUrl));
      } catch (e) {
        errors.push(`metrics: ${(e as Error).message}`);
        return null;
      }
    };
    await scrapeLag(); // resets the lag histogram: startup does not count
    const dead = (): string | undefined => {
      if (sessionLost !== undefined) return sessionLost;
      const gone = receiver.pids().filter((p) => sampleProcs([p]).length === 0);
      return gone.length > 0 ? `receiver process ${gone.join(', ')} exited` : undefined;
    };

    // Session and ingest.
    const est = once(feeder, 'established', 90_000);
    const announced = once(feeder, 'announced', r.timeoutMs + 90_000);
    announced.promise.catch(() => undefined);
    feeder.on('closed', onClosed);
    feeder.on('session-error', onError);
    let phase: PhaseResult | undefined;
    try {
      await feeder.session({ peer: LINK.receiver4, localAddress: LINK.feeder4, localAs: FEEDER_AS, peerAs: RECEIVER_AS, holdTime: r.holdTime, timeoutMs: 90_000 });
      const e = await Promise.race([
        est.promise,
        new Promise<never>((_, reject) => {
          const t = setInterval(() => {
            const why = dead();
            if (why !== undefined) {
              clearInterval(t);
              reject(new Error(why));
            }
          }, 200);
          est.promise.finally(() => clearInterval(t)).catch(() => undefined);
        }),
      ]);
      const origin = e.at;
      result.holdTime = e.holdTime;
      const cpu0 = sumCpu(sampleProcs(pids));
      log(`${receiver.label}: Established (hold ${e.holdTime} s), sending ${r.target} prefixes`);
      void announced.promise.then((a) => (phase = a.phase));
      const watchOpts = { start: origin, timeoutMs: r.timeoutMs, target: r.target, abort: dead, settleMs: r.settleMs, tolerance: r.tolerance, settleAllowed: () => phase !== undefined };
      const [rib, fib] = await Promise.all([
        watchCount({ ...watchOpts, read: () => receiver.ribCount() }),
        receiver.fib ? watchCount({ ...watchOpts, read: () => counter.count(), ...FIB_POLL }) : Promise.resolve(null),
      ]);
      result.rib = phaseTimes(rib, origin);
      result.fibInstall = fib ? phaseTimes(fib, origin) : null;
      if (phase) result.sendMs = phase.end - origin;
      const ingest = sampleProcs(pids);
      result.cpuIngestSec = sumCpu(ingest) - cpu0;
      result.rssAfterIngest = ingest.reduce((a, p) => a + p.rss, 0);
      result.gaps = { ingest: await feeder.gaps(false), withdraw: null };
      const lagIngest = await scrapeLag();
      for (const [what, c] of [['RIB', rib], ['FIB', fib]] as const) {
        if (c && c.at === null) errors.push(`${what}: ${c.error ?? 'not complete'}`);
        if (c?.settled) notes.push(`${what} settled at ${c.count.toLocaleString('en')} of ${c.target.toLocaleString('en')}`);
      }
      log(`${receiver.label}: RIB ${fmt(result.rib.ms)}${fib ? `, FIB ${fmt(result.fibInstall!.ms)}` : ''} (${rib.count}${fib ? ` / ${fib.count}` : ''} of ${r.target})`);
      if (receiver.fib && receiver.kernelProto !== undefined && sessionLost === undefined) {
        let listed = 0;
        if (r.v4) listed += await countListedRoutes(ns.netns, 4, receiver.kernelProto);
        if (r.v6) listed += await countListedRoutes(ns.netns, 6, receiver.kernelProto);
        result.fibListed = listed;
        // The /proc count and the listing must agree (the listing shows they are the receiver's routes).
        if (fib !== null && fib.at !== null && listed !== fib.count) errors.push(`FIB: ip route lists ${listed} routes of proto ${receiver.kernelProto}, the kernel counts ${fib.count}`);
      }

      // Withdraw-all.
      let lagWithdraw: number | null = null;
      if (r.withdraw && sessionLost === undefined) {
        const w0 = epochNow();
        const sending = feeder.withdraw();
        sending.catch(() => undefined);
        let wphase: PhaseResult | undefined;
        void sending.then((p) => (wphase = p));
        const wOpts = { start: w0, timeoutMs: r.timeoutMs, target: 0, abort: dead, settleMs: r.settleMs, tolerance: r.tolerance, settleAllowed: () => wphase !== undefined };
        const [wrib, wfib] = await Promise.all([
          watchCount({ ...wOpts, read: () => receiver.ribCount() }),
          receiver.fib ? watchCount({ ...wOpts, read: () => counter.count(), ...FIB_POLL }) : Promise.resolve(null),
        ]);
        const p = await sending;
        result.withdraw = {
          sendMs: p.end - p.start,
          rib: phaseTimes(wrib, p.start),
          fib: wfib ? phaseTimes(wfib, p.start) : null,
        };
        for (const [what, c] of [['withdraw RIB', wrib], ['withdraw FIB', wfib]] as const) {
          if (c && c.at === null) errors.push(`${what}: ${c.error ?? 'not complete'}`);
          if (c?.settled) notes.push(`${what} settled at ${c.count.toLocaleString('en')}`);
        }
        result.gaps = { ingest: result.gaps.ingest, withdraw: await feeder.gaps(false) };
        lagWithdraw = await scrapeLag();
        log(`${receiver.label}: withdraw RIB ${fmt(result.withdraw.rib?.ms ?? null)}${wfib ? `, FIB ${fmt(result.withdraw.fib?.ms ?? null)}` : ''}`);
      }
      if (receiver.metricsUrl !== undefined) result.lagMaxMs = { ingest: lagIngest, withdraw: lagWithdraw };
      const end = sampleProcs(pids);
      result.procs = end;
      result.peakRss = end.reduce((a, p) => a + p.peakRss, 0);
      result.cpuTotalSec = sumCpu(end);
      if (sessionLost !== undefined) errors.push(sessionLost);
    } finally {
      est.cancel();
      announced.cancel();
      feeder.off('closed', onClosed);
      feeder.off('session-error', onError);
      await feeder.closeSession().catch(() => undefined);
    }
  } catch (e) {
    errors.push((e as Error).message);
  } finally {
    await rec?.stop().catch((e: unknown) => errors.push(`stop: ${(e as Error).message}`));
    await deleteNamespace(ns.netns);
  }
  result.ok = errors.length === 0;
  return result;
}

function fmt(ms: number | null): string {
  return ms === null ? 'not reached' : `${(ms / 1000).toFixed(2)} s`;
}
