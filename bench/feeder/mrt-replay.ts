// Turns an MRT file into a feed: the UPDATEs one peer of the collector sent (BGP4MP), or
// the routes one peer had in a RIB dump (TABLE_DUMP_V2, TABLE_DUMP), re-encoded as
// UPDATEs a feeder can send over its own session.
//
// Rewriting (default) makes the routes usable by a receiver that peers with the feeder:
//  - NEXT_HOP / MP_REACH next hop := the feeder's own address (so the receiver resolves it);
//  - AS_PATH: the feeder's AS is prepended, as an eBGP speaker does (unless the path
//    already starts with it), or replaces the first AS ('replace'), or stays ('keep');
//  - iBGP-only attributes (LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST) are dropped;
//  - AS_PATH is written with 4-byte ASNs (2-byte sessions' AS4_PATH merged, RFC 6793).
// RIB entries are grouped by identical attribute bytes and packed many prefixes per
// UPDATE; RFC 6396 §4.3.4's abbreviated MP_REACH_NLRI (next hop only) is rebuilt into a
// proper one. `raw` instead sends the recorded UPDATE bodies of 4-octet-AS sessions as
// they are (the feeder's AS must then be the recorded peer's). ADD-PATH path identifiers
// are dropped: the feeder does not negotiate ADD-PATH, so one path per prefix survives.
import { fnv1a } from '../../src/wire/attrs/hash.js';
import type { PathAttributes } from '../../src/wire/attrs/types.js';
import { UpdateAction } from '../../src/wire/errors.js';
import { Afi, HEADER_LEN, MAX_MESSAGE_LEN, MsgType } from '../../src/wire/iana.js';
import { parseAddress } from '../../src/wire/nlri/format.js';
import { NlriCursor } from '../../src/wire/nlri/prefix.js';
import { decodeAttributes, locateUpdate, ParsedUpdate, updateContext, type UpdateContext } from '../../src/wire/update.js';
import {
  encodeContext,
  type EncodeContext,
  packUpdates,
  packWithdrawals,
  PrefixBatch,
  writeUpdateHeader,
} from '../../src/wire/update-encoder.js';
import { Writer } from '../../src/wire/writer.js';
import { ChunkWriter } from './chunks.js';
import {
  Bgp4mpMessage,
  decodeBgp4mp,
  decodePeerIndexTable,
  decodeRib,
  decodeTableDump,
  MrtError,
  type MrtRecord,
  MrtType,
  readMrt,
  RibRecord,
  TableDumpEntry,
  TableDumpV2Subtype,
} from './mrt.js';
import { MessageTable } from './table.js';

/** Which of the collector's peers to replay; fields left out match anything. */
export interface MrtPeerFilter {
  readonly address?: string;
  readonly asn?: number;
}

export interface MrtFeedOptions {
  readonly file: string;
  /** Default: the peer with the most routes in the file (found by a first pass). */
  readonly peer?: MrtPeerFilter;
  /** The feeder's AS. */
  readonly localAs: number;
  /** The feeder's IPv4 next hop; needed for IPv4 routes when nextHop is 'self'. */
  readonly nextHop4?: string;
  /** The feeder's IPv6 next hop; needed for IPv6 routes when nextHop is 'self'. */
  readonly nextHop6?: string;
  /** Default 'self'. */
  readonly nextHop?: 'self' | 'keep';
  /** Default 'prepend'. */
  readonly asPath?: 'prepend' | 'replace' | 'keep';
  /** BGP4MP: send recorded UPDATE bodies unchanged (4-octet AS sessions without ADD-PATH). */
  readonly raw?: boolean;
  /** Families to keep (AFI); default IPv4 and IPv6. */
  readonly afis?: readonly number[];
  readonly maxLength?: number;
  /** Seed of the flap choice. */
  readonly seed?: number;
}

export interface MrtPeerSummary {
  readonly address: string;
  readonly asn: number;
  /** BGP4MP UPDATEs received from this peer. */
  updates: number;
  /** NLRI announced (BGP4MP) or RIB entries (dumps). */
  routes: number;
  /** The IPv6 part of `routes`. */
  routes6: number;
  /** NLRI withdrawn (BGP4MP). */
  withdrawn: number;
}

export interface MrtSurvey {
  readonly records: number;
  /** Records per "type/subtype". */
  readonly types: Readonly<Record<string, number>>;
  readonly peers: readonly MrtPeerSummary[];
  /** Prefix records in RIB dumps (TABLE_DUMP_V2 RIB records + TABLE_DUMP entries). */
  readonly ribRecords: number;
}

export interface MrtFeedStats {
  readonly file: string;
  readonly peer: MrtPeerFilter;
  records: number;
  /** BGP4MP UPDATEs taken from the chosen peer. */
  updatesIn: number;
  /** RIB entries taken from the chosen peer. */
  ribEntries: number;
  /** Distinct attribute sets the RIB entries were grouped into. */
  attributeSets: number;
  /** NLRI announced / withdrawn by the UPDATEs sent. */
  announced: number;
  withdrawn: number;
  messagesOut: number;
  /** UPDATEs or RIB entries left out, by reason. */
  readonly skipped: Record<string, number>;
}

function skip(stats: MrtFeedStats, why: string, n = 1): void {
  stats.skipped[why] = (stats.skipped[why] ?? 0) + n;
}

/** A replayable table from an MRT file. */
export class MrtTable extends MessageTable {
  readonly stats: MrtFeedStats;
  constructor(name: string, chunks: readonly Buffer[], stats: MrtFeedStats, opts: { seed?: number; maxLength?: number }) {
    super(name, chunks, opts);
    this.stats = stats;
  }
}

function peerKey(address: string, asn: number): string {
  return `${address} AS${asn}`;
}

/** One pass over the file: record types, and per peer how many UPDATEs/routes it has. */
export async function surveyMrt(file: string): Promise<MrtSurvey> {
  const types: Record<string, number> = {};
  const peers = new Map<string, MrtPeerSummary>();
  const msg = new Bgp4mpMessage();
  const rib = new RibRecord();
  const td = new TableDumpEntry();
  const p = new ParsedUpdate();
  const ctxs = contexts();
  let index: MrtPeerSummary[] = [];
  let ribRecords = 0;
  const peerOf = (address: string, asn: number): MrtPeerSummary => {
    const k = peerKey(address, asn);
    let s = peers.get(k);
    if (!s) peers.set(k, (s = { address, asn, updates: 0, routes: 0, routes6: 0, withdrawn: 0 }));
    return s;
  };
  const stats = await readMrt(file, (rec) => {
    const t = `${rec.type}/${rec.subtype}`;
    types[t] = (types[t] ?? 0) + 1;
    if (decodeBgp4mp(rec, msg)) {
      if (msg.local || msg.msgType !== MsgType.UPDATE) return;
      const s = peerOf(msg.peerAddressString(), msg.peerAs);
      locateUpdate(msg.messageBody(), ctxs[(msg.as4 ? 1 : 0) | (msg.addPath ? 2 : 0)]!, p);
      s.updates++;
      if (p.error !== null) return;
      s.routes += p.announcedCount;
      if (p.mpReach !== null && p.mpReach.afi === Afi.IPV6) s.routes6 += p.mpReach.count;
      s.withdrawn += p.withdrawnTotal;
    } else if (rec.type === MrtType.TABLE_DUMP_V2 && rec.subtype === TableDumpV2Subtype.PEER_INDEX_TABLE) {
      index = decodePeerIndexTable(rec).peers.map((x) => peerOf(x.address, x.asn));
    } else if (decodeRib(rec, rib)) {
      ribRecords++;
      while (rib.nextEntry()) {
        const s = index[rib.peerIndex];
        if (!s) continue;
        s.routes++;
        if (rib.afi === Afi.IPV6) s.routes6++;
      }
    } else if (decodeTableDump(rec, td)) {
      ribRecords++;
      const s = peerOf(td.peerAddressString(), td.peerAs);
      s.routes++;
      if (td.afi === Afi.IPV6) s.routes6++;
    }
  });
  return { records: stats.records, types, peers: [...peers.values()], ribRecords };
}

/** Decode contexts indexed by (as4 ? 1 : 0) | (addPath ? 2 : 0). */
function contexts(): UpdateContext[] {
  return [0, 1, 2, 3].map((i) => updateContext({ fourOctetAs: (i & 1) !== 0, addPathRx: (i & 2) !== 0 ? 3 : 0 }));
}

/** Loads a replayable table; reads the file twice when no peer is given. */
export async function loadMrtTable(opts: MrtFeedOptions): Promise<MrtTable> {
  let filter = opts.peer;
  if (filter === undefined) {
    const survey = await surveyMrt(opts.file);
    let best: MrtPeerSummary | undefined;
    for (const s of survey.peers) if (best === undefined || s.routes > best.routes) best = s;
    if (best === undefined) throw new MrtError(`${opts.file}: no peer with routes`);
    filter = { address: best.address, asn: best.asn };
  }
  const conv = new Converter(opts, filter);
  const read = await readMrt(opts.file, (rec) => conv.record(rec));
  const chunks = conv.finish();
  conv.stats.records = read.records;
  const who = [filter.address, filter.asn !== undefined ? `AS${filter.asn}` : undefined].filter((x) => x).join(' ');
  return new MrtTable(`mrt ${opts.file} peer ${who || 'any'}`, chunks, conv.stats, {
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    maxLength: opts.maxLength ?? MAX_MESSAGE_LEN,
  });
}

/** The feeder-side changes to a route's attributes; false when it has no usable next hop. */
export interface Rewrite {
  readonly localAs: number;
  readonly asPath: 'prepend' | 'replace' | 'keep';
  readonly nextHop: 'self' | 'keep';
  readonly nextHop4: Buffer | undefined;
  readonly nextHop6: Buffer | undefined;
}

export function rewriteAttributes(a: PathAttributes, r: Rewrite, hasV4: boolean, hasV6: boolean): boolean {
  if (r.asPath !== 'keep') {
    const first = a.asPath[0];
    if (first !== undefined && first.type === 2 && first.asns.length > 0) {
      if (first.asns[0] !== r.localAs) {
        const asns = r.asPath === 'replace' ? [r.localAs, ...first.asns.slice(1)] : [r.localAs, ...first.asns];
        a.asPath = [{ type: 2, asns }, ...a.asPath.slice(1)];
      }
    } else {
      a.asPath = [{ type: 2, asns: [r.localAs] }, ...a.asPath];
    }
    // What an eBGP speaker never sends.
    a.localPref = undefined;
    a.originatorId = undefined;
    a.clusterList = undefined;
  }
  if (r.nextHop === 'self') {
    if (hasV4) {
      if (r.nextHop4 === undefined) throw new Error('IPv4 routes need the feeder IPv4 next hop (nextHop4)');
      a.nextHop = r.nextHop4;
    }
    if (hasV6) {
      if (r.nextHop6 === undefined) throw new Error('IPv6 routes need the feeder IPv6 next hop (nextHop6)');
      a.mpNextHop = { global: r.nextHop6, linkLocal: undefined };
    }
    return true;
  }
  if (hasV4 && a.nextHop === undefined) {
    // IPv4 routes announced in MP_REACH_NLRI: move the 4-byte next hop to NEXT_HOP.
    if (a.mpNextHop?.global.length !== 4) return false;
    a.nextHop = a.mpNextHop.global;
  }
  if (hasV6 && a.mpNextHop?.global.length !== 16) return false;
  return true;
}

/** Walks an attribute section; for MP_REACH_NLRI returns where its next hop is. */
function mpNextHopRange(v: Buffer, vs: number, ve: number): [number, number] | null {
  const len = ve - vs;
  if (len >= 1 && v[vs]! + 1 === len) return [vs + 1, ve]; // RFC 6396 §4.3.4 abbreviated form
  if (len < 5) return null;
  const nhLen = v[vs + 3]!;
  if (vs + 4 + nhLen > ve) return null;
  return [vs + 4, vs + 4 + nhLen];
}

/**
 * An UPDATE body (no NLRI) carrying a RIB entry's attributes, with a proper MP_REACH_NLRI
 * (AFI, SAFI 1, next hop, reserved, no NLRI) in place of the dump's abbreviated one, so
 * the codec can decode it. Null when the attributes are malformed.
 */
export function ribUpdateBody(attrs: Buffer, afi: number): Buffer | null {
  const w = new Writer(attrs.length + 32);
  w.u16(0);
  const lenAt = w.placeholder(2);
  let p = 0;
  while (p < attrs.length) {
    if (p + 3 > attrs.length) return null;
    const flags = attrs[p]!;
    const type = attrs[p + 1]!;
    const ext = (flags & 0x10) !== 0;
    if (ext && p + 4 > attrs.length) return null;
    const len = ext ? attrs.readUInt16BE(p + 2) : attrs[p + 2]!;
    const vs = p + (ext ? 4 : 3);
    const ve = vs + len;
    if (ve > attrs.length) return null;
    if (type === 14) {
      const nh = mpNextHopRange(attrs, vs, ve);
      if (nh === null) return null;
      const nhLen = nh[1] - nh[0];
      w.u8(0x80).u8(14).u8(5 + nhLen).u16(afi).u8(1).u8(nhLen).bytes(attrs.subarray(nh[0], nh[1])).u8(0);
    } else {
      w.bytes(attrs.subarray(p, ve));
    }
    p = ve;
  }
  w.patchU16(lenAt, w.pos - 4);
  return w.toBuffer();
}

/**
 * RIB entries grouped by (family, AS size, attribute bytes), over typed arrays: one arena
 * for the attribute bytes of each distinct set, and per entry its group and prefix.
 */
class RibGroups {
  groups = 0;
  entries = 0;
  private arena = Buffer.allocUnsafe(1 << 20);
  private arenaPos = 0;
  private gOff = new Uint32Array(1024);
  private gLen = new Uint32Array(1024);
  private gMeta = new Uint8Array(1024);
  private gNext = new Int32Array(1024);
  private gCount = new Uint32Array(1024);
  private readonly heads = new Map<number, number>();
  private eGroup = new Uint32Array(1 << 16);
  private eWords = new Uint32Array(4 << 16);
  private eLen = new Uint8Array(1 << 16);

  /** meta = afi | (2-byte AS_PATH ? 4 : 0). */
  add(meta: number, b: Buffer, start: number, end: number, words: Uint32Array, len: number): void {
    const h = (fnv1a(b, start, end) ^ Math.imul(meta, 0x9e3779b1)) | 0;
    const head = this.heads.get(h);
    let g = head ?? -1;
    while (g >= 0) {
      if (this.gMeta[g] === meta && this.arena.compare(b, start, end, this.gOff[g]!, this.gOff[g]! + this.gLen[g]!) === 0) break;
      g = this.gNext[g]!;
    }
    if (g < 0) g = this.newGroup(meta, b, start, end, h, head ?? -1);
    this.gCount[g] = this.gCount[g]! + 1;
    if (this.entries === this.eLen.length) this.growEntries();
    const e = this.entries++;
    this.eGroup[e] = g;
    this.eWords.set(words, e * 4);
    this.eLen[e] = len;
  }

  private newGroup(meta: number, b: Buffer, start: number, end: number, h: number, head: number): number {
    const n = end - start;
    if (this.arenaPos + n > this.arena.length) {
      const a = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.arenaPos + n));
      this.arena.copy(a, 0, 0, this.arenaPos);
      this.arena = a;
    }
    if (this.groups === this.gLen.length) {
      const cap = this.groups * 2;
      this.gOff = grow32(this.gOff, cap);
      this.gLen = grow32(this.gLen, cap);
      this.gCount = grow32(this.gCount, cap);
      const next = new Int32Array(cap);
      next.set(this.gNext);
      this.gNext = next;
      const m = new Uint8Array(cap);
      m.set(this.gMeta);
      this.gMeta = m;
    }
    const g = this.groups++;
    b.copy(this.arena, this.arenaPos, start, end);
    this.gOff[g] = this.arenaPos;
    this.gLen[g] = n;
    this.gMeta[g] = meta;
    this.gNext[g] = head;
    this.gCount[g] = 0;
    this.arenaPos += n;
    this.heads.set(h, g);
    return g;
  }

  private growEntries(): void {
    const cap = this.eLen.length * 2;
    this.eGroup = grow32(this.eGroup, cap);
    const w = new Uint32Array(cap * 4);
    w.set(this.eWords);
    this.eWords = w;
    const l = new Uint8Array(cap);
    l.set(this.eLen);
    this.eLen = l;
  }

  /** Calls `emit` per group, in first-seen order, with its attributes and prefixes. */
  forEach(emit: (meta: number, attrs: Buffer, batch: PrefixBatch) => void): void {
    // Counting sort of the entries by group.
    const start = new Uint32Array(this.groups + 1);
    for (let g = 0; g < this.groups; g++) start[g + 1] = start[g]! + this.gCount[g]!;
    const fill = start.slice(0, this.groups);
    const order = new Uint32Array(this.entries);
    for (let e = 0; e < this.entries; e++) {
      const g = this.eGroup[e]!;
      order[fill[g]!] = e;
      fill[g] = fill[g]! + 1;
    }
    const b4 = new PrefixBatch(Afi.IPV4);
    const b6 = new PrefixBatch(Afi.IPV6);
    const ws = this.eWords;
    for (let g = 0; g < this.groups; g++) {
      const meta = this.gMeta[g]!;
      const batch = (meta & 3) === Afi.IPV6 ? b6 : b4;
      batch.clear();
      for (let k = start[g]!; k < start[g + 1]!; k++) {
        const e = order[k]!;
        const o = e * 4;
        if (batch === b4) batch.addV4(ws[o]!, this.eLen[e]!);
        else batch.addV6(ws[o]!, ws[o + 1]!, ws[o + 2]!, ws[o + 3]!, this.eLen[e]!);
      }
      emit(meta, this.arena.subarray(this.gOff[g]!, this.gOff[g]! + this.gLen[g]!), batch);
    }
  }
}

function grow32(a: Uint32Array, cap: number): Uint32Array<ArrayBuffer> {
  const n = new Uint32Array(cap);
  n.set(a);
  return n;
}

class Converter {
  readonly stats: MrtFeedStats;
  private readonly w = new ChunkWriter();
  private readonly p = new ParsedUpdate();
  private readonly cursor = new NlriCursor();
  private readonly ann4 = new PrefixBatch(Afi.IPV4);
  private readonly ann6 = new PrefixBatch(Afi.IPV6);
  private readonly wd4 = new PrefixBatch(Afi.IPV4);
  private readonly wd6 = new PrefixBatch(Afi.IPV6);
  private readonly out: Buffer[] = [];
  private readonly ectx: EncodeContext;
  private readonly ctxs = contexts();
  private readonly ribCtx4 = updateContext({ fourOctetAs: true });
  private readonly ribCtx2 = updateContext({ fourOctetAs: false });
  private readonly rw: Rewrite;
  private readonly raw: boolean;
  private readonly want4: boolean;
  private readonly want6: boolean;
  private readonly filterAddr: Buffer | undefined;
  private readonly filterAs: number | undefined;
  private readonly msg = new Bgp4mpMessage();
  private readonly rib = new RibRecord();
  private readonly td = new TableDumpEntry();
  /** TABLE_DUMP_V2: 1 for each peer index that matches the filter. */
  private peerMatch = new Uint8Array(0);
  private readonly groups = new RibGroups();

  constructor(opts: MrtFeedOptions, filter: MrtPeerFilter) {
    this.stats = {
      file: opts.file,
      peer: filter,
      records: 0,
      updatesIn: 0,
      ribEntries: 0,
      attributeSets: 0,
      announced: 0,
      withdrawn: 0,
      messagesOut: 0,
      skipped: {},
    };
    this.ectx = encodeContext({ maxLength: opts.maxLength ?? MAX_MESSAGE_LEN });
    const nh = (s: string | undefined, afi: number): Buffer | undefined => {
      if (s === undefined) return undefined;
      const a = parseAddress(s);
      if (a.afi !== afi) throw new Error(`${s} is not an IPv${afi === 1 ? 4 : 6} address`);
      return a.bytes;
    };
    this.rw = {
      localAs: opts.localAs,
      asPath: opts.asPath ?? 'prepend',
      nextHop: opts.nextHop ?? 'self',
      nextHop4: nh(opts.nextHop4, Afi.IPV4),
      nextHop6: nh(opts.nextHop6, Afi.IPV6),
    };
    this.raw = opts.raw ?? false;
    const afis = opts.afis ?? [Afi.IPV4, Afi.IPV6];
    this.want4 = afis.includes(Afi.IPV4);
    this.want6 = afis.includes(Afi.IPV6);
    this.filterAddr = filter.address !== undefined ? parseAddress(filter.address).bytes : undefined;
    this.filterAs = filter.asn;
  }

  private matches(address: Buffer, asn: number): boolean {
    if (this.filterAs !== undefined && asn !== this.filterAs) return false;
    return this.filterAddr === undefined || this.filterAddr.equals(address);
  }

  record(rec: MrtRecord): void {
    if (decodeBgp4mp(rec, this.msg)) this.bgp4mp(this.msg);
    else if (rec.type === MrtType.TABLE_DUMP_V2 && rec.subtype === TableDumpV2Subtype.PEER_INDEX_TABLE) {
      const peers = decodePeerIndexTable(rec).peers;
      this.peerMatch = new Uint8Array(peers.length);
      for (const x of peers) {
        const a = parseAddress(x.address).bytes;
        if (this.matches(a, x.asn)) this.peerMatch[x.index] = 1;
      }
    } else if (decodeRib(rec, this.rib)) {
      const r = this.rib;
      const want = r.afi === Afi.IPV6 ? this.want6 : this.want4;
      while (r.nextEntry()) {
        if (this.peerMatch[r.peerIndex] !== 1) continue;
        if (!want) {
          skip(this.stats, 'family');
          continue;
        }
        this.stats.ribEntries++;
        this.groups.add(r.afi, r.body, r.attrStart, r.attrEnd, r.words, r.prefixLen);
      }
    } else if (decodeTableDump(rec, this.td)) {
      const t = this.td;
      if (!this.matches(t.peerAddress, t.peerAs)) return;
      if (!(t.afi === Afi.IPV6 ? this.want6 : this.want4)) {
        skip(this.stats, 'family');
        return;
      }
      this.stats.ribEntries++;
      this.groups.add(t.afi | 4, t.body, t.attrStart, t.attrEnd, t.words, t.prefixLen);
    }
  }

  private bgp4mp(m: Bgp4mpMessage): void {
    if (m.local || m.msgType !== MsgType.UPDATE || !this.matches(m.peerAddress, m.peerAs)) return;
    const body = m.messageBody();
    const ctx = this.ctxs[(m.as4 ? 1 : 0) | (m.addPath ? 2 : 0)]!;
    const p = locateUpdate(body, ctx, this.p);
    this.stats.updatesIn++;
    if (p.error !== null) {
      skip(this.stats, 'malformed UPDATE');
      return;
    }
    if (p.endOfRib !== null) return; // the feeder sends its own End-of-RIB
    if (this.raw && m.as4 && !m.addPath && this.rawFamiliesOk(p)) {
      const msg = Buffer.allocUnsafe(HEADER_LEN + body.length);
      writeUpdateHeader(msg, 0, msg.length);
      body.copy(msg, HEADER_LEN);
      this.emit([msg], p.announcedCount, p.withdrawnTotal);
      return;
    }
    this.convertUpdate(p, ctx);
  }

  /** Raw replay only when every family in the UPDATE is wanted. */
  private rawFamiliesOk(p: ParsedUpdate): boolean {
    if ((p.nlriCount > 0 || p.withdrawnCount > 0) && !this.want4) return false;
    for (const x of [p.mpReach, p.mpUnreach]) {
      if (x === null) continue;
      if (!x.supported || (x.afi === Afi.IPV6 ? !this.want6 : !this.want4)) return false;
    }
    return true;
  }

  private convertUpdate(p: ParsedUpdate, ctx: UpdateContext): void {
    const wd4 = this.wd4;
    const wd6 = this.wd6;
    const ann4 = this.ann4;
    const ann6 = this.ann6;
    wd4.clear();
    wd6.clear();
    ann4.clear();
    ann6.clear();
    this.collect(p.buf, p.withdrawnStart, p.withdrawnEnd, Afi.IPV4, p.classicAddPath, wd4, wd6);
    const un = p.mpUnreach;
    if (un !== null && un.supported) this.collect(p.buf, un.nlriStart, un.nlriEnd, un.afi, un.addPath, wd4, wd6);
    let attrs: PathAttributes | null = null;
    if (p.announcedCount > 0 && p.action < UpdateAction.TREAT_AS_WITHDRAW) attrs = decodeAttributes(p, ctx);
    // RFC 7606: a route whose attributes are broken is withdrawn, not announced.
    const announce = attrs !== null && p.action < UpdateAction.TREAT_AS_WITHDRAW;
    const to4 = announce ? ann4 : wd4;
    const to6 = announce ? ann6 : wd6;
    this.collect(p.buf, p.nlriStart, p.nlriEnd, Afi.IPV4, p.classicAddPath, to4, to6);
    const re = p.mpReach;
    if (re !== null && re.supported) this.collect(p.buf, re.nlriStart, re.nlriEnd, re.afi, re.addPath, to4, to6);
    const out = this.out;
    out.length = 0;
    if (wd4.count > 0) packWithdrawals(wd4, this.ectx, out);
    if (wd6.count > 0) packWithdrawals(wd6, this.ectx, out);
    let announced = 0;
    if (announce && (ann4.count > 0 || ann6.count > 0)) {
      if (rewriteAttributes(attrs!, this.rw, ann4.count > 0, ann6.count > 0)) {
        if (ann4.count > 0) packUpdates(attrs!, ann4, this.ectx, out);
        if (ann6.count > 0) packUpdates(attrs!, ann6, this.ectx, out);
        announced = ann4.count + ann6.count;
      } else {
        skip(this.stats, 'no usable next hop', ann4.count + ann6.count);
      }
    }
    this.emit(out, announced, wd4.count + wd6.count);
  }

  private collect(buf: Buffer, start: number, end: number, afi: number, addPath: boolean, b4: PrefixBatch, b6: PrefixBatch): void {
    if (start === end) return;
    const v6 = afi === Afi.IPV6;
    if (v6 ? !this.want6 : !this.want4) {
      skip(this.stats, 'family');
      return;
    }
    const c = this.cursor.reset(buf, start, end, afi, addPath);
    if (v6) while (c.next()) b6.addV6(c.w0, c.w1, c.w2, c.w3, c.length);
    else while (c.next()) b4.addV4(c.addr, c.length);
  }

  private emit(msgs: readonly Buffer[], announced: number, withdrawn: number): void {
    this.w.addAll(msgs);
    this.stats.announced += announced;
    this.stats.withdrawn += withdrawn;
  }

  finish(): Buffer[] {
    const out = this.out;
    this.stats.attributeSets = this.groups.groups;
    this.groups.forEach((meta, attrBytes, batch) => {
      const afi = meta & 3;
      const body = ribUpdateBody(attrBytes, afi);
      const ctx = (meta & 4) !== 0 ? this.ribCtx2 : this.ribCtx4;
      if (body === null) {
        skip(this.stats, 'malformed RIB attributes', batch.count);
        return;
      }
      const p = locateUpdate(body, ctx, this.p);
      const attrs = p.error === null && p.action < UpdateAction.TREAT_AS_WITHDRAW ? decodeAttributes(p, ctx) : null;
      if (attrs === null || p.action >= UpdateAction.TREAT_AS_WITHDRAW) {
        skip(this.stats, 'malformed RIB attributes', batch.count);
        return;
      }
      if (!rewriteAttributes(attrs, this.rw, afi === Afi.IPV4, afi === Afi.IPV6)) {
        skip(this.stats, 'no usable next hop', batch.count);
        return;
      }
      out.length = 0;
      packUpdates(attrs, batch, this.ectx, out);
      this.emit(out, batch.count, 0);
    });
    this.stats.messagesOut = this.w.messages;
    return this.w.finish();
  }
}
