// Whole BGP messages packed back to back into large Buffers, so a full table is a few
// dozen socket writes instead of a million, and memory is a few large slabs rather
// than one Buffer object per message.
import { HEADER_LEN } from '../../src/wire/iana.js';

/** 1 MiB: large enough to amortise write() calls, small enough to keep backpressure responsive. */
export const CHUNK_SIZE = 1 << 20;

export class ChunkWriter {
  readonly chunks: Buffer[] = [];
  messages = 0;
  bytes = 0;
  private buf: Buffer;
  private pos = 0;
  private readonly size: number;

  constructor(size = CHUNK_SIZE) {
    this.size = size;
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Appends one whole message (header included). */
  add(msg: Uint8Array): void {
    if (this.pos + msg.length > this.buf.length) {
      this.flush();
      if (msg.length > this.buf.length) this.buf = Buffer.allocUnsafe(msg.length);
    }
    this.buf.set(msg, this.pos);
    this.pos += msg.length;
    this.messages++;
    this.bytes += msg.length;
  }

  addAll(msgs: readonly Uint8Array[]): void {
    for (const m of msgs) this.add(m);
  }

  /** Closes the current chunk (if it holds anything) and returns it, else undefined. */
  flush(): Buffer | undefined {
    if (this.pos === 0) return undefined;
    const done = this.buf.subarray(0, this.pos);
    this.chunks.push(done);
    this.buf = Buffer.allocUnsafe(this.size);
    this.pos = 0;
    return done;
  }

  /** Takes the chunks completed so far (for generators that yield as they go). */
  take(): Buffer[] {
    return this.chunks.splice(0, this.chunks.length);
  }

  finish(): Buffer[] {
    this.flush();
    return this.take();
  }
}

/**
 * Calls `fn(chunk, start, length)` for every message in `chunks` (start = the header's
 * offset). The chunks must hold whole messages, as ChunkWriter makes them.
 */
export function forEachMessage(
  chunks: readonly Buffer[],
  fn: (chunk: Buffer, start: number, length: number) => void,
): void {
  for (const c of chunks) {
    let p = 0;
    while (p + HEADER_LEN <= c.length) {
      const len = (c[p + 16]! << 8) | c[p + 17]!;
      if (len < HEADER_LEN || p + len > c.length) throw new RangeError(`broken message at offset ${p}`);
      fn(c, p, len);
      p += len;
    }
    if (p !== c.length) throw new RangeError('chunk ends inside a message');
  }
}

/** Total bytes of a list of chunks. */
export function totalBytes(chunks: readonly Buffer[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}
