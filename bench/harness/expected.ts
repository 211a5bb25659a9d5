// What a receiver's RIB must hold once a feed has been applied: the feed's messages are
// replayed into a prefix set (withdrawals remove, announcements add, RFC 7606/7607
// treat-as-withdraw removes), so the expected count does not trust the table's own
// bookkeeping. The resulting prefixes are also what the kernel floor inserts.
// Setup code, run once per bench: plain Sets are fine here.
import { writeFileSync } from 'node:fs';
import { UpdateAction } from '../../src/wire/errors.js';
import { Afi, HEADER_LEN, MsgType } from '../../src/wire/iana.js';
import { NlriCursor } from '../../src/wire/nlri/prefix.js';
import { decodeAttributes, locateUpdate, ParsedUpdate, updateContext } from '../../src/wire/update.js';
import { forEachMessage } from '../feeder/chunks.js';

/** The prefixes left after a feed, in first-announced order. */
export interface FinalState {
  /** IPv4: (address >>> 0) * 64 + length. */
  readonly v4: Set<number>;
  /** IPv6: "w0,w1,w2,w3,length" (words unsigned). */
  readonly v6: Set<string>;
  /** UPDATEs whose routes became withdrawals (RFC 7606 treat-as-withdraw, e.g. AS 0 in the path). */
  readonly treatAsWithdraw: number;
  /** UPDATEs whose AS_PATH holds the receiver's AS: it drops them (RFC 4271 §9.1.2) and with them its earlier route. */
  readonly loops: number;
  /** UPDATEs the codec refused (a receiver would reset the session). */
  readonly broken: number;
}

/**
 * Replays announce (and withdraw) messages from `chunks`, sent by `peerAs` to a receiver
 * in `receiverAs` (0: no loop check), into `state` (or a new one).
 */
export function applyFeed(chunks: readonly Buffer[], peerAs: number, receiverAs: number, state?: FinalState): FinalState {
  const s: { -readonly [K in keyof FinalState]: FinalState[K] } = state
    ? { v4: state.v4, v6: state.v6, treatAsWithdraw: state.treatAsWithdraw, loops: state.loops, broken: state.broken }
    : { v4: new Set(), v6: new Set(), treatAsWithdraw: 0, loops: 0, broken: 0 };
  const ctx = updateContext({ ebgp: true, peerAs });
  const p = new ParsedUpdate();
  const c = new NlriCursor();
  const walk = (buf: Buffer, start: number, end: number, afi: number, add: boolean): void => {
    c.reset(buf, start, end, afi, false);
    if (afi === Afi.IPV6) {
      while (c.next()) {
        const k = `${c.w0 >>> 0},${c.w1 >>> 0},${c.w2 >>> 0},${c.w3 >>> 0},${c.length}`;
        if (add) s.v6.add(k);
        else s.v6.delete(k);
      }
    } else {
      while (c.next()) {
        const k = (c.addr >>> 0) * 64 + c.length;
        if (add) s.v4.add(k);
        else s.v4.delete(k);
      }
    }
  };
  forEachMessage(chunks, (chunk, start, len) => {
    if (chunk[start + 18] !== MsgType.UPDATE) return;
    locateUpdate(chunk.subarray(start + HEADER_LEN, start + len), ctx, p);
    if (p.error !== null) {
      s.broken++;
      return;
    }
    let announce = true;
    if (p.announcedCount > 0) {
      const a = decodeAttributes(p, ctx);
      if (p.error !== null) {
        s.broken++;
        return;
      }
      if (p.action >= UpdateAction.TREAT_AS_WITHDRAW) {
        announce = false;
        s.treatAsWithdraw++;
      } else if (receiverAs !== 0 && a !== null && a.asPath.some((seg) => seg.asns.includes(receiverAs))) {
        announce = false;
        s.loops++;
      }
    }
    walk(p.buf, p.withdrawnStart, p.withdrawnEnd, Afi.IPV4, false);
    if (p.mpUnreach?.supported) walk(p.buf, p.mpUnreach.nlriStart, p.mpUnreach.nlriEnd, p.mpUnreach.afi, false);
    walk(p.buf, p.nlriStart, p.nlriEnd, Afi.IPV4, announce);
    if (p.mpReach?.supported) walk(p.buf, p.mpReach.nlriStart, p.mpReach.nlriEnd, p.mpReach.afi, announce);
  });
  return s;
}

/** Bytes per record in the prefix files: IPv4 address + length, IPv6 address + length. */
export const RECORD4 = 5;
export const RECORD6 = 17;

/** The IPv4 prefixes as records of 4 address bytes (network order) and the length. */
export function encodePrefixes4(v4: Iterable<number>, count: number): Buffer {
  const b = Buffer.alloc(count * RECORD4);
  let o = 0;
  for (const k of v4) {
    const len = k % 64;
    b.writeUInt32BE((k - len) / 64, o);
    b[o + 4] = len;
    o += RECORD4;
  }
  return b;
}

/** The IPv6 prefixes as records of 16 address bytes and the length. */
export function encodePrefixes6(v6: Iterable<string>, count: number): Buffer {
  const b = Buffer.alloc(count * RECORD6);
  let o = 0;
  for (const k of v6) {
    const [w0, w1, w2, w3, len] = k.split(',').map(Number) as [number, number, number, number, number];
    b.writeUInt32BE(w0, o);
    b.writeUInt32BE(w1, o + 4);
    b.writeUInt32BE(w2, o + 8);
    b.writeUInt32BE(w3, o + 12);
    b[o + 16] = len;
    o += RECORD6;
  }
  return b;
}

/** Writes prefixes4.bin / prefixes6.bin into `dir` (the kernel floor reads them). */
export function writePrefixFiles(state: FinalState, file4: string, file6: string): void {
  writeFileSync(file4, encodePrefixes4(state.v4, state.v4.size));
  writeFileSync(file6, encodePrefixes6(state.v6, state.v6.size));
}
