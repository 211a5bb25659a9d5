// What a feeder sends: pre-encoded UPDATE streams for announce, withdraw-all and flap
// cycles. `MessageTable` derives withdraw-all and flaps from any announce stream by
// reading its own messages back, so a source only has to produce announcements.
import { Afi, HEADER_LEN, MAX_MESSAGE_LEN } from '../../src/wire/iana.js';
import { NlriCursor } from '../../src/wire/nlri/prefix.js';
import { locateUpdate, ParsedUpdate, updateContext } from '../../src/wire/update.js';
import { encodeContext, packWithdrawals } from '../../src/wire/update-encoder.js';
import { ChunkWriter, forEachMessage, totalBytes } from './chunks.js';
import { PrefixSet } from './prefix-set.js';

/** One stream of whole messages, ready for the socket. */
export interface Feed {
  readonly chunks: readonly Buffer[];
  readonly messages: number;
  /** NLRI announced or withdrawn by these messages (duplicates counted). */
  readonly prefixes: number;
  readonly bytes: number;
}

export interface FeedTable {
  readonly name: string;
  /** Address families (AFI) the table has routes in. */
  readonly afis: readonly number[];
  /** Every announcement, in order (End-of-RIB not included: the session adds it). */
  announce(): Feed;
  /** Withdrawals of every prefix the announcements carry, each once. */
  withdrawAll(): Feed;
  /** Flap cycle `cycle`: withdraw about `fraction` of the table... */
  flapWithdraw(cycle: number, fraction: number): Feed;
  /** ...and announce the same routes again, with the same attributes. */
  flapAnnounce(cycle: number, fraction: number): Feed;
}

/** Wraps finished chunks as a Feed. */
export function feedOf(w: ChunkWriter, prefixes: number): Feed {
  const messages = w.messages;
  const bytes = w.bytes;
  return { chunks: w.finish(), messages, prefixes, bytes };
}

/** A Feed of several feeds back to back. */
export function concatFeeds(feeds: readonly Feed[]): Feed {
  let messages = 0;
  let prefixes = 0;
  let bytes = 0;
  const chunks: Buffer[] = [];
  for (const f of feeds) {
    chunks.push(...f.chunks);
    messages += f.messages;
    prefixes += f.prefixes;
    bytes += f.bytes;
  }
  return { chunks, messages, prefixes, bytes };
}

/** A deterministic choice of "about `fraction` of the items" per flap cycle. */
export function flapPick(seed: number, cycle: number, item: number, fraction: number): boolean {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(cycle + 1, 0x85ebca77);
  h = Math.imul(h ^ item ^ (h >>> 15), 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f);
  return ((h ^ (h >>> 16)) >>> 0) / 0x100000000 < fraction;
}

/** Withdrawal messages for every prefix of the sets (one family each). */
export function withdrawalsOf(sets: readonly PrefixSet[], maxLength = MAX_MESSAGE_LEN): Feed {
  const w = new ChunkWriter();
  const ctx = encodeContext({ maxLength });
  let n = 0;
  for (const s of sets) {
    if (s.size === 0) continue;
    n += s.size;
    w.addAll(packWithdrawals(s.toBatch(), ctx));
  }
  return feedOf(w, n);
}

/**
 * A table given as announcement messages (4-octet AS encoding, no ADD-PATH). Withdraw-all
 * and flaps read the announced NLRI back from the messages themselves.
 */
export class MessageTable implements FeedTable {
  readonly name: string;
  readonly afis: readonly number[];
  private readonly feed: Feed;
  private readonly seed: number;
  private readonly maxLength: number;
  private readonly parsed = new ParsedUpdate();
  private readonly cursor = new NlriCursor();
  private readonly ctx = updateContext();

  constructor(name: string, chunks: readonly Buffer[], opts: { seed?: number; maxLength?: number } = {}) {
    this.name = name;
    this.seed = opts.seed ?? 1;
    this.maxLength = opts.maxLength ?? MAX_MESSAGE_LEN;
    let prefixes = 0;
    let v4 = false;
    let v6 = false;
    this.eachAnnouncement(chunks, (_c, _s, _l, p) => {
      if (p.nlriCount > 0) v4 = true;
      const r = p.mpReach;
      if (r !== null && r.supported && r.count > 0) {
        if (r.afi === Afi.IPV6) v6 = true;
        else v4 = true;
      }
      prefixes += p.announcedCount;
    });
    const afis: number[] = [];
    if (v4) afis.push(Afi.IPV4);
    if (v6) afis.push(Afi.IPV6);
    this.afis = afis;
    this.feed = { chunks, messages: countMessages(chunks), prefixes, bytes: totalBytes(chunks) };
  }

  announce(): Feed {
    return this.feed;
  }

  withdrawAll(): Feed {
    const v4 = new PrefixSet(Afi.IPV4, 1 << 16);
    const v6 = new PrefixSet(Afi.IPV6, 1 << 12);
    this.eachAnnouncement(this.feed.chunks, (_c, _s, _l, p) => this.collect(p, v4, v6));
    return withdrawalsOf([v4, v6], this.maxLength);
  }

  flapWithdraw(cycle: number, fraction: number): Feed {
    const v4 = new PrefixSet(Afi.IPV4, 1 << 12);
    const v6 = new PrefixSet(Afi.IPV6, 1 << 10);
    let i = 0;
    this.eachAnnouncement(this.feed.chunks, (_c, _s, _l, p) => {
      if (flapPick(this.seed, cycle, i++, fraction)) this.collect(p, v4, v6);
    });
    return withdrawalsOf([v4, v6], this.maxLength);
  }

  flapAnnounce(cycle: number, fraction: number): Feed {
    const w = new ChunkWriter();
    let n = 0;
    let i = 0;
    this.eachAnnouncement(this.feed.chunks, (c, s, l, p) => {
      if (!flapPick(this.seed, cycle, i++, fraction)) return;
      w.add(c.subarray(s, s + l));
      n += p.announcedCount;
    });
    return feedOf(w, n);
  }

  /** Calls `fn` for every UPDATE that announces something. */
  private eachAnnouncement(
    chunks: readonly Buffer[],
    fn: (chunk: Buffer, start: number, length: number, p: ParsedUpdate) => void,
  ): void {
    const p = this.parsed;
    forEachMessage(chunks, (c, s, l) => {
      if (c[s + 18] !== 2) return;
      locateUpdate(c.subarray(s + HEADER_LEN, s + l), this.ctx, p);
      if (p.error !== null) throw new Error(`table ${this.name}: unparseable UPDATE: ${p.reason}`);
      if (p.announcedCount > 0) fn(c, s, l, p);
    });
  }

  private collect(p: ParsedUpdate, v4: PrefixSet, v6: PrefixSet): void {
    const c = this.cursor;
    c.reset(p.buf, p.nlriStart, p.nlriEnd, Afi.IPV4, false);
    while (c.next()) v4.addV4(c.addr, c.length);
    const r = p.mpReach;
    if (r === null || !r.supported) return;
    c.reset(p.buf, r.nlriStart, r.nlriEnd, r.afi, false);
    if (r.afi === Afi.IPV6) while (c.next()) v6.addV6(c.w0, c.w1, c.w2, c.w3, c.length);
    else while (c.next()) v4.addV4(c.addr, c.length);
  }
}

function countMessages(chunks: readonly Buffer[]): number {
  let n = 0;
  forEachMessage(chunks, () => n++);
  return n;
}
