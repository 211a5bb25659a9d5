// A NETLINK_ROUTE socket over a transport (the native addon, or the in-memory
// kernel of the dry-run backend): sequence numbers, dumps and ACKed requests as
// promises, batches of many messages whose errors map back by sequence number,
// and notifications for everything that is not an answer to us.
import { Errno, NlMsgType, NlmF, errnoName } from './constants.js';
import { NlEncoder, type NlError, checkMsg, decodeError, msgFlags, msgPid, msgSeq, msgType } from './codec.js';

export type RecvHandler = (buf: Buffer | null, errno: number) => void;

/** What a socket needs from below: the addon, or the simulator. */
export interface NlTransport {
  /** Our netlink port id: answers to us carry it in nlmsg_pid. */
  readonly portId: number;
  /** Sends synchronously; returns bytes sent or -errno. */
  send(buf: Buffer, len: number): number;
  /** Sends off the event loop (the kernel handles a big batch inside sendmsg). */
  sendAsync(buf: Buffer, len: number, cb: (res: number) => void): void;
  addMembership(group: number): number;
  /**
   * Drops route and nexthop notifications caused by socket `portId` (our own
   * writes echoed back) before they reach this socket; returns 0 or -errno.
   * Optional: without it they are received and skipped by port id.
   */
  dropEchoes?(portId: number): number;
  ref(on: boolean): void;
  close(): void;
}

export interface TransportOptions {
  /** RTMGRP_* bits for bind(). */
  readonly groups: number;
  readonly rcvbuf: number;
  readonly sndbuf: number;
  /** SockFlag bits. */
  readonly flags: number;
}

export type TransportFactory = (opts: TransportOptions, onRecv: RecvHandler) => NlTransport;

/** An error answer from the kernel, with the errno name as `code` (EEXIST, ...). */
export class NetlinkError extends Error {
  readonly code: string;
  constructor(
    readonly errno: number,
    what: string,
    readonly kernelMessage?: string,
  ) {
    super(`${what}: ${errnoName(errno)}${kernelMessage ? ` (${kernelMessage})` : ''}`);
    this.code = errnoName(errno);
  }
}

/** Callbacks of one batch of messages sent together with sendBatch(). */
export interface BatchHandler {
  /** First and last sequence number of the batch's messages (the marker excluded). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Sequence number of the trailing NOOP+ACK: its ACK ends the batch. */
  readonly markerSeq: number;
  /** An NLMSG_ERROR for one message of the batch. */
  onError(seq: number, err: NlError): void;
  /** Every message was handled by the kernel and every error was delivered. */
  onDone(): void;
  /** The batch's fate is unknown (send failed with `errno`, or answers were lost: ENOBUFS). */
  onLost(errno: number): void;
}

interface DumpReq {
  readonly onMsg: (b: Buffer, off: number, len: number) => void;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  interrupted: boolean;
}

interface AckReq {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

export interface NetlinkSocketOptions extends TransportOptions {
  /** Messages not answering us (multicast notifications). */
  readonly onNotify?: (b: Buffer, off: number, len: number) => void;
  /** The kernel dropped messages for us (ENOBUFS): state must be resynced. */
  readonly onOverflow?: () => void;
}

const SEQ_MAX = 0xffffffff;

export class NetlinkSocket {
  readonly transport: NlTransport;
  private seq = 1;
  private readonly dumps = new Map<number, DumpReq>();
  private readonly acks = new Map<number, AckReq>();
  private readonly batches: BatchHandler[] = [];
  private readonly reqEnc = new NlEncoder(4096);
  private readonly onNotify: ((b: Buffer, off: number, len: number) => void) | undefined;
  private readonly onOverflow: (() => void) | undefined;
  private closed = false;
  /** Count of ENOBUFS reports, for metrics. */
  overflows = 0;

  constructor(factory: TransportFactory, opts: NetlinkSocketOptions) {
    this.onNotify = opts.onNotify;
    this.onOverflow = opts.onOverflow;
    this.transport = factory(opts, (buf, errno) => this.receive(buf, errno));
  }

  /** Reserves `n` consecutive sequence numbers (never 0, never wrapping inside a range). */
  nextSeq(n = 1): number {
    if (this.seq + n > SEQ_MAX) this.seq = 1;
    const s = this.seq;
    this.seq += n;
    return s;
  }

  /**
   * Sends a dump request built by `build(enc, seq)`; `onMsg` sees each answer
   * message. Resolves at NLMSG_DONE; rejects on an error answer, or with code
   * EINTR when the kernel flagged the dump inconsistent (NLM_F_DUMP_INTR): retry.
   */
  dump(build: (enc: NlEncoder, seq: number) => void, onMsg: (b: Buffer, off: number, len: number) => void): Promise<void> {
    // A socket runs one dump at a time (the kernel answers EBUSY otherwise).
    const run = this.dumpTail.then(() => this.startDump(build, onMsg));
    this.dumpTail = run.catch(() => {});
    return run;
  }

  private dumpTail: Promise<void> = Promise.resolve();

  private startDump(build: (enc: NlEncoder, seq: number) => void, onMsg: (b: Buffer, off: number, len: number) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new NetlinkError(Errno.EBADF, 'socket closed'));
      const seq = this.nextSeq();
      this.reqEnc.reset();
      build(this.reqEnc, seq);
      this.dumps.set(seq, { onMsg, resolve, reject, interrupted: false });
      const r = this.sendNow(this.reqEnc.buf, this.reqEnc.pos);
      if (r < 0) {
        this.dumps.delete(seq);
        reject(new NetlinkError(-r, 'dump request'));
      }
    });
  }

  /** Sends one request built with NLM_F_ACK; resolves on its ACK, rejects with a NetlinkError. */
  request(build: (enc: NlEncoder, seq: number) => void, what = 'request'): Promise<void> {
    return new Promise((resolve, reject) => {
      const seq = this.nextSeq();
      this.reqEnc.reset();
      build(this.reqEnc, seq);
      this.acks.set(seq, {
        resolve,
        reject: (e) => reject(e instanceof NetlinkError ? new NetlinkError(e.errno, what, e.kernelMessage) : e),
      });
      const r = this.sendNow(this.reqEnc.buf, this.reqEnc.pos);
      if (r < 0) {
        this.acks.delete(seq);
        reject(new NetlinkError(-r, what));
      }
    });
  }

  /**
   * Sends `len` bytes of `buf` (messages firstSeq..lastSeq, then the NOOP+ACK
   * marker) off the event loop. `buf` must stay untouched until `sent` runs.
   */
  sendBatch(buf: Buffer, len: number, h: BatchHandler, sent: (res: number) => void): void {
    this.expect(h);
    this.transport.sendAsync(buf, len, (res) => {
      if (res < 0) {
        const i = this.batches.indexOf(h);
        if (i >= 0) {
          this.batches.splice(i, 1);
          h.onLost(-res);
        }
      }
      sent(res);
    });
  }

  /** Routes answers in h's sequence range to it, for messages the caller sends itself. */
  expect(h: BatchHandler): void {
    this.batches.push(h);
  }

  get pendingBatches(): number {
    return this.batches.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
    const err = new NetlinkError(Errno.EBADF, 'socket closed');
    for (const d of this.dumps.values()) d.reject(err);
    for (const a of this.acks.values()) a.reject(err);
    this.dumps.clear();
    this.acks.clear();
    const lost = this.batches.splice(0);
    for (const b of lost) b.onLost(Errno.EBADF);
  }

  private sendNow(buf: Buffer, len: number): number {
    if (this.closed) return -Errno.EBADF;
    return this.transport.send(buf, len);
  }

  private batchOf(seq: number): BatchHandler | undefined {
    for (const b of this.batches) if (seq >= b.firstSeq && seq <= b.markerSeq) return b;
    return undefined;
  }

  private receive(buf: Buffer | null, errno: number): void {
    if (this.closed) return;
    if (buf) this.dispatch(buf);
    if (errno === Errno.ENOBUFS) {
      this.overflows++;
      // Answers may be among what was dropped: no batch can be trusted to finish.
      const lost = this.batches.splice(0);
      for (const b of lost) b.onLost(Errno.ENOBUFS);
      this.onOverflow?.();
    }
  }

  private dispatch(b: Buffer): void {
    const end = b.length;
    const me = this.transport.portId;
    let off = 0;
    while (off < end) {
      const len = checkMsg(b, off, end);
      if (len === 0) break;
      if (msgPid(b, off) === me && msgSeq(b, off) !== 0) this.answer(b, off, len);
      else this.onNotify?.(b, off, len);
      off += (len + 3) & ~3;
    }
  }

  private answer(b: Buffer, off: number, len: number): void {
    const seq = msgSeq(b, off);
    const type = msgType(b, off);
    if (type === NlMsgType.ERROR) {
      const e = decodeError(b, off, len);
      if (!e) return;
      const d = this.dumps.get(seq);
      if (d) {
        this.dumps.delete(seq);
        d.reject(new NetlinkError(e.errno || Errno.EINVAL, 'dump', e.message));
        return;
      }
      const a = this.acks.get(seq);
      if (a) {
        this.acks.delete(seq);
        if (e.errno === 0) a.resolve();
        else a.reject(new NetlinkError(e.errno, 'request', e.message));
        return;
      }
      const h = this.batchOf(seq);
      if (!h) return; // a batch given up after ENOBUFS
      if (seq === h.markerSeq) {
        this.batches.splice(this.batches.indexOf(h), 1);
        h.onDone();
      } else if (e.errno !== 0) {
        h.onError(seq, e);
      }
      return;
    }
    const d = this.dumps.get(seq);
    if (!d) return;
    if (msgFlags(b, off) & NlmF.DUMP_INTR) d.interrupted = true;
    if (type === NlMsgType.DONE) {
      this.dumps.delete(seq);
      const err = len >= 20 ? -b.readInt32LE(off + 16) : 0;
      if (err > 0) d.reject(new NetlinkError(err, 'dump'));
      else if (d.interrupted) d.reject(new NetlinkError(Errno.EINTR, 'dump interrupted'));
      else d.resolve();
      return;
    }
    d.onMsg(b, off, len);
  }
}
