// An in-memory stand-in for a connected TCP socket pair, for tests of backpressure and
// of the send hold timer: what one end writes arrives at the other, unless the writing
// end is stalled, in which case its first chunk is held unacknowledged and later writes
// pile up in Node's write queue, exactly as with a peer whose TCP window is closed.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export class FakeSocket extends Duplex {
  /** The other end; set by socketPair. */
  other: FakeSocket | undefined = undefined;
  /** Hold what is written (the peer stopped reading). */
  stalled = false;
  /** Bytes that reached the other end. */
  delivered = 0;
  private held: Array<{ chunk: Buffer; cb: (e?: Error | null) => void }> = [];

  constructor(
    readonly localAddress: string,
    readonly remoteAddress: string,
  ) {
    super({ allowHalfOpen: false });
  }

  /** As net.Socket (Peer calls it). */
  setNoDelay(): this {
    return this;
  }

  /** The same object, typed as what Peer.acceptIncoming takes. */
  get asSocket(): Socket {
    return this as unknown as Socket;
  }

  override _read(): void {
    // Data is pushed by the other end.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.stalled) {
      this.held.push({ chunk, cb });
      return;
    }
    this.pass(chunk);
    cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.other?.push(null);
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.held = [];
    if (this.other && !this.other.destroyed) this.other.destroy();
    cb(err);
  }

  /** The peer reads again: what was held goes through, then the rest of the queue. */
  unstall(): void {
    this.stalled = false;
    const held = this.held;
    this.held = [];
    for (const h of held) {
      this.pass(h.chunk);
      h.cb();
    }
  }

  private pass(chunk: Buffer): void {
    if (!this.other || this.other.destroyed) return;
    this.delivered += chunk.length;
    this.other.push(chunk);
  }
}

/** Two connected ends: `a` at addressA talking to `b` at addressB. */
export function socketPair(addressA: string, addressB: string): [FakeSocket, FakeSocket] {
  const a = new FakeSocket(addressA, addressB);
  const b = new FakeSocket(addressB, addressA);
  a.other = b;
  b.other = a;
  return [a, b];
}
