// One buffer of route and nexthop messages sent together, and what each
// message was for, so answers (by sequence number) map back to their prefix.
import type { Family } from './ip.js';
import type { NhOp } from './nexthops.js';
import { NlEncoder, type NlError, RouteWords } from './netlink/codec.js';
import type { BatchHandler } from './netlink/socket.js';

export const Kind = { ADD: 1, REPLACE: 2, DELETE: 3, NH_ADD: 4, NH_DEL: 5, STALE_DEL: 6, PROBE: 7 } as const;

/** A route of ours under an old metric, found by a dump: deleted as is. */
export interface StaleRoute {
  readonly family: Family;
  readonly addr: Uint8Array;
  readonly plen: number;
  readonly metric: number;
}

export interface BatchOwner {
  batchDone(b: WriteBatch): void;
  batchLost(b: WriteBatch, errno: number): void;
}

/** What every route message of ours carries (Fib's ownership key). */
export interface RouteKey {
  readonly table: number;
  readonly protocol: number;
  readonly metric: number;
}

export class WriteBatch implements BatchHandler {
  readonly enc: NlEncoder;
  /** Route messages straight into enc's buffer. */
  readonly routes: RouteWords;
  firstSeq = 0;
  lastSeq = 0;
  markerSeq = 0;
  count = 0;
  /** The kernel is done reading the buffer (its send returned, or its marker was answered). */
  sent = true;
  /** Counts the buffer's sends: a late send callback of an earlier use is recognised. */
  gen = 0;
  /** The kernel's answers are in (or were given up on). */
  answered = true;
  /** Per op: table entry id (-1 for nexthop and stale ops), Kind, form id, errno (0 = fine). */
  readonly entry: Int32Array;
  readonly kind: Uint8Array;
  readonly form: Int32Array;
  readonly err: Int32Array;
  /** Kernel messages of errors, by op index (rare). */
  readonly msgs = new Map<number, string>();
  /** Nexthop and stale-route ops, by op index (rare). */
  readonly extra = new Map<number, NhOp | StaleRoute>();

  constructor(
    private readonly owner: BatchOwner,
    bytes: number,
    readonly maxOps: number,
    key: RouteKey,
  ) {
    this.enc = new NlEncoder(bytes);
    this.routes = new RouteWords(this.enc, key.table, key.protocol, key.metric);
    this.entry = new Int32Array(maxOps);
    this.kind = new Uint8Array(maxOps);
    this.form = new Int32Array(maxOps);
    this.err = new Int32Array(maxOps);
  }

  reset(firstSeq: number): void {
    this.enc.reset();
    this.firstSeq = firstSeq;
    this.count = 0;
    this.msgs.clear();
    this.extra.clear();
  }

  onError(seq: number, e: NlError): void {
    const i = seq - this.firstSeq;
    if (i < 0 || i >= this.count) return;
    this.err[i] = e.errno;
    if (e.message) this.msgs.set(i, e.message);
  }

  onDone(): void {
    this.owner.batchDone(this);
  }

  onLost(errno: number): void {
    this.owner.batchLost(this, errno);
  }
}
