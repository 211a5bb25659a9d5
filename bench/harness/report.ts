// The bench's outputs from one result object: a markdown table (printed and saved), the
// JSON itself, and an SVG chart (time to RIB/FIB per receiver on a log scale with the
// kernel floor marked, and peak RSS). With several rounds, each receiver's figures are
// the medians of its rounds (summarize). Pure functions: no I/O here.
import type { BuildAnswer } from './feeder-protocol.js';
import type { FloorResult } from './floor.js';
import type { PhaseTimes, ReceiverResult } from './measure.js';
import type { ReceiverKind } from './receivers.js';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  /** 1-minute load average when the bench started and ended (other work on the machine). */
  readonly loadStart: number;
  readonly loadEnd: number;
}

export interface BenchSettings {
  /** Synthetic prefixes (0 with an MRT file). */
  readonly count: number;
  readonly afi: 4 | 6;
  readonly sets: number | null;
  readonly mrt: string | null;
  readonly seed: number | null;
  readonly receivers: readonly string[];
  readonly holdTime: number;
  readonly keepalive: number;
  readonly timeoutSec: number;
  readonly floorRounds: number;
  /** Rounds of the whole receiver list (`--rounds`); absent: one (results before rounds existed, too). */
  readonly rounds?: number;
  /** A count that stops this close to the target for settleSec counts as complete (MRT replays). */
  readonly settleSec: number;
  readonly tolerance: number;
}

export interface BenchResult {
  readonly schema: 1;
  /** ISO time the run started. */
  readonly date: string;
  readonly machine: Machine;
  readonly settings: BenchSettings;
  readonly feed: BuildAnswer & { readonly target: number };
  readonly floor: FloorResult | { readonly error: string } | null;
  /** Every receiver run in the order run: with several rounds, round 1's receivers, then round 2's… */
  readonly receivers: readonly RunResult[];
  /** With several rounds: each receiver's medians (summarize), in the order of the receiver list. */
  readonly summary?: readonly ReceiverSummary[];
  readonly durationSec: number;
}

/** One receiver run; `round` (from 1) is there when the bench ran more than one round. */
export type RunResult = ReceiverResult & { readonly round?: number };

/** A figure over several rounds. */
export interface Spread {
  /** The counted rounds' values, in round order. */
  readonly values: readonly number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface PhaseSummary {
  /** Times (ms) of the counted rounds that reached the target; null when none did. */
  readonly ms: Spread | null;
  /** Counted rounds that had the phase but did not reach the target, and the highest count of those. */
  readonly missed: number;
  readonly bestCount: number;
  readonly target: number;
  /** In some counted round the count settled near the target instead (MRT replays). */
  readonly settled: boolean;
}

/** One receiver over all rounds. Figures come from the `counted` rounds: those that completed, or all when none did. */
export interface ReceiverSummary {
  readonly kind: ReceiverKind;
  readonly label: string;
  readonly version: string;
  readonly fib: boolean;
  readonly rounds: readonly number[];
  readonly okRounds: readonly number[];
  readonly counted: readonly number[];
  readonly rib: PhaseSummary | null;
  readonly fibInstall: PhaseSummary | null;
  /** FIB time ÷ the kernel floor's add time; null without a floor. */
  readonly fibRatio: Spread | null;
  readonly withdrawRib: PhaseSummary | null;
  readonly withdrawFib: PhaseSummary | null;
  /** Bytes. */
  readonly peakRss: Spread | null;
  readonly cpuIngestSec: Spread | null;
  /** Per round the longer of the ingest and withdraw-all gaps (ms). */
  readonly keepaliveGapMs: Spread | null;
  /** Per round the larger of the ingest and withdraw-all lags (ms); 'unread' when scraped but never read, null when not scraped. */
  readonly lagMaxMs: Spread | 'unread' | null;
  /** Every round's errors and notes, as "round N: …". */
  readonly errors: readonly string[];
  readonly notes: readonly string[];
}

export function isFloor(f: BenchResult['floor']): f is FloorResult {
  return f !== null && !('error' in f);
}

/** 100000 → "100k", 1000000 → "1M", 577706 → "577706". */
export function sizeLabel(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** The results' base file name: date, size and family (or the MRT file's name). */
export function resultBaseName(r: BenchResult): string {
  const day = r.date.slice(0, 10);
  const fam = r.settings.afi === 6 ? 'ipv6' : 'ipv4';
  if (r.settings.mrt !== null) {
    const base = r.settings.mrt.split('/').pop()!.replace(/\.(gz|bz2|mrt)$/g, '').replace(/[^A-Za-z0-9.-]+/g, '-');
    return `${day}-mrt-${base}`;
  }
  return `${day}-${sizeLabel(r.settings.count)}-${fam}`;
}

function sec(ms: number | null | undefined, digits = 2): string {
  if (ms === null || ms === undefined) return 'not reached';
  return `${(ms / 1000).toFixed(ms < 10_000 ? digits : 1)} s`;
}

function phase(p: PhaseTimes | null | undefined): string {
  if (p === null || p === undefined) return '—';
  if (p.ms === null) return `not reached (${p.count.toLocaleString('en')} of ${p.target.toLocaleString('en')})`;
  return `${sec(p.ms)}${p.settled ? '*' : ''}`;
}

function mb(bytes: number | null): string {
  return bytes === null ? '—' : `${Math.round(bytes / 1e6)} MB`;
}

function ratio(ms: number | null | undefined, floorSec: number | undefined): string {
  if (ms === null || ms === undefined || floorSec === undefined || floorSec <= 0) return '—';
  return `${(ms / 1000 / floorSec).toFixed(1)}×`;
}

/** The longest keepalive gap of a run (ms), undefined when the feeder reported none. */
function gapMs(r: ReceiverResult): number | undefined {
  const a = r.gaps.ingest?.maxKeepaliveGapMs;
  const b = r.gaps.withdraw?.maxKeepaliveGapMs;
  if (a === undefined && b === undefined) return undefined;
  return Math.max(a ?? 0, b ?? 0);
}

function gap(r: ReceiverResult): string {
  const worst = gapMs(r);
  return worst === undefined ? '—' : `${(worst / 1000).toFixed(1)} s`;
}

/** The largest event-loop lag of a run (ms): null when not scraped, undefined when scraped but unread. */
function lagMs(r: ReceiverResult): number | null | undefined {
  if (r.lagMaxMs === null) return null;
  const v = [r.lagMaxMs.ingest, r.lagMaxMs.withdraw].filter((x): x is number => x !== null);
  return v.length === 0 ? undefined : Math.max(...v);
}

function lag(r: ReceiverResult): string {
  const v = lagMs(r);
  return v === null ? '—' : v === undefined ? '?' : `${Math.round(v)} ms`;
}

// ---------------------------------------------------------------------------
// Several rounds: medians and ranges

/** Rounds of a result (1 for results saved before `--rounds`). */
export function roundsOf(r: BenchResult): number {
  return r.settings.rounds ?? 1;
}

/** The median (mean of the two middle values for an even count) and range; null for no values. */
export function spread(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { values: [...values], median, min: s[0]!, max: s[s.length - 1]! };
}

function phaseSummary(phases: readonly (PhaseTimes | null | undefined)[]): PhaseSummary | null {
  const had = phases.filter((p): p is PhaseTimes => p !== null && p !== undefined);
  if (had.length === 0) return null;
  const reached = had.filter((p) => p.ms !== null);
  const missed = had.filter((p) => p.ms === null);
  return {
    ms: spread(reached.map((p) => p.ms!)),
    missed: missed.length,
    bestCount: Math.max(0, ...missed.map((p) => p.count)),
    target: had[0]!.target,
    settled: reached.some((p) => p.settled),
  };
}

function defined<T>(v: T | null | undefined): v is T {
  return v !== null && v !== undefined;
}

/**
 * Per receiver (in the order first run), the medians and ranges of its rounds. A run's
 * round is its `round`, else its place among the runs of its kind. Figures count only
 * the rounds where everything completed, or every round when none did; errors and notes
 * of every round are kept. `floorSec`: the kernel floor's add time, for FIB ÷ floor.
 */
export function summarize(runs: readonly RunResult[], floorSec?: number): ReceiverSummary[] {
  const byKind = new Map<ReceiverKind, Array<{ round: number; run: RunResult }>>();
  for (const run of runs) {
    const list = byKind.get(run.kind) ?? [];
    list.push({ round: run.round ?? list.length + 1, run });
    byKind.set(run.kind, list);
  }
  const out: ReceiverSummary[] = [];
  for (const [kind, list] of byKind) {
    const ok = list.filter((x) => x.run.ok);
    const counted = ok.length > 0 ? ok : list;
    const rs = counted.map((x) => x.run);
    const named = counted.find((x) => x.run.version !== '') ?? counted[0]!;
    const fib = rs.some((x) => x.fib);
    const fibInstall = fib ? phaseSummary(rs.map((x) => x.fibInstall)) : null;
    const lags = rs.map(lagMs);
    const lagValues = lags.filter(defined);
    out.push({
      kind,
      label: named.run.label,
      version: named.run.version,
      fib,
      rounds: list.map((x) => x.round),
      okRounds: ok.map((x) => x.round),
      counted: counted.map((x) => x.round),
      rib: phaseSummary(rs.map((x) => x.rib)),
      fibInstall,
      fibRatio: floorSec !== undefined && floorSec > 0 && fibInstall?.ms ? spread(fibInstall.ms.values.map((ms) => ms / 1000 / floorSec)) : null,
      withdrawRib: phaseSummary(rs.map((x) => x.withdraw?.rib)),
      withdrawFib: fib ? phaseSummary(rs.map((x) => x.withdraw?.fib)) : null,
      peakRss: spread(rs.map((x) => x.peakRss).filter(defined)),
      cpuIngestSec: spread(rs.map((x) => x.cpuIngestSec).filter(defined)),
      keepaliveGapMs: spread(rs.map(gapMs).filter(defined)),
      lagMaxMs: lags.every((v) => v === null) ? null : (spread(lagValues) ?? 'unread'),
      errors: list.flatMap((x) => x.run.errors.map((e) => `round ${x.round}: ${e}`)),
      notes: list.flatMap((x) => x.run.notes.map((n) => `round ${x.round}: ${n}`)),
    });
  }
  return out;
}

/** The summary of a result with several rounds, computed from its runs (so `--render` follows report changes). */
export function summaryOf(r: BenchResult): ReceiverSummary[] {
  return summarize(r.receivers, isFloor(r.floor) ? r.floor.addSec : undefined);
}

/** Seconds with the precision sec() uses, no unit. */
function secNum(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
}

/** "1.71 s (1.49–2.54)": the median, and the range when more than one round reached the target. */
function phaseS(p: PhaseSummary | null): string {
  if (p === null) return '—';
  if (p.ms === null) return `not reached (${p.bestCount.toLocaleString('en')} of ${p.target.toLocaleString('en')})`;
  const range = p.ms.values.length > 1 ? ` (${secNum(p.ms.min)}–${secNum(p.ms.max)})` : '';
  const missed = p.missed > 0 ? `, not reached in ${p.missed}` : '';
  return `${sec(p.ms.median)}${p.settled ? '*' : ''}${range}${missed}`;
}

function summaryRow(x: ReceiverSummary): string {
  const failed = x.okRounds.length < x.rounds.length ? ' ⚠' : '';
  const lagCell = x.lagMaxMs === null ? '—' : x.lagMaxMs === 'unread' ? '?' : `${Math.round(x.lagMaxMs.median)} ms`;
  return (
    `| ${x.label}${failed} | ${phaseS(x.rib)} | ${x.fib ? phaseS(x.fibInstall) : '—'} | ${x.fib && x.fibRatio ? `${x.fibRatio.median.toFixed(1)}×` : '—'} | ` +
    `${x.peakRss ? mb(x.peakRss.median) : '—'} | ${x.cpuIngestSec ? `${x.cpuIngestSec.median.toFixed(1)} s` : '—'} | ` +
    `${phaseS(x.withdrawRib)} | ${x.fib ? phaseS(x.withdrawFib) : '—'} | ` +
    `${x.keepaliveGapMs ? `${(x.keepaliveGapMs.median / 1000).toFixed(1)} s` : '—'} | ${lagCell} |`
  );
}

/** The notes line of a summarized receiver: how many rounds count, then every round's errors and notes. */
function summaryNotes(x: ReceiverSummary): string | undefined {
  const parts: string[] = [];
  const n = x.rounds.length;
  if (x.okRounds.length === 0) parts.push(`no round of ${n} complete, figures from all of them`);
  else if (x.okRounds.length < n) parts.push(`${x.okRounds.length} of ${n} rounds complete (${x.okRounds.join(', ')}), figures from those`);
  parts.push(...x.errors.map((e) => `**${e}**`), ...x.notes);
  return parts.length > 0 ? `- ${x.label}: ${parts.join('; ')}` : undefined;
}

function feedText(r: BenchResult): string {
  const f = r.feed;
  const n = f.target.toLocaleString('en');
  const fam = r.settings.afi === 6 ? 'IPv6' : 'IPv4';
  if (r.settings.mrt !== null) return `MRT replay of ${r.settings.mrt.split('/').pop()}: ${n} prefixes, ${f.messages.toLocaleString('en')} UPDATEs`;
  return `${n} synthetic ${fam} prefixes, ${f.sets.toLocaleString('en')} attribute sets, ${f.messages.toLocaleString('en')} UPDATEs (${(f.bytes / 1e6).toFixed(1)} MB)`;
}

/** The markdown report: a heading, the table, then how to read it (and the chart, when named). */
export function markdown(r: BenchResult, chartFile?: string): string {
  const floor = isFloor(r.floor) ? r.floor : undefined;
  const L: string[] = [];
  const m = r.machine;
  L.push(`## Full-table bench: ${feedText(r)}`, '');
  L.push(
    `${r.date.slice(0, 16).replace('T', ' ')} UTC · ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB · Linux ${m.kernel} · Node ${m.node} · ` +
      `load average ${m.loadStart.toFixed(1)} at start, ${m.loadEnd.toFixed(1)} at end`,
    '',
  );
  const rounds = roundsOf(r);
  const summary = rounds > 1 ? summaryOf(r) : undefined;
  if (summary) L.push(`Medians of ${rounds} rounds; times with their range (fastest–slowest round) in brackets.`, '');
  L.push('| receiver | RIB complete | FIB complete | FIB ÷ floor | peak RSS | CPU (ingest) | withdraw: RIB empty | withdraw: FIB empty | max keepalive gap | max event-loop lag |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  if (summary) for (const x of summary) L.push(summaryRow(x));
  for (const x of summary ? [] : r.receivers) {
    const failed = x.ok ? '' : ' ⚠';
    L.push(
      `| ${x.label}${failed} | ${phase(x.rib)} | ${x.fib ? phase(x.fibInstall) : '—'} | ${x.fib ? ratio(x.fibInstall?.ms, floor?.addSec) : '—'} | ` +
        `${mb(x.peakRss)} | ${x.cpuIngestSec === null ? '—' : `${x.cpuIngestSec.toFixed(1)} s`} | ` +
        `${phase(x.withdraw?.rib)} | ${x.fib ? phase(x.withdraw?.fib) : '—'} | ${gap(x)} | ${lag(x)} |`,
    );
  }
  if (floor) {
    L.push(`| kernel floor (rtnetlink, pipelined, no ACK per route) | — | ${sec(floor.addSec * 1000)} | 1.0× | — | — | — | ${sec(floor.delSec * 1000)} | — | — |`);
  }
  L.push('');
  if (chartFile !== undefined) L.push(`![RIB and FIB times, peak RSS](${chartFile})`, '');
  if (summary) {
    L.push(
      `${rounds} rounds: every receiver in turn, in the order listed, then all of them again, each run in a fresh namespace and process ` +
        `(the kernel floor is measured once, before them). Each figure is the median of a receiver's rounds (the mean of the middle two ` +
        `for an even count), times with the fastest and slowest round in brackets; a receiver that failed in some round (⚠) shows the ` +
        `median of the rounds it completed, and its failures are listed below.`,
      '',
    );
  }
  L.push(
    `Times count from the session reaching Established (ingest) or from the first withdrawal sent (withdraw-all), ` +
      `RIB polled with a backoff of 1/40 of the elapsed time (10–250 ms); FIB read sparsely far from the target and back to back ` +
      `around its predicted moment, at most 25% of one core (the true moment lies within about two reads before the time shown). ` +
      `RIB: the receiver's own count of the feeder's routes ` +
      `(tsbgpd Loc-RIB, BIRD imported, FRR pfxRcd, GoBGP accepted); FIB: routes added to the kernel of the receiver's namespace. ` +
      `Hold time ${r.settings.holdTime} s, keepalive ${r.settings.keepalive} s: a keepalive gap above ${r.settings.keepalive} s means the receiver stalled. ` +
      `CPU: user+system seconds of the receiver's processes from Established to RIB and FIB complete; RSS: VmHWM (FRR: bgpd + zebra).`,
  );
  const f = r.feed;
  if (f.loops > 0 || f.treatAsWithdraw > 0 || f.broken > 0) {
    L.push(
      '',
      `The feed announces ${f.prefixes.toLocaleString('en')} NLRI; ${f.target.toLocaleString('en')} distinct prefixes should stay in a RIB: ` +
        `${f.loops.toLocaleString('en')} UPDATEs carry the receivers' AS in their AS_PATH (loop detection drops them), ` +
        `${f.treatAsWithdraw.toLocaleString('en')} are treat-as-withdraw under RFC 7606/7607 (AS 0), ${f.broken.toLocaleString('en')} are malformed.`,
    );
  }
  if (floor) {
    L.push('', `Kernel floor: the same ${(floor.routes4 + floor.routes6).toLocaleString('en')} prefixes inserted through one nexthop object into an empty namespace, best of ${floor.rounds} (${floor.addPerSec.toLocaleString('en')} routes/s).`);
  } else if (r.floor !== null && 'error' in r.floor) {
    L.push('', `Kernel floor: failed: ${r.floor.error}`);
  }
  const notes = summary
    ? summary.map(summaryNotes).filter(defined)
    : r.receivers.filter((x) => x.errors.length > 0 || x.notes.length > 0).map((x) => `- ${x.label}: ${[...x.errors.map((e) => `**${e}**`), ...x.notes].join('; ')}`);
  if (notes.length > 0) {
    L.push('');
    L.push(...notes);
    if (r.receivers.some((x) => x.notes.some((n) => n.includes('settled')))) {
      L.push(
        `- \\* settled: the count stopped near, not at, the ${r.feed.target.toLocaleString('en')} prefixes the feed leaves (AS-path loop detection and the ` +
          `RFC 7606 rules applied) and stayed there for ${r.settings.settleSec} s; the time shown is when it stopped moving.`,
      );
    }
  }
  L.push('');
  return L.join('\n');
}

// ---------------------------------------------------------------------------
// SVG chart

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const COLORS = { rib: '#3b6fb6', fib: '#e08a1e', rss: '#5a9e5a', floor: '#c0392b', grid: '#dddddd', text: '#222222' } as const;

/** A time bar: its length (ms, null = not reached) and, over several rounds, the range drawn across it. */
interface ChartBar {
  readonly ms: number | null;
  readonly range?: readonly [number, number];
}

interface ChartRow {
  readonly label: string;
  readonly ok: boolean;
  readonly rib: ChartBar | null;
  readonly fib: ChartBar | null;
  readonly peakRss: number | null;
}

function chartBar(p: PhaseSummary | null): ChartBar | null {
  if (p === null) return null;
  if (p.ms === null) return { ms: null };
  return p.ms.values.length > 1 ? { ms: p.ms.median, range: [p.ms.min, p.ms.max] } : { ms: p.ms.median };
}

function chartRows(r: BenchResult): ChartRow[] {
  if (roundsOf(r) > 1) {
    return summaryOf(r).map((x) => ({
      label: x.label,
      ok: x.okRounds.length === x.rounds.length,
      rib: chartBar(x.rib),
      fib: x.fib ? chartBar(x.fibInstall) : null,
      peakRss: x.peakRss?.median ?? null,
    }));
  }
  return r.receivers.map((x) => ({
    label: x.label,
    ok: x.ok,
    rib: x.rib ? { ms: x.rib.ms } : null,
    fib: x.fib && x.fibInstall ? { ms: x.fibInstall.ms } : null,
    peakRss: x.peakRss,
  }));
}

/** Bars per receiver: RIB and FIB time (log scale, floor marked) and peak RSS; over several rounds the medians, with the range across the time bars. */
export function svgChart(r: BenchResult): string {
  const rows = chartRows(r);
  const rounds = roundsOf(r);
  const floor = isFloor(r.floor) ? r.floor : undefined;
  const rowH = 40;
  const top = 70;
  const labelW = 250;
  const t0 = labelW + 10;
  const tW = 380;
  const m0 = t0 + tW + 60;
  const mW = 220;
  const width = m0 + mW + 30;
  const height = top + rows.length * rowH + 50;
  const times: number[] = [];
  for (const x of rows) {
    for (const b of [x.rib, x.fib]) {
      if (b?.ms) times.push(b.ms / 1000);
      if (b?.range) times.push(b.range[0] / 1000, b.range[1] / 1000);
    }
  }
  if (floor) times.push(floor.addSec);
  const lo = 10 ** Math.floor(Math.log10(Math.max(1e-3, Math.min(...times, 1))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...times, lo * 10)));
  const tx = (s: number): number => t0 + ((Math.log10(Math.max(s, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * tW;
  const rssMax = niceMax(Math.max(1, ...rows.map((x) => (x.peakRss ?? 0) / 1e6)));
  const mx = (v: number): number => m0 + (v / rssMax) * mW;
  const S: string[] = [];
  S.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" fill="${COLORS.text}">`);
  S.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  S.push(`<text x="10" y="20" font-size="15" font-weight="bold">${esc(`Full-table bench: ${feedText(r)}`)}</text>`);
  S.push(`<text x="10" y="38" font-size="11">${esc(`${r.date.slice(0, 10)} · ${r.machine.cpu}, ${r.machine.cores} cores · Linux ${r.machine.kernel} · load ${r.machine.loadStart.toFixed(1)}${rounds > 1 ? ` · medians of ${rounds} rounds, line: fastest–slowest` : ''}`)}</text>`);
  S.push(`<text x="${t0}" y="${top - 12}" font-weight="bold">time from Established (s, log scale)</text>`);
  S.push(`<text x="${m0}" y="${top - 12}" font-weight="bold">peak RSS (MB)</text>`);
  const bottom = top + rows.length * rowH;
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const x = tx(d);
    S.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="${COLORS.grid}"/>`);
    S.push(`<text x="${x.toFixed(1)}" y="${bottom + 14}" text-anchor="middle" font-size="11">${d >= 1 ? d.toFixed(0) : String(+d.toPrecision(1))}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = (rssMax * i) / 4;
    const x = mx(v);
    S.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="${COLORS.grid}"/>`);
    S.push(`<text x="${x.toFixed(1)}" y="${bottom + 14}" text-anchor="middle" font-size="11">${+v.toPrecision(3)}</text>`);
  }
  rows.forEach((x, i) => {
    const y = top + i * rowH;
    S.push(`<text x="${labelW}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(x.label)}${x.ok ? '' : ' (!)'}</text>`);
    const bar = (p: ChartBar | null, dy: number, color: string, name: string): void => {
      if (p === null) return;
      if (p.ms === null) {
        S.push(`<text x="${t0 + 4}" y="${y + dy + 10}" font-size="11" fill="${color}">${name}: not reached</text>`);
        return;
      }
      const w = Math.max(1, tx(p.ms / 1000) - t0);
      const what = p.range ? `${sec(p.ms)} (${secNum(p.range[0])}–${secNum(p.range[1])})` : sec(p.ms);
      S.push(`<rect x="${t0}" y="${y + dy}" width="${w.toFixed(1)}" height="13" fill="${color}"><title>${esc(`${x.label} ${name}: ${what}`)}</title></rect>`);
      let end = t0 + w;
      if (p.range) {
        const [a, b] = [tx(p.range[0] / 1000), tx(p.range[1] / 1000)];
        const my = (y + dy + 6.5).toFixed(1);
        S.push(`<path d="M${a.toFixed(1)} ${y + dy + 3}v7M${a.toFixed(1)} ${my}H${b.toFixed(1)}M${b.toFixed(1)} ${y + dy + 3}v7" stroke="${COLORS.text}" fill="none"/>`);
        end = Math.max(end, b);
      }
      S.push(`<text x="${(end + 4).toFixed(1)}" y="${y + dy + 11}" font-size="11">${esc(sec(p.ms))}</text>`);
    };
    bar(x.rib, 5, COLORS.rib, 'RIB');
    bar(x.fib, 21, COLORS.fib, 'FIB');
    if (x.peakRss !== null) {
      const v = x.peakRss / 1e6;
      const w = Math.max(1, mx(v) - m0);
      S.push(`<rect x="${m0}" y="${y + 10}" width="${w.toFixed(1)}" height="18" fill="${COLORS.rss}"><title>${esc(`${x.label}: ${mb(x.peakRss)}`)}</title></rect>`);
      S.push(`<text x="${(m0 + w + 4).toFixed(1)}" y="${y + 24}" font-size="11">${Math.round(v)}</text>`);
    }
  });
  if (floor) {
    const x = tx(floor.addSec);
    S.push(`<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="${COLORS.floor}" stroke-width="2" stroke-dasharray="5,3"/>`);
  }
  const ly = height - 14;
  S.push(`<rect x="${t0}" y="${ly - 10}" width="12" height="12" fill="${COLORS.rib}"/><text x="${t0 + 16}" y="${ly}">RIB complete</text>`);
  S.push(`<rect x="${t0 + 110}" y="${ly - 10}" width="12" height="12" fill="${COLORS.fib}"/><text x="${t0 + 126}" y="${ly}">FIB complete</text>`);
  if (floor) {
    S.push(`<line x1="${t0 + 220}" y1="${ly - 4}" x2="${t0 + 244}" y2="${ly - 4}" stroke="${COLORS.floor}" stroke-width="2" stroke-dasharray="5,3"/>`);
    S.push(`<text x="${t0 + 250}" y="${ly}">${esc(`kernel floor ${sec(floor.addSec * 1000)}`)}</text>`);
  }
  S.push('</svg>', '');
  return S.join('\n');
}
