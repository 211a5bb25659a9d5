// Target 2: one UPDATE body through locateUpdate → NlriCursor over every NLRI field →
// decodeAttributes, under several session contexts, with these oracles:
//   - locateUpdate and decodeAttributes never throw (they return RFC 7606 actions);
//   - SESSION_RESET ⇔ an error, whose code is UPDATE Message Error with a registered
//     subcode; offsets and counts describe the body; the intern key hashes to attrHash;
//   - every NLRI range locate validated iterates without throwing, with the counted
//     number of entries, lengths within the family and host bits cleared; unsupported
//     families may throw BgpError (Invalid Network Field) only;
//   - locate is deterministic; removing the withdrawn routes leaves the intern key and
//     the decoded attributes unchanged (a cache hit must not skip a check);
//   - round trip: a cleanly decoded UPDATE re-encoded with update-encoder.ts (same
//     4-octet/ADD-PATH settings) decodes to the same attributes and prefixes.
import { isDeepStrictEqual } from 'node:util';
import { BgpError, UpdateAction } from '../../src/wire/errors.js';
import { fnv1a } from '../../src/wire/attrs/hash.js';
import { ATTR_TABLE } from '../../src/wire/attrs/table.js';
import type { PathAttributes } from '../../src/wire/attrs/types.js';
import { Afi, ErrorCode, UpdateSubcode } from '../../src/wire/iana.js';
import { maskBits, NlriCursor } from '../../src/wire/nlri/prefix.js';
import {
  decodeAttributes,
  locateUpdate,
  ParsedUpdate,
  updateContext,
  type UpdateContext,
} from '../../src/wire/update.js';
import { encodeContext, packUpdates, packWithdrawals, PrefixBatch } from '../../src/wire/update-encoder.js';
import type { Target } from '../engine.js';
import { updateLayout } from '../layout.js';
import { check, checkBgpError, OracleViolation } from '../oracle.js';
import type { Rng } from '../rng.js';
import { MAX_UPDATE_BODY, mutateUpdate } from '../struct/update-model.js';
import { PEER_AS } from '../seeds.js';
import { Stopwatch } from '../stopwatch.js';

export interface NamedContext {
  readonly name: string;
  readonly ctx: UpdateContext;
}

/** 4-/2-octet, iBGP/eBGP (with enforce-first-as), ADD-PATH on/off. */
export const UPDATE_CONTEXTS: readonly NamedContext[] = [
  { name: 'as4-ibgp', ctx: updateContext() },
  { name: 'as2-ibgp', ctx: updateContext({ fourOctetAs: false }) },
  { name: 'as4-ebgp', ctx: updateContext({ ebgp: true, peerAs: PEER_AS, enforceFirstAs: true }) },
  { name: 'as4-ibgp-addpath', ctx: updateContext({ addPathRx: 3 }) },
  {
    name: 'as2-ebgp-addpath4',
    ctx: updateContext({ fourOctetAs: false, ebgp: true, peerAs: PEER_AS, enforceFirstAs: true, addPathRx: 1 }),
  },
];

const UPDATE_CODES = [ErrorCode.UPDATE_MESSAGE];
const MAX_ACTION = UpdateAction.SESSION_RESET;

/** Counters of what the oracles could check, for the report. */
export interface UpdateTargetCounters {
  located: number;
  reset: number;
  treatAsWithdraw: number;
  clean: number;
  roundTrips: number;
  roundTripSkipped: number;
  /** Round trips to a 2-octet peer whose AS_PATH RFC 6793 cannot carry (see hasInnerConfed, as4PathLostToAggregator). */
  asPathNotComparable: number;
  internChecks: number;
  duplicateChecks: number;
}

/** Runs locate (no throw allowed), wrapping a BgpError into a violation. */
function locate(body: Buffer, ctx: UpdateContext, p: ParsedUpdate): ParsedUpdate {
  try {
    return locateUpdate(body, ctx, p);
  } catch (e) {
    if (e instanceof BgpError) throw new OracleViolation(`locateUpdate threw BgpError ${e.code}/${e.subcode}: ${e.message}`);
    throw e;
  }
}

function decode(p: ParsedUpdate, ctx: UpdateContext): PathAttributes | null {
  try {
    return decodeAttributes(p, ctx);
  } catch (e) {
    if (e instanceof BgpError) throw new OracleViolation(`decodeAttributes threw BgpError ${e.code}/${e.subcode}: ${e.message}`);
    throw e;
  }
}

function checkResult(p: ParsedUpdate, body: Buffer, where: string): void {
  check(Number.isInteger(p.action) && p.action >= 0 && p.action <= MAX_ACTION, `${where}: action ${p.action}`);
  check((p.action === UpdateAction.SESSION_RESET) === (p.error !== null), () => `${where}: action ${p.action} with error ${p.error?.message ?? 'null'}`);
  if (p.error !== null) checkBgpError(p.error, UPDATE_CODES);
  check(p.buf === body, `${where}: buf is not the body`);
}

/** Offsets, counts, intern key: what the RIB relies on after a locate that did not reset. */
function checkLocated(p: ParsedUpdate, body: Buffer): void {
  check(p.withdrawnStart === 2 && p.withdrawnEnd + 2 === p.attrStart, 'withdrawn/attribute offsets');
  check(p.attrStart <= p.attrEnd && p.attrEnd === p.nlriStart && p.nlriEnd === body.length, 'attribute/NLRI offsets');
  check(p.typeCount <= 256, 'typeCount');
  for (let i = 0; i < p.typeCount; i++) {
    const t = p.types[i]!;
    check(p.has(t), `type ${t} recorded but not in the bitmap`);
    check(
      p.attrStart <= p.tlvStart[t]! && p.tlvStart[t]! < p.valueStart[t]! && p.valueStart[t]! <= p.valueEnd[t]! && p.valueEnd[t]! <= p.attrEnd,
      `attribute ${t} offsets outside the attribute section`,
    );
  }
  if (p.action < UpdateAction.TREAT_AS_WITHDRAW) {
    check(p.attrHash === fnv1a(p.attrKey), 'attrHash is not the hash of attrKey');
    check(p.attrKey.length <= p.attrEnd - p.attrStart + 8 + 32, 'attrKey longer than the section');
  } else {
    check(p.attrKey.length === 0, 'attrKey set on a treat-as-withdraw UPDATE');
  }
  check(p.announcedCount === p.nlriCount + (p.mpReach?.count ?? 0), 'announcedCount');
  check(p.withdrawnTotal === p.withdrawnCount + (p.mpUnreach?.count ?? 0), 'withdrawnTotal');
  if (p.endOfRib !== null) {
    check(p.withdrawnCount === 0 && p.nlriCount === 0 && p.announcedCount === 0, 'End-of-RIB with prefixes');
  }
}

const cursor = new NlriCursor();

/**
 * Prefixes of one field kind, flat: IPv4 entries as (pathId, len, addr) triples, IPv6
 * entries as (pathId, len, w0, w1, w2, w3). No object per prefix.
 */
class PrefixList {
  readonly v4: number[] = [];
  readonly v6: number[] = [];
}

interface Prefixes {
  readonly withdrawn: PrefixList;
  readonly announced: PrefixList;
}

function prefixes(): Prefixes {
  return { withdrawn: new PrefixList(), announced: new PrefixList() };
}

/** Walks one validated NLRI range, checking each entry; appends them to `keep`. */
function walk(buf: Buffer, start: number, end: number, afi: number, addPath: boolean, expected: number, what: string, keep: PrefixList | undefined): void {
  cursor.reset(buf, start, end, afi, addPath);
  const v6 = afi === Afi.IPV6;
  let n = 0;
  for (;;) {
    let more: boolean;
    try {
      more = cursor.next();
    } catch (e) {
      if (e instanceof BgpError) throw new OracleViolation(`NlriCursor threw on ${what} validated by locate: ${e.message}`);
      throw e;
    }
    if (!more) break;
    n++;
    const len = cursor.length;
    if (len > (v6 ? 128 : 32)) throw new OracleViolation(`${what}: prefix length ${len}`);
    if (v6) {
      const ok =
        (cursor.w0 & ~maskBits(len)) === 0 &&
        (cursor.w1 & ~maskBits(len - 32)) === 0 &&
        (cursor.w2 & ~maskBits(len - 64)) === 0 &&
        (cursor.w3 & ~maskBits(len - 96)) === 0;
      if (!ok) throw new OracleViolation(`${what}: host bits set in an IPv6 prefix`);
      keep?.v6.push(cursor.pathId, len, cursor.w0, cursor.w1, cursor.w2, cursor.w3);
    } else {
      if ((cursor.addr & ~maskBits(len)) !== 0) throw new OracleViolation(`${what}: host bits set in an IPv4 prefix`);
      keep?.v4.push(cursor.pathId, len, cursor.addr);
    }
    if (n > expected) throw new OracleViolation(`${what}: more entries than locate counted`);
  }
  check(n === expected, () => `${what}: ${n} entries, locate counted ${expected}`);
}

/** A range locate did not validate (unsupported family): only BgpError 3/10 may come out. */
function walkUnvalidated(buf: Buffer, start: number, end: number, afi: number): void {
  cursor.reset(buf, start, end, afi, false);
  try {
    while (cursor.next()) {
      /* nothing */
    }
  } catch (e) {
    if (!(e instanceof BgpError)) throw e;
    checkBgpError(e, UPDATE_CODES);
    check(e.subcode === UpdateSubcode.INVALID_NETWORK_FIELD, `NlriCursor threw subcode ${e.subcode}`);
  }
}

function walkAll(p: ParsedUpdate, keep: Prefixes | undefined): void {
  const b = p.buf;
  walk(b, p.withdrawnStart, p.withdrawnEnd, Afi.IPV4, p.classicAddPath, p.withdrawnCount, 'withdrawn', keep?.withdrawn);
  walk(b, p.nlriStart, p.nlriEnd, Afi.IPV4, p.classicAddPath, p.nlriCount, 'NLRI', keep?.announced);
  const r = p.mpReach;
  if (r !== null) {
    if (r.supported) walk(b, r.nlriStart, r.nlriEnd, r.afi, r.addPath, r.count, 'MP_REACH NLRI', keep?.announced);
    else walkUnvalidated(b, r.nlriStart, r.nlriEnd, r.afi);
  }
  const u = p.mpUnreach;
  if (u !== null) {
    if (u.supported) walk(b, u.nlriStart, u.nlriEnd, u.afi, u.addPath, u.count, 'MP_UNREACH NLRI', keep?.withdrawn);
    else walkUnvalidated(b, u.nlriStart, u.nlriEnd, u.afi);
  }
}

function toBatch(afi: number, list: PrefixList): PrefixBatch {
  if (afi === Afi.IPV6) {
    const xs = list.v6;
    const batch = new PrefixBatch(afi, xs.length / 6);
    for (let i = 0; i < xs.length; i += 6) batch.addV6(xs[i + 2]!, xs[i + 3]!, xs[i + 4]!, xs[i + 5]!, xs[i + 1]!, xs[i]!);
    return batch;
  }
  const xs = list.v4;
  const batch = new PrefixBatch(afi, xs.length / 3);
  for (let i = 0; i < xs.length; i += 3) batch.addV4(xs[i + 2]!, xs[i + 1]!, xs[i]!);
  return batch;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** RFC 4271 §5 lets attributes come in any order; the encoder sorts unknown ones by type. */
function normalised(a: PathAttributes, dropAsPath: boolean): PathAttributes {
  const out = a.unknown.length < 2 ? a : { ...a, unknown: [...a.unknown].sort((x, y) => x.type - y.type) };
  return dropAsPath ? { ...out, asPath: [] } : out;
}

/**
 * A confederation segment after an ordinary one. Towards a 2-octet peer such a path
 * cannot survive RFC 6793: AS4_PATH may not carry confederation segments (§3) and the
 * receiver's merge keeps only the leading part of AS_PATH (§4.2.3), so the inner
 * segment is lost by the RFC's rules, not by a bug.
 */
function hasInnerConfed(path: PathAttributes['asPath']): boolean {
  let seenPlain = false;
  for (const s of path) {
    if (s.type === 3 || s.type === 4) {
      if (seenPlain) return true;
    } else {
      seenPlain = true;
    }
  }
  return false;
}

/**
 * An aggregator AS that fits 2 octets with 4-octet ASNs in the path. Towards a 2-octet
 * peer RFC 6793 §4.2.2 sends AGGREGATOR with that AS and no AS4_AGGREGATOR, and the
 * next NEW speaker, seeing an AGGREGATOR without AS_TRANS, must ignore AS4_PATH
 * (§4.2.3): the 4-octet ASNs are lost by the RFC's rules (FRR does the same). Decoding
 * such a set happens when AGGREGATOR is AS_TRANS and AS4_AGGREGATOR holds a small AS.
 */
function as4PathLostToAggregator(a: PathAttributes): boolean {
  if (a.aggregator === undefined || a.aggregator.asn > 0xffff) return false;
  return a.asPath.some((s) => s.asns.some((asn) => asn > 0xffff));
}

function checkAttrs(a: PathAttributes, ctx: UpdateContext): void {
  check(a.origin === undefined || a.origin <= 2, `origin ${a.origin}`);
  for (const s of a.asPath) {
    check(s.type >= 1 && s.type <= 4, `AS_PATH segment type ${s.type}`);
    check(s.asns.length >= 1 && s.asns.length <= 255, `AS_PATH segment of ${s.asns.length} ASNs`);
    for (const asn of s.asns) check(Number.isInteger(asn) && asn >= 1 && asn <= 0xffffffff, `ASN ${asn}`);
    if (ctx.ebgp) check(s.type === 1 || s.type === 2, 'confederation segment accepted from an external peer');
  }
  check(a.nextHop === undefined || a.nextHop.length === 4, 'NEXT_HOP not 4 bytes');
  if (ctx.ebgp) check(a.localPref === undefined, 'LOCAL_PREF kept from an external peer');
  check(a.extendedCommunities === undefined || (a.extendedCommunities.length > 0 && a.extendedCommunities.length % 8 === 0), 'extended communities size');
  check(a.largeCommunities === undefined || (a.largeCommunities.length > 0 && a.largeCommunities.length % 3 === 0), 'large communities size');
  check(a.communities === undefined || a.communities.length > 0, 'empty communities');
  check(a.clusterList === undefined || a.clusterList.length > 0, 'empty CLUSTER_LIST');
  const nh = a.mpNextHop;
  if (nh !== undefined) {
    check(nh.global.length === 4 || nh.global.length === 16, `MP next hop of ${nh.global.length} bytes`);
    check(nh.linkLocal === undefined || nh.linkLocal.length === 16, 'MP link-local next hop size');
  }
  for (const u of a.unknown) {
    check(ATTR_TABLE[u.type] === undefined, `known type ${u.type} kept as unknown`);
    check((u.flags & 0xe0) === 0xe0 && (u.flags & 0x1f) === 0, `unknown attribute flags ${u.flags}`);
  }
}

export class UpdateTarget implements Target {
  readonly name = 'update';
  readonly maxLen = MAX_UPDATE_BODY;
  readonly stopwatch = new Stopwatch();
  readonly counters: UpdateTargetCounters = {
    located: 0,
    reset: 0,
    treatAsWithdraw: 0,
    clean: 0,
    roundTrips: 0,
    roundTripSkipped: 0,
    asPathNotComparable: 0,
    internChecks: 0,
    duplicateChecks: 0,
  };
  private readonly contexts: readonly NamedContext[];
  private readonly parsed: ParsedUpdate[];
  private readonly again = new ParsedUpdate();
  private readonly scratch = new ParsedUpdate();
  private readonly seedList: () => Buffer[];

  constructor(seeds: () => Buffer[], contexts: readonly NamedContext[] = UPDATE_CONTEXTS) {
    this.seedList = seeds;
    this.contexts = contexts;
    this.parsed = contexts.map(() => new ParsedUpdate());
  }

  seeds(): Buffer[] {
    return this.seedList();
  }

  layout(input: Buffer): ReturnType<typeof updateLayout> {
    return updateLayout(input);
  }

  mutate(input: Buffer, rng: Rng, other: Buffer): Buffer | undefined {
    return mutateUpdate(input, rng, other);
  }

  run(body: Buffer): void {
    for (let i = 0; i < this.contexts.length; i++) {
      const nc = this.contexts[i]!;
      try {
        this.runOne(body, nc.ctx, this.parsed[i]!);
      } catch (e) {
        if (e instanceof Error) e.message = `[${nc.name}] ${e.message}`;
        throw e;
      }
    }
  }

  private locate(body: Buffer, ctx: UpdateContext, p: ParsedUpdate): ParsedUpdate {
    return this.stopwatch.time(() => locate(body, ctx, p));
  }

  private decode(p: ParsedUpdate, ctx: UpdateContext): PathAttributes | null {
    return this.stopwatch.time(() => decode(p, ctx));
  }

  private walkAll(p: ParsedUpdate, keep: Prefixes | undefined): void {
    this.stopwatch.time(() => walkAll(p, keep));
  }

  private runOne(body: Buffer, ctx: UpdateContext, p: ParsedUpdate): void {
    const c = this.counters;
    c.located++;
    this.locate(body, ctx, p);
    checkResult(p, body, 'locate');
    if (p.error !== null) {
      c.reset++;
      check(this.decode(p, ctx) === null, 'decodeAttributes decoded an UPDATE that resets the session');
      check(p.action === UpdateAction.SESSION_RESET, 'decode lowered the action');
      return;
    }
    checkLocated(p, body);
    const keep = prefixes();
    this.walkAll(p, keep);

    // Determinism (the RIB interns by attrKey/attrHash).
    const locAction = p.action;
    const key = Buffer.from(p.attrKey);
    const hash = p.attrHash;
    this.locate(body, ctx, this.again);
    check(this.again.action === locAction && this.again.attrHash === hash && this.again.attrKey.equals(key), 'locate is not deterministic');

    const attrs = this.decode(p, ctx);
    checkResult(p, body, 'decode');
    check(attrs !== null && p.attrs === attrs, 'decodeAttributes returned null without an error');
    check(p.action >= locAction, 'decodeAttributes lowered the action');
    checkAttrs(attrs, ctx);
    if (p.action >= UpdateAction.TREAT_AS_WITHDRAW) c.treatAsWithdraw++;
    else c.clean++;

    // RFC 4271 §6.3 / RFC 7606 §3.d, RFC 4760 §3: announcing without the well-known
    // mandatory attributes (NEXT_HOP only for classic NLRI) is a withdrawal.
    const announces = p.nlriCount > 0 || (p.mpReach !== null && p.mpReach.count > 0);
    if (announces && (!p.has(1) || !p.has(2) || (p.nlriCount > 0 && !p.has(3)))) {
      check(p.action >= UpdateAction.TREAT_AS_WITHDRAW, 'a well-known mandatory attribute is missing but the UPDATE is accepted');
    }
    if (p.attrsComplete) this.duplicateCheck(body, ctx, p, attrs);
    if (locAction < UpdateAction.TREAT_AS_WITHDRAW && p.withdrawnEnd > 2) this.internCheck(body, ctx, p, key, hash, attrs);
    this.withdrawRoundTrip(ctx, keep.withdrawn);
    if (p.action <= UpdateAction.ATTRIBUTE_DISCARD && p.endOfRib === null) this.announceRoundTrip(ctx, p, attrs, keep.announced);
  }

  /**
   * RFC 7606 §3.g: all but the first occurrence of a repeated attribute are discarded.
   * The attribute section is walked here, independently of locate: the repeats must be
   * counted, and the UPDATE with them cut out must decode to the same set and action.
   */
  private duplicateCheck(body: Buffer, ctx: UpdateContext, p: ParsedUpdate, attrs: PathAttributes): void {
    const firsts: Buffer[] = [];
    const seen = new Uint8Array(256);
    let repeats = 0;
    for (let q = p.attrStart; q < p.attrEnd; ) {
      const ext = (body[q]! & 0x10) !== 0;
      const len = ext ? (body[q + 2]! << 8) | body[q + 3]! : body[q + 2]!;
      const end = q + (ext ? 4 : 3) + len;
      const type = body[q + 1]!;
      if (seen[type] === 1) repeats++;
      else {
        seen[type] = 1;
        firsts.push(body.subarray(q, end));
      }
      q = end;
    }
    check(p.duplicates === repeats, () => `${repeats} repeated attributes, locate counted ${p.duplicates}`);
    if (repeats === 0) return;
    this.counters.duplicateChecks++;
    const section = Buffer.concat(firsts);
    const alen = Buffer.of(section.length >>> 8, section.length & 0xff);
    const deduped = Buffer.concat([body.subarray(0, p.withdrawnEnd), alen, section, body.subarray(p.attrEnd)]);
    const q = this.locate(deduped, ctx, this.again);
    check(q.duplicates === 0, 'repeats remain after removing them');
    const a2 = this.decode(q, ctx);
    check(q.action === p.action, () => `repeated attributes change the action: ${p.action} with, ${q.action} without\n${p.reason} / ${q.reason}`);
    check(isDeepStrictEqual(a2, attrs), () => `repeated attributes change the decoded set: ${describeDiff(attrs, a2 ?? attrs)}`);
  }

  /** The same UPDATE without its withdrawn routes has the same key and decodes the same. */
  private internCheck(body: Buffer, ctx: UpdateContext, p: ParsedUpdate, key: Buffer, hash: number, attrs: PathAttributes): void {
    this.counters.internChecks++;
    const stripped = Buffer.concat([Buffer.of(0, 0), body.subarray(p.withdrawnEnd)]);
    const q = this.locate(stripped, ctx, this.again);
    check(q.error === null && q.action < UpdateAction.TREAT_AS_WITHDRAW, 'removing the withdrawn routes changed the locate result');
    check(q.attrHash === hash && q.attrKey.equals(key), 'removing the withdrawn routes changed the intern key');
    const a2 = this.decode(q, ctx);
    check(q.action === p.action && isDeepStrictEqual(a2, attrs), 'same intern key, different decoded attributes or action');
  }

  private encodeCtx(ctx: UpdateContext): ReturnType<typeof encodeContext> {
    return encodeContext({ fourOctetAs: ctx.fourOctetAs, addPathTx: ctx.addPathRx, maxLength: 65535 });
  }

  /** Withdrawn prefixes (classic and MP_UNREACH) re-encoded and read back. */
  private withdrawRoundTrip(ctx: UpdateContext, list: PrefixList): void {
    for (const afi of [Afi.IPV4, Afi.IPV6]) {
      const xs = afi === Afi.IPV6 ? list.v6 : list.v4;
      if (xs.length === 0) continue;
      const msgs = this.stopwatch.time(() => packWithdrawals(toBatch(afi, list), this.encodeCtx(ctx)));
      const back = prefixes();
      for (const m of msgs) {
        const q = this.locate(m.subarray(19), ctx, this.scratch);
        check(q.action === UpdateAction.NONE, () => `re-encoded withdrawal: action ${q.action}\n${q.reason}`);
        this.walkAll(q, back);
      }
      const got = afi === Afi.IPV6 ? back.withdrawn.v6 : back.withdrawn.v4;
      check(sameNumbers(got, xs), () => `withdrawal round trip changed the prefixes\n${xs.length} numbers in, ${got.length} out`);
    }
  }

  /** A clean UPDATE re-encoded with the same session settings decodes to the same thing. */
  private announceRoundTrip(ctx: UpdateContext, p: ParsedUpdate, attrs: PathAttributes, list: PrefixList): void {
    const r = p.mpReach;
    let afi: number;
    let expected: PathAttributes;
    if (r === null && p.nlriCount > 0) {
      afi = Afi.IPV4;
      expected = attrs;
    } else if (r !== null && r.supported && r.afi === Afi.IPV6 && r.count > 0 && p.nlriCount === 0) {
      // MP-only UPDATEs are written without NEXT_HOP (RFC 4760 §3).
      afi = Afi.IPV6;
      expected = { ...attrs, nextHop: undefined };
    } else {
      return;
    }
    const c = this.counters;
    let msgs: Buffer[];
    try {
      msgs = this.stopwatch.time(() => packUpdates(attrs, toBatch(afi, list), this.encodeCtx(ctx)));
    } catch (e) {
      if (e instanceof RangeError && /no room/.test(e.message)) {
        c.roundTripSkipped++;
        return;
      }
      throw e;
    }
    c.roundTrips++;
    const dropAsPath = !ctx.fourOctetAs && (hasInnerConfed(attrs.asPath) || as4PathLostToAggregator(attrs));
    if (dropAsPath) c.asPathNotComparable++;
    const want = normalised(expected, dropAsPath);
    const back = prefixes();
    for (const m of msgs) {
      const q = this.locate(m.subarray(19), ctx, this.scratch);
      const a2 = this.decode(q, ctx);
      check(q.action === UpdateAction.NONE, () => `re-encoded UPDATE: action ${q.action}\n${q.reason}`);
      const got = normalised(a2!, dropAsPath);
      check(isDeepStrictEqual(got, want), () => `round trip changed the attributes: ${describeDiff(want, got)}`);
      this.walkAll(q, back);
    }
    const xs = afi === Afi.IPV6 ? list.v6 : list.v4;
    const got = afi === Afi.IPV6 ? back.announced.v6 : back.announced.v4;
    check(sameNumbers(got, xs), () => `announce round trip changed the prefixes\n${xs.length} numbers in, ${got.length} out`);
  }
}

/** The differing fields on the first line (the finding's signature), the values after. */
function describeDiff(a: PathAttributes, b: PathAttributes): string {
  const keys = Object.keys(a) as (keyof PathAttributes)[];
  const diff = keys.filter((k) => !isDeepStrictEqual(a[k], b[k]));
  const show = (v: unknown): string =>
    JSON.stringify(v, (_k, x: unknown) =>
      Buffer.isBuffer(x) ? x.toString('hex') : x instanceof Uint32Array ? [...x] : (x as { type?: string; data?: number[] })?.type === 'Buffer' ? Buffer.from((x as { data: number[] }).data).toString('hex') : x,
    );
  return `${diff.join(', ')}\n${diff.map((k) => `${k}: ${show(a[k])} → ${show(b[k])}`).join('; ')}`;
}
