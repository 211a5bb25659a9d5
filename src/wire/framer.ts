// Stream → whole BGP messages. Pure: the transport pushes chunks, the session pulls frames.
import { BgpError } from './errors.js';
import { checkHeader, headerType } from './header.js';
import { HEADER_LEN, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, type MsgType } from './iana.js';

/** One whole message: its header is already checked and stripped. */
export interface Frame {
  readonly type: MsgType;
  /**
   * The message body. A view into the pushed chunk when the message sits inside one
   * chunk, else a buffer of its own; either way it stays valid after later pushes.
   */
  readonly body: Buffer;
}

/**
 * Pull-based framer. `push(chunk)` then call `next()` until it returns undefined.
 * Frames are cut one at a time, so `setMaxLength` called after handling the OPEN
 * applies to the very next message even when it came in the same chunk.
 *
 * Copies happen only for a message that spans chunks (into one buffer of its exact
 * size) and for a header split across chunks (into a 19-byte scratch).
 * After a bad header every call throws the same BgpError: the stream is unusable.
 */
export class Framer {
  private maxLength: number;
  private chunk: Buffer;
  private pos: number;
  /** Header bytes of a message whose header spans chunks. */
  private readonly head: Buffer;
  private headFill: number;
  /** A message that spans chunks, header included, and how much of it we have. */
  private partial: Buffer | undefined;
  private partialFill: number;
  private failed: BgpError | undefined;

  constructor(maxLength: number = MAX_MESSAGE_LEN) {
    this.maxLength = checkMax(maxLength);
    this.chunk = Buffer.alloc(0);
    this.pos = 0;
    this.head = Buffer.alloc(HEADER_LEN);
    this.headFill = 0;
    this.partial = undefined;
    this.partialFill = 0;
    this.failed = undefined;
  }

  /** Raise (or lower) the largest accepted length, e.g. to 65535 after RFC 8654 negotiation. */
  setMaxLength(n: number): void {
    this.maxLength = checkMax(n);
  }

  /** Bytes received but not yet returned as a frame. */
  get buffered(): number {
    return this.headFill + this.partialFill + (this.chunk.length - this.pos);
  }

  /** Adds a chunk. Frames from earlier chunks not yet pulled are kept. */
  push(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return;
    if (this.pos < this.chunk.length) {
      // The caller pushed before draining: keep the unread tail in front (rare path).
      this.chunk = Buffer.concat([this.chunk.subarray(this.pos), chunk]);
    } else {
      this.chunk = chunk;
    }
    this.pos = 0;
  }

  /** The next whole message, or undefined when more bytes are needed. Throws BgpError on a bad header. */
  next(): Frame | undefined {
    if (this.failed) throw this.failed;
    try {
      return this.cut();
    } catch (e) {
      if (e instanceof BgpError) this.failed = e;
      throw e;
    }
  }

  /** Convenience: push a chunk and yield every whole message it completes. */
  *feed(chunk: Buffer): Generator<Frame, void, undefined> {
    this.push(chunk);
    for (let f = this.next(); f !== undefined; f = this.next()) yield f;
  }

  private cut(): Frame | undefined {
    const chunk = this.chunk;
    const avail = chunk.length - this.pos;

    if (this.partial !== undefined) {
      const p = this.partial;
      const n = Math.min(avail, p.length - this.partialFill);
      chunk.copy(p, this.partialFill, this.pos, this.pos + n);
      this.partialFill += n;
      this.pos += n;
      if (this.partialFill < p.length) return undefined;
      this.partial = undefined;
      this.partialFill = 0;
      return { type: headerType(p, 0), body: p.subarray(HEADER_LEN) };
    }

    if (this.headFill > 0) {
      const n = Math.min(avail, HEADER_LEN - this.headFill);
      chunk.copy(this.head, this.headFill, this.pos, this.pos + n);
      this.headFill += n;
      this.pos += n;
      if (this.headFill < HEADER_LEN) return undefined;
      this.headFill = 0;
      const len = checkHeader(this.head, 0, this.maxLength);
      const type = headerType(this.head, 0);
      if (len === HEADER_LEN) return { type, body: EMPTY_BODY };
      this.partial = Buffer.allocUnsafe(len);
      this.head.copy(this.partial, 0);
      this.partialFill = HEADER_LEN;
      return this.cut();
    }

    if (avail === 0) return undefined;
    if (avail < HEADER_LEN) {
      chunk.copy(this.head, 0, this.pos);
      this.headFill = avail;
      this.pos = chunk.length;
      return undefined;
    }

    const start = this.pos;
    const len = checkHeader(chunk, start, this.maxLength);
    const type = headerType(chunk, start);
    if (avail >= len) {
      this.pos = start + len;
      return { type, body: chunk.subarray(start + HEADER_LEN, start + len) };
    }
    // Spans chunks: copy what we have into a buffer of the exact message size.
    const p = Buffer.allocUnsafe(len);
    chunk.copy(p, 0, start);
    this.partial = p;
    this.partialFill = avail;
    this.pos = chunk.length;
    return undefined;
  }
}

const EMPTY_BODY: Buffer = Buffer.alloc(0);

function checkMax(n: number): number {
  if (!Number.isInteger(n) || n < MAX_MESSAGE_LEN || n > MAX_EXTENDED_MESSAGE_LEN) {
    throw new RangeError(`max message length must be ${MAX_MESSAGE_LEN}..${MAX_EXTENDED_MESSAGE_LEN}, got ${n}`);
  }
  return n;
}
