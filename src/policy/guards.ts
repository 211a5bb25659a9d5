// Import guards: prefixes a node must never learn, whatever its import rules say.
//   - its own prefixes (pod CIDRs, advertised service prefixes): a learned route equal
//     to or more specific than one would steal the node's own traffic;
//   - prefixes equal to or inside a directly connected subnet: a route to a neighbour
//     via the neighbour loops.
// Shared by every import filter of the node; the daemon replaces the lists when the
// configuration or the interfaces change and then re-evaluates (see `version`).
import { PrefixSet, type PrefixLike } from './prefix-set.js';

/** What a guard check found. */
export const GuardHit = { NONE: 0, OWN: 1, CONNECTED: 2 } as const;
export type GuardHit = (typeof GuardHit)[keyof typeof GuardHit];

export class ImportGuards {
  private own: PrefixSet;
  private connected: PrefixSet;
  /** Bumped by every set*: routes evaluated under an older version need re-evaluation. */
  version = 0;

  constructor(own: readonly PrefixLike[] = [], connected: readonly PrefixLike[] = []) {
    this.own = new PrefixSet(own);
    this.connected = new PrefixSet(connected);
  }

  /** The node's pod CIDRs and advertised service prefixes. Throws RangeError on bad input. */
  setOwn(list: readonly PrefixLike[]): void {
    this.own = new PrefixSet(list);
    this.version++;
  }

  /** Subnets of the node's interface addresses (host bits are ignored). Throws RangeError on bad input. */
  setConnected(list: readonly PrefixLike[]): void {
    this.connected = new PrefixSet(list);
    this.version++;
  }

  get ownCount(): number {
    return this.own.size;
  }

  get connectedCount(): number {
    return this.connected.size;
  }

  checkV4(addr: number, len: number): GuardHit {
    if (this.own.containsV4(addr, len)) return GuardHit.OWN;
    if (this.connected.containsV4(addr, len)) return GuardHit.CONNECTED;
    return GuardHit.NONE;
  }

  checkV6(w0: number, w1: number, w2: number, w3: number, len: number): GuardHit {
    if (this.own.containsV6(w0, w1, w2, w3, len)) return GuardHit.OWN;
    if (this.connected.containsV6(w0, w1, w2, w3, len)) return GuardHit.CONNECTED;
    return GuardHit.NONE;
  }
}
