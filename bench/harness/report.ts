// The bench's outputs from one result object: a markdown table (printed and saved), the
// JSON itself, and an SVG chart (time to RIB/FIB per receiver on a log scale with the
// kernel floor marked, and peak RSS). Pure functions: no I/O here.
import type { BuildAnswer } from './feeder-protocol.js';
import type { FloorResult } from './floor.js';
import type { PhaseTimes, ReceiverResult } from './measure.js';

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
  readonly receivers: readonly ReceiverResult[];
  readonly durationSec: number;
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

function gap(r: ReceiverResult): string {
  const a = r.gaps.ingest?.maxKeepaliveGapMs;
  const b = r.gaps.withdraw?.maxKeepaliveGapMs;
  const worst = Math.max(a ?? 0, b ?? 0);
  if (a === undefined && b === undefined) return '—';
  return `${(worst / 1000).toFixed(1)} s`;
}

function lag(r: ReceiverResult): string {
  if (r.lagMaxMs === null) return '—';
  const v = [r.lagMaxMs.ingest, r.lagMaxMs.withdraw].filter((x): x is number => x !== null);
  return v.length === 0 ? '?' : `${Math.round(Math.max(...v))} ms`;
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
  L.push('| receiver | RIB complete | FIB complete | FIB ÷ floor | peak RSS | CPU (ingest) | withdraw: RIB empty | withdraw: FIB empty | max keepalive gap | max event-loop lag |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const x of r.receivers) {
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
  const notes = r.receivers.filter((x) => x.errors.length > 0 || x.notes.length > 0);
  if (notes.length > 0) {
    L.push('');
    for (const x of notes) L.push(`- ${x.label}: ${[...x.errors.map((e) => `**${e}**`), ...x.notes].join('; ')}`);
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

/** Bars per receiver: RIB and FIB time (log scale, floor marked) and peak RSS. */
export function svgChart(r: BenchResult): string {
  const rows = r.receivers;
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
    if (x.rib?.ms) times.push(x.rib.ms / 1000);
    if (x.fibInstall?.ms) times.push(x.fibInstall.ms / 1000);
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
  S.push(`<text x="10" y="38" font-size="11">${esc(`${r.date.slice(0, 10)} · ${r.machine.cpu}, ${r.machine.cores} cores · Linux ${r.machine.kernel} · load ${r.machine.loadStart.toFixed(1)}`)}</text>`);
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
    const bar = (p: PhaseTimes | null, dy: number, color: string, name: string): void => {
      if (p === null) return;
      if (p.ms === null) {
        S.push(`<text x="${t0 + 4}" y="${y + dy + 10}" font-size="11" fill="${color}">${name}: not reached</text>`);
        return;
      }
      const w = Math.max(1, tx(p.ms / 1000) - t0);
      S.push(`<rect x="${t0}" y="${y + dy}" width="${w.toFixed(1)}" height="13" fill="${color}"><title>${esc(`${x.label} ${name}: ${sec(p.ms)}`)}</title></rect>`);
      S.push(`<text x="${(t0 + w + 4).toFixed(1)}" y="${y + dy + 11}" font-size="11">${esc(sec(p.ms))}</text>`);
    };
    bar(x.rib, 5, COLORS.rib, 'RIB');
    if (x.fib) bar(x.fibInstall, 21, COLORS.fib, 'FIB');
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
