// Target 1: a byte stream through the Framer and decodeMessage, as a session reads it.
// Oracles:
//   - only BgpError escapes, with a registered (code, subcode) and the data RFC 4271
//     §6.1 asks for; after a header error the framer keeps throwing that same error;
//   - every frame is an exact slice of the stream (marker, length, type, body) and
//     stays intact after later pushes; the framer stops exactly where the header check
//     fails or the bytes run out; `buffered` counts what is left;
//   - split invariance: the stream pushed whole and pushed in odd chunks gives the same
//     frames and the same error;
//   - round trips: a decoded OPEN / NOTIFICATION / ROUTE-REFRESH re-encoded with the
//     project's encoder decodes to the same value; UPDATE bodies go through the UPDATE
//     target's checks (4-octet iBGP context).
// Each input runs twice: starting at 4096 bytes and raising the limit to 65535 after an
// OPEN offering extended messages (as a session does), and at 65535 from the start.
import { isDeepStrictEqual } from 'node:util';
import { BgpError } from '../../src/wire/errors.js';
import { Framer } from '../../src/wire/framer.js';
import { checkHeader } from '../../src/wire/header.js';
import { fnv1a } from '../../src/wire/attrs/hash.js';
import { MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN } from '../../src/wire/iana.js';
import { decodeMessage, type BgpMessage } from '../../src/wire/message.js';
import { decodeNotification, describeNotification, encodeNotification } from '../../src/wire/notification.js';
import { decodeOpen, encodeOpen } from '../../src/wire/open.js';
import { decodeRouteRefresh, encodeRouteRefresh } from '../../src/wire/route-refresh.js';
import type { Target } from '../engine.js';
import { streamLayout } from '../layout.js';
import type { Layout } from '../mutate.js';
import { catchBgp, check, checkBgpError, OracleViolation } from '../oracle.js';
import { Rng } from '../rng.js';
import { Stopwatch } from '../stopwatch.js';
import { encodedControlMessages } from '../seeds.js';
import { mutateStream } from '../struct/stream-model.js';
import { UPDATE_CONTEXTS, UpdateTarget } from './update.js';

const HEADER_LEN = 19;
/** A stream of a few whole messages; large enough for several extended messages. */
export const STREAM_MAX = 3 * (MAX_EXTENDED_MESSAGE_LEN + 1);

interface Outcome {
  frames: { type: number; body: Buffer }[];
  error: BgpError | undefined;
  consumed: number;
  buffered: number;
}

export interface StreamCounters {
  frames: number;
  opens: number;
  openRoundTrips: number;
  notifications: number;
  refreshes: number;
  updates: number;
  decodeErrors: number;
  headerErrors: number;
}

export class StreamTarget implements Target {
  readonly name = 'stream';
  readonly maxLen = STREAM_MAX;
  readonly stopwatch = new Stopwatch();
  readonly counters: StreamCounters = {
    frames: 0,
    opens: 0,
    openRoundTrips: 0,
    notifications: 0,
    refreshes: 0,
    updates: 0,
    decodeErrors: 0,
    headerErrors: 0,
  };
  private readonly updates = new UpdateTarget(() => [], [UPDATE_CONTEXTS[0]!]);
  private readonly library = encodedControlMessages();
  private readonly seedList: () => Buffer[];

  constructor(seeds: () => Buffer[]) {
    this.seedList = seeds;
  }

  seeds(): Buffer[] {
    return this.seedList();
  }

  layout(input: Buffer): Layout {
    return streamLayout(input);
  }

  mutate(input: Buffer, rng: Rng, other: Buffer): Buffer | undefined {
    return mutateStream(input, rng, other, this.maxLen, this.library);
  }

  run(input: Buffer): void {
    this.updates.stopwatch.reset();
    try {
      this.runModes(input);
    } finally {
      this.stopwatch.ms = Math.max(this.stopwatch.ms, this.updates.stopwatch.ms);
    }
  }

  private runModes(input: Buffer): void {
    for (const extendedFromStart of [false, true]) {
      const whole = this.frame(input, undefined, extendedFromStart, true);
      const chunked = this.frame(input, chunkSizes(input), extendedFromStart, false);
      check(whole.consumed === chunked.consumed && whole.frames.length === chunked.frames.length, () => `chunked framing differs: ${whole.frames.length} vs ${chunked.frames.length} frames`);
      for (let i = 0; i < whole.frames.length; i++) {
        const a = whole.frames[i]!;
        const b = chunked.frames[i]!;
        check(a.type === b.type && a.body.equals(b.body), `chunked framing differs at frame ${i}`);
      }
      check(sameError(whole.error, chunked.error), () => `chunked framing error differs: ${whole.error?.message} vs ${chunked.error?.message}`);
      if (whole.error === undefined) check(chunked.buffered === whole.buffered, 'buffered differs between whole and chunked pushes');
    }
  }

  /**
   * Feeds `input` (whole, or in `chunks`) to a Framer, decoding each frame as it comes.
   * Returns the frames (bodies kept to check they survive later pushes).
   */
  private frame(input: Buffer, chunks: number[] | undefined, extendedFromStart: boolean, decode: boolean): Outcome {
    const sw = this.stopwatch;
    let max = extendedFromStart ? MAX_EXTENDED_MESSAGE_LEN : MAX_MESSAGE_LEN;
    const f = new Framer(max);
    const frames: Outcome['frames'] = [];
    let error: BgpError | undefined;
    let consumed = 0;
    let pos = 0;
    let ci = 0;
    while (pos < input.length && error === undefined) {
      const n = chunks === undefined ? input.length : Math.min(chunks[ci++ % chunks.length]!, input.length - pos);
      // A copy per chunk, as a socket gives a fresh Buffer per read: frames must survive.
      const chunk = Buffer.from(input.subarray(pos, pos + n));
      pos += n;
      sw.time(() => f.push(chunk));
      for (;;) {
        const r = catchBgp(() => sw.time(() => f.next()));
        if (r instanceof BgpError) {
          error = r;
          break;
        }
        if (r === undefined) break;
        // Each frame is the next slice of the stream.
        const len = HEADER_LEN + r.body.length;
        check(consumed + len <= input.length, 'frame past the end of the stream');
        check(input[consumed + 18] === r.type && ((input[consumed + 16]! << 8) | input[consumed + 17]!) === len, 'frame header does not match the stream');
        check(input.subarray(consumed + HEADER_LEN, consumed + len).equals(r.body), 'frame body is not the stream slice');
        check(len <= max, `frame of ${len} bytes above the limit ${max}`);
        // RFC 4271 §4.4: a KEEPALIVE is the header alone; RFC 8654 §3: OPEN stays within 4096.
        check(r.type !== 4 || len === HEADER_LEN, 'KEEPALIVE frame with a body');
        check(r.type !== 1 || len <= MAX_MESSAGE_LEN, 'OPEN frame above 4096 bytes');
        consumed += len;
        frames.push({ type: r.type, body: r.body });
        // The chunked run decodes only OPENs, which can raise the limit.
        let msg: BgpMessage | undefined;
        if (decode) msg = this.decodeFrame(r.type, r.body, max);
        else if (r.type === 1) {
          const d = catchBgp(() => sw.time(() => decodeMessage(r.type, r.body, { maxLength: max })));
          msg = d instanceof BgpError ? undefined : d;
        }
        if (msg?.type === 'open' && msg.open.capabilities.extendedMessage && max < MAX_EXTENDED_MESSAGE_LEN) {
          max = MAX_EXTENDED_MESSAGE_LEN;
          f.setMaxLength(max);
        }
      }
    }
    // Where it stopped must be explained by the bytes there.
    const rest = input.length - consumed;
    if (error !== undefined) {
      this.counters.headerErrors++;
      check(rest >= HEADER_LEN, 'header error with fewer than 19 bytes left');
      const again = catchBgp(() => checkHeader(input, consumed, max));
      check(again instanceof BgpError && sameError(again, error), 'framer error is not the header check of the next message');
      // The stream is unusable from now on: the same error again, on pull and on push.
      let same = false;
      try {
        f.next();
      } catch (e) {
        same = e === error;
      }
      check(same, 'framer did not repeat its error');
      try {
        f.push(Buffer.of(0));
        throw new OracleViolation('push after a header error did not throw');
      } catch (e) {
        if (e instanceof OracleViolation) throw e;
        check(e === error, 'push after a header error threw something else');
      }
    } else {
      check(f.buffered === rest, () => `buffered ${f.buffered}, ${rest} bytes left`);
      if (rest >= HEADER_LEN) {
        const len = catchBgp(() => checkHeader(input, consumed, max));
        check(typeof len === 'number' && len > rest, 'framer waits although a whole valid message is there');
      }
    }
    // Bodies must still be what they were (no buffer reuse under a returned frame).
    let off = 0;
    for (const fr of frames) {
      check(input.subarray(off + HEADER_LEN, off + HEADER_LEN + fr.body.length).equals(fr.body), 'a frame body changed after later pushes');
      off += HEADER_LEN + fr.body.length;
    }
    return { frames, error, consumed, buffered: f.buffered };
  }

  private decodeFrame(type: number, body: Buffer, max: number): BgpMessage | undefined {
    const c = this.counters;
    c.frames++;
    const sw = this.stopwatch;
    const r = catchBgp(() => sw.time(() => decodeMessage(type, body, { maxLength: max })));
    if (r instanceof BgpError) {
      c.decodeErrors++;
      return undefined;
    }
    switch (r.type) {
      case 'open': {
        c.opens++;
        const o = r.open;
        check(o.version === 4 && o.myAs !== 0 && o.bgpId !== 0 && o.holdTime !== 1 && o.holdTime !== 2, 'decodeOpen accepted an OPEN validateOpen refuses');
        let wire: Buffer | undefined;
        try {
          wire = sw.time(() => encodeOpen(o));
        } catch (e) {
          if (!(e instanceof RangeError && /OPEN too long/.test(e.message))) throw e;
        }
        if (wire !== undefined) {
          c.openRoundTrips++;
          const back = catchBgp(() => sw.time(() => decodeOpen(wire.subarray(HEADER_LEN))));
          check(!(back instanceof BgpError), () => `re-encoded OPEN does not decode: ${(back as BgpError).message}`);
          check(isDeepStrictEqual(back, o), 'OPEN round trip changed the message');
        }
        break;
      }
      case 'notification': {
        c.notifications++;
        const n = r.notification;
        const back = sw.time(() => {
          check(typeof describeNotification(n) === 'string', 'describeNotification');
          return decodeNotification(encodeNotification(n, MAX_EXTENDED_MESSAGE_LEN).subarray(HEADER_LEN));
        });
        check(isDeepStrictEqual(back, n), 'NOTIFICATION round trip changed the message');
        break;
      }
      case 'route-refresh': {
        c.refreshes++;
        const x = r.refresh;
        const back = sw.time(() => decodeRouteRefresh(encodeRouteRefresh(x.afi, x.safi, x.subtype).subarray(HEADER_LEN)));
        check(isDeepStrictEqual(back, x), 'ROUTE-REFRESH round trip changed the message');
        break;
      }
      case 'update':
        c.updates++;
        check(r.body === body, 'UPDATE body is not passed through');
        this.updates.run(body);
        break;
      default:
        break;
    }
    return r;
  }
}

function sameError(a: BgpError | undefined, b: BgpError | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.code !== b.code || a.subcode !== b.subcode) return false;
  if (!a.data.equals(b.data)) return false;
  checkBgpError(a);
  return true;
}

/** Deterministic odd chunk sizes derived from the input (tiny, medium, header-splitting). */
function chunkSizes(input: Buffer): number[] {
  const rng = new Rng(fnv1a(input, 0, Math.min(input.length, 64)) ^ input.length);
  const out: number[] = [];
  for (let i = 0; i < 16; i++) {
    const k = rng.below(4);
    out.push(k === 0 ? rng.range(1, 3) : k === 1 ? rng.range(4, 20) : k === 2 ? rng.range(21, 200) : rng.range(201, 5000));
  }
  return out;
}
