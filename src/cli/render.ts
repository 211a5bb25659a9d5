// Human renderings of the API's read models: data in, text out. The table layouts follow
// what operators know: `gobgp neighbor`, `gobgp global rib`, `cilium bgp peers`.
import type {
  ActionResult, AdjRibRoute, ApiEvent, ConfigIssue, ConfigView, FibRoute, GlobalInfo, NeighborFamily, NeighborInfo, RibEntry, RibPath,
} from '../api/types.js';
import {
  familyName, formatAsPath, formatAttrs, formatDuration, formatNexthops, protocolName, shortState, tableName, upDown,
} from './format.js';
import { renderTable, StreamingTable } from './table.js';
import type { Column } from './table.js';

function sum(families: readonly NeighborFamily[], key: 'received' | 'accepted' | 'installed' | 'advertised'): number {
  let n = 0;
  for (const f of families) n += f[key];
  return n;
}

function peerAs(n: NeighborInfo): string {
  if (n.remoteAs !== null) return String(n.remoteAs);
  return n.peerAs === 0 ? 'any' : String(n.peerAs);
}

function instanceCount(list: readonly { readonly instance: string }[]): number {
  return new Set(list.map((n) => n.instance)).size;
}

// ---------------------------------------------------------------------------
// Neighbours

const GOBGP_NEIGHBOR: readonly Column[] = [
  { header: 'Peer' },
  { header: 'AS', align: 'right' },
  { header: 'Up/Down', align: 'right' },
  { header: 'State' },
  { header: '#Received', align: 'right', gap: ' |' },
  { header: 'Accepted', align: 'right' },
  { header: 'Installed', align: 'right' },
  { header: 'Advertised', align: 'right' },
];

const CILIUM_PEERS: readonly Column[] = [
  { header: 'Instance' },
  { header: 'Local AS' },
  { header: 'Peer AS' },
  { header: 'Peer Address' },
  { header: 'Session State' },
  { header: 'Up/Down' },
  { header: 'Family' },
  { header: 'Received' },
  { header: 'Accepted' },
  { header: 'Installed' },
  { header: 'Advertised' },
];

/**
 * One instance: gobgp's `neighbor` table with per-peer totals. Several instances:
 * `cilium bgp peers`' layout, one continuation row per extra family.
 */
export function renderNeighbors(list: readonly NeighborInfo[]): string {
  if (instanceCount(list) <= 1) {
    return renderTable(
      GOBGP_NEIGHBOR,
      list.map((n) => [
        n.address,
        peerAs(n),
        upDown(n),
        shortState(n),
        String(sum(n.families, 'received')),
        String(sum(n.families, 'accepted')),
        String(sum(n.families, 'installed')),
        String(sum(n.families, 'advertised')),
      ]),
    );
  }
  const rows: string[][] = [];
  for (const n of list) {
    const head = [n.instance, String(n.localAs), peerAs(n), n.address, shortState(n), upDown(n)];
    const fams = n.families.length > 0 ? n.families : [undefined];
    fams.forEach((f, i) => {
      const lead = i === 0 ? head : head.map(() => '');
      rows.push(
        f === undefined
          ? [...lead, '-', '', '', '', '']
          : [...lead, familyName(f), String(f.received), String(f.accepted), String(f.installed), String(f.advertised)],
      );
    });
  }
  return renderTable(CILIUM_PEERS, rows);
}

function prefixLimitText(f: NeighborFamily): string {
  const l = f.prefixLimit;
  if (l === null) return '-';
  if (l.overflow) {
    return l.restartIn === null ? `${l.max} EXCEEDED, down until reset` : `${l.max} EXCEEDED, restart in ${formatDuration(l.restartIn)}`;
  }
  return `${l.max} (warning at ${l.warningThresholdPercent}%${l.warning ? ', crossed' : ''})`;
}

function lastErrorText(n: NeighborInfo): string | undefined {
  const e = n.lastError;
  if (e === null) return undefined;
  const dir = e.direction === null ? '' : `${e.direction}, `;
  const msg = e.message === null ? '' : `: ${JSON.stringify(e.message)}`;
  return `${e.text} (${dir}${formatDuration(e.age)} ago)${msg}`;
}

/** Helper-role state while a peer restarts: what is kept and for how long. */
function gracefulRestartText(n: NeighborInfo): string | undefined {
  const g = n.gracefulRestart;
  if (g.phase === 'none') return undefined;
  const stale = n.families.reduce((sum, f) => sum + f.stale, 0);
  const when = g.expiresIn === null ? '' : `, dropped in ${g.expiresIn} s unless re-learned`;
  const what = g.phase === 'restarting' ? 'peer restarting' : 'peer back, waiting for its End-of-RIB';
  return `${what}: ${stale} stale prefix${stale === 1 ? '' : 'es'} kept${when}`;
}

/** Everything about one neighbour, in the spirit of `gobgp neighbor ADDR`. */
export function renderNeighborDetail(n: NeighborInfo): string {
  const lines: string[] = [];
  const configured = n.remoteAs !== null && n.peerAs !== n.remoteAs ? ` (configured ${n.peerAs === 0 ? 'any' : n.peerAs})` : '';
  lines.push(`BGP neighbor is ${n.address}, remote AS ${peerAs(n)}${configured}`);
  lines.push(`  Instance ${n.instance}, local AS ${n.localAs}${n.localAddress === null ? '' : `, local address ${n.localAddress}`}${n.name !== n.address ? `, peer name ${n.name}` : ''}`);
  lines.push(`  BGP version 4, remote router ID ${n.routerId ?? 'unknown'}, port ${n.port}`);
  const period = n.state === 'Established' ? `up for ${formatDuration(n.uptime)}` : n.establishedCount === 0 ? 'never up' : `down for ${formatDuration(n.downtime)}`;
  lines.push(`  BGP state = ${shortState(n) === 'Establ' ? 'Established' : shortState(n)}, ${period}, established ${n.establishedCount} time${n.establishedCount === 1 ? '' : 's'}`);
  const t = n.timers;
  if (t.negotiatedHoldTime !== null) lines.push(`  Hold time is ${t.negotiatedHoldTime}, keepalive interval is ${t.negotiatedKeepalive ?? 0} seconds`);
  lines.push(`  Configured hold time is ${t.holdTime}, keepalive interval is ${t.keepalive} seconds, connect retry ${t.connectRetry} seconds`);
  const err = lastErrorText(n);
  if (err !== undefined) lines.push(`  Last error: ${err}`);
  const gr = gracefulRestartText(n);
  if (gr !== undefined) lines.push(`  Graceful restart: ${gr}`);
  if (n.capabilities.length > 0) {
    lines.push('  Capabilities:');
    const w = Math.max(...n.capabilities.map((c) => c.name.length));
    for (const c of n.capabilities) {
      const how = c.advertised && c.received ? 'advertised and received' : c.advertised ? 'advertised' : c.received ? 'received' : 'none';
      lines.push(`    ${c.name.padEnd(w)}  ${how}`);
    }
  }
  let out = `${lines.join('\n')}\n`;
  if (n.families.length > 0) {
    out += '  Families:\n';
    const table = renderTable(
      [
        { header: 'Family' },
        { header: 'Negotiated' },
        { header: 'Received', align: 'right' },
        { header: 'Accepted', align: 'right' },
        { header: 'Installed', align: 'right' },
        { header: 'Advertised', align: 'right' },
        { header: 'Prefix limit' },
      ],
      n.families.map((f) => [familyName(f), f.negotiated ? 'yes' : 'no', String(f.received), String(f.accepted), String(f.installed), String(f.advertised), prefixLimitText(f)]),
    );
    out += indent(table, '    ');
  }
  out += '  Message statistics:\n';
  const m = n.messages;
  const msgRows: [string, keyof typeof m.sent][] = [
    ['Opens', 'open'],
    ['Notifications', 'notification'],
    ['Updates', 'update'],
    ['Keepalives', 'keepalive'],
    ['Route refresh', 'routeRefresh'],
    ['Total', 'total'],
  ];
  out += indent(
    renderTable(
      [{ header: '' }, { header: 'Sent', align: 'right' }, { header: 'Received', align: 'right' }],
      msgRows.map(([label, k]) => [label, String(m.sent[k]), String(m.received[k])]),
    ),
    '    ',
  );
  return out;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l.length > 0 ? by + l : l))
    .join('\n');
}

// ---------------------------------------------------------------------------
// Routes

function ribColumns(multiInstance: boolean, mark: boolean): Column[] {
  const cols: Column[] = [];
  if (multiInstance) cols.push({ header: 'VRouter' });
  if (mark) cols.push({ header: '', gap: multiInstance ? '  ' : '' });
  cols.push({ header: 'Network', gap: mark ? ' ' : '  ' }, { header: 'Next Hop' }, { header: 'AS_PATH' }, { header: 'Age' }, { header: 'Attrs' });
  return cols;
}

/** gobgp's marks: `*>` best, `*=` multipath, `* ` other; `S` stale. */
export function pathMark(p: Pick<RibPath, 'best' | 'multipath' | 'stale'>): string {
  if (p.stale) return p.best ? 'S>' : 'S ';
  return p.best ? '*>' : p.multipath ? '*=' : '* ';
}

function attrsWithReason(attrs: string, reason: string | null, label: string): string {
  return reason === null ? attrs : `${attrs} ${label}: ${reason}`;
}

/** Streams Loc-RIB destinations into `gobgp global rib`'s table, one row per path. */
export class RibTableWriter {
  private readonly table: StreamingTable;
  private readonly multi: boolean;

  constructor(multiInstance: boolean, sample?: number) {
    this.multi = multiInstance;
    this.table = new StreamingTable(ribColumns(multiInstance, true), sample);
  }

  get rows(): number {
    return this.table.rows;
  }

  push(e: RibEntry): string {
    let out = '';
    for (const p of e.paths) {
      const cells = [pathMark(p), e.prefix, p.nextHop, formatAsPath(p.asPath), formatDuration(p.age), attrsWithReason(formatAttrs(p), p.reason, 'lost')];
      out += this.table.push(this.multi ? [e.instance, ...cells] : cells);
    }
    return out;
  }

  end(): string {
    return this.table.end();
  }
}

/** Adj-RIB-In / Adj-RIB-Out rows; rejected routes say why. */
export class AdjRibTableWriter {
  private readonly table: StreamingTable;
  private readonly multi: boolean;

  constructor(multiInstance: boolean, sample?: number) {
    this.multi = multiInstance;
    this.table = new StreamingTable(ribColumns(multiInstance, false), sample);
  }

  get rows(): number {
    return this.table.rows;
  }

  push(r: AdjRibRoute): string {
    const cells = [r.prefix, r.nextHop, formatAsPath(r.asPath), formatDuration(r.age), attrsWithReason(formatAttrs(r), r.accepted ? null : (r.reason ?? 'policy'), 'rejected')];
    return this.table.push(this.multi ? [r.instance, ...cells] : cells);
  }

  end(): string {
    return this.table.end();
  }
}

function fibStatusText(r: FibRoute): string {
  let s: string = r.status;
  if (r.detail !== null) s += ` (${r.detail})`;
  if (r.status !== 'installed' && r.kernel !== null) {
    s += `; kernel has proto ${protocolName(r.kernel.protocol)} metric ${r.kernel.metric} ${formatNexthops(r.kernel.nexthops)}`;
  }
  return s;
}

/** The FIB as tsbgp wants it, with the kernel's side where they differ. */
export class FibTableWriter {
  private readonly table: StreamingTable;
  private readonly multi: boolean;

  constructor(multiInstance: boolean, sample?: number) {
    this.multi = multiInstance;
    const cols: Column[] = [
      { header: 'Prefix' },
      { header: 'Table' },
      { header: 'Metric', align: 'right' },
      { header: 'Protocol' },
      { header: 'Nexthops' },
      { header: 'Status' },
    ];
    this.table = new StreamingTable(multiInstance ? [{ header: 'Instance' }, ...cols] : cols, sample);
  }

  get rows(): number {
    return this.table.rows;
  }

  push(r: FibRoute): string {
    const cells = [r.prefix, tableName(r.table), String(r.metric), protocolName(r.protocol), formatNexthops(r.nexthops), fibStatusText(r)];
    return this.table.push(this.multi ? [r.instance, ...cells] : cells);
  }

  end(): string {
    return this.table.end();
  }
}

// ---------------------------------------------------------------------------
// Global, config, actions, events

export function renderGlobal(g: GlobalInfo): string {
  const f = g.fib;
  let out = `Node ${g.nodeName}: tsbgp ${g.version}, pid ${g.pid}, up ${formatDuration(g.uptime)}\n`;
  out += `FIB (${f.kernel ? 'kernel' : 'dry-run'}): ${f.installed} installed, ${f.pending} pending, ${f.conflicts} conflicts, ${f.errors} errors\n`;
  if (g.instances.length === 0) return `${out}No BGP instance: no policy selects this node.\n`;
  const rows: string[][] = [];
  for (const i of g.instances) {
    const ri = i.routeInstall;
    const head = [
      i.name,
      String(i.localAs),
      i.routerId,
      i.listenPort === null ? '-' : String(i.listenPort),
      `${i.established}/${i.neighbors}`,
      ri.enabled ? `table ${tableName(ri.table)} metric ${ri.metric}${ri.maxPaths > 1 ? ` ecmp ${ri.maxPaths}` : ''}` : 'off',
    ];
    const fams = i.families.length > 0 ? i.families : [undefined];
    fams.forEach((fam, k) => {
      const lead = k === 0 ? head : head.map(() => '');
      rows.push(fam === undefined ? [...lead, '-', '', '', '', ''] : [...lead, familyName(fam), String(fam.prefixes), String(fam.paths), String(fam.installed), String(fam.originated)]);
    });
  }
  out += '\n';
  out += renderTable(
    [
      { header: 'Instance' },
      { header: 'Local AS' },
      { header: 'Router ID' },
      { header: 'Listen' },
      { header: 'Up/Peers' },
      { header: 'Route install' },
      { header: 'Family' },
      { header: 'Prefixes', align: 'right' },
      { header: 'Paths', align: 'right' },
      { header: 'Installed', align: 'right' },
      { header: 'Originated', align: 'right' },
    ],
    rows,
  );
  return out;
}

/** `file:line:col: document 2, Kind/name: path: message` (config/diagnostics.ts formatDiagnostic's shape). */
export function formatIssue(d: ConfigIssue): string {
  const where: string[] = [];
  if (d.file !== null) where.push(d.line !== null ? `${d.file}:${d.line}:${d.column ?? 1}` : d.file);
  const ctx: string[] = [];
  if (d.document !== null) ctx.push(`document ${d.document}`);
  if (d.object !== null) ctx.push(d.object);
  if (ctx.length > 0) where.push(ctx.join(', '));
  if (d.path !== null) where.push(d.path);
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  return where.length === 0 ? `${prefix}${d.message}` : `${where.join(': ')}: ${prefix}${d.message}`;
}

export function renderConfigStatus(c: ConfigView): string {
  let out = `Files: ${c.files.length === 0 ? '(none)' : c.files.join(', ')}\n`;
  out += c.appliedAge === null ? 'Applied: nothing yet (no valid configuration loaded)\n' : `Applied: ${formatDuration(c.appliedAge)} ago\n`;
  const r = c.lastReload;
  if (r === null) return out;
  out += `Last load (${r.trigger}, ${formatDuration(r.age)} ago): ${r.ok ? 'applied' : 'REFUSED, previous configuration kept'}\n`;
  for (const e of r.errors) out += `  ${formatIssue(e)}\n`;
  for (const w of r.warnings) out += `  ${formatIssue(w)}\n`;
  for (const ch of r.changes) out += `  change: ${ch}\n`;
  return out;
}

const ACTION_TEXT = {
  reset: 'reset (session restarted)',
  'soft-reset-in': 'soft reset in (route refresh requested)',
  'soft-reset-out': 'soft reset out (routes re-sent)',
  shutdown: 'shut down (stays down until enable)',
  enable: 'enabled',
} as const;

export function renderActions(results: readonly ActionResult[]): string {
  return results.map((r) => `neighbor ${r.neighbor} (${r.instance}): ${ACTION_TEXT[r.action]}\n`).join('');
}

/** One event as terminal lines (config reloads list their errors and changes below). */
export function renderEvent(e: ApiEvent): string {
  const head = `${e.time}  ${e.type.padEnd(13)} `;
  switch (e.type) {
    case 'peer-state':
      return `${head}${e.instance} ${e.neighbor}: ${e.from} -> ${e.to}${e.reason === null ? '' : ` (${e.reason})`}\n`;
    case 'prefix-limit': {
      const what = e.kind === 'warning' ? `warning: ${e.count} of ${e.max} prefixes` : e.kind === 'overflow' ? `exceeded: ${e.count} > ${e.max} prefixes, session closed` : `restart after limit (${e.max} prefixes)`;
      return `${head}${e.instance} ${e.neighbor} ${e.afi}/${e.safi}: ${what}\n`;
    }
    case 'fib':
      return `${head}${e.instance} ${e.prefix} table ${tableName(e.table)}: ${e.status}${e.detail === null ? '' : ` (${e.detail})`}\n`;
    case 'config-reload': {
      let out = `${head}${e.trigger}: ${e.ok ? `applied, ${e.changes.length} change${e.changes.length === 1 ? '' : 's'}` : `REFUSED (${e.errors.length} error${e.errors.length === 1 ? '' : 's'}), previous configuration kept`}\n`;
      for (const err of e.errors) out += `    ${formatIssue(err)}\n`;
      for (const ch of e.changes) out += `    ${ch}\n`;
      return out;
    }
    case 'admin':
      return `${head}${e.instance} ${e.neighbor}: ${e.action}${e.message === null ? '' : ` ${JSON.stringify(e.message)}`}\n`;
    case 'events-lost':
      return `${head}${e.count} event${e.count === 1 ? '' : 's'} dropped (this client read too slowly)\n`;
  }
}
